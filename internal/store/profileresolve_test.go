package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// TestResolveProfilesWrites pins what a pass asks its backend to write: the
// set-based statements depend on it, and a pass that changes nothing must
// write nothing.
func TestResolveProfilesWrites(t *testing.T) {
	t.Parallel()

	now := time.Date(2026, 11, 30, 5, 0, 0, 0, time.UTC)
	type testBundle struct {
		keys     map[string]int64
		profiles map[int64]*signal.Profile
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		// Stored: profile 7 (a:known, u:jane) and profile 9 (a:other).
		return &testBundle{
			keys: map[string]int64{"a:known": 7, "u:jane": 7, "a:other": 9},
			profiles: map[int64]*signal.Profile{
				7: {ID: 7, Traits: map[string]any{"email": "jane@shop.example"}, UpdatedAt: now.Add(-time.Hour)},
				9: {ID: 9, Traits: map[string]any{"plan": "free"}, UpdatedAt: now.Add(-time.Minute)},
			},
		}
	}

	tests := []struct {
		name     string
		items    []ProfileUpdate
		readOnly bool
		ids      []int64 // drawn for created profiles
		want     ProfilePass
		owners   []int64 // per item, the profile holding its keys after the pass (nil: not checked)
	}{
		{
			name:     "anonymous page views write nothing",
			items:    []ProfileUpdate{{Keys: []string{"a:known"}}, {Keys: []string{"a:unknown"}}, {Keys: []string{"a:other"}, Traits: map[string]any{}}},
			readOnly: true,
			owners:   []int64{7, 0, 9},
		},
		{
			// Read first; only a consent stated for the first time (or
			// changed) makes the pass write.
			name: "page views stating a consent write only a new one",
			items: []ProfileUpdate{{Keys: []string{"a:known"}, Consent: signal.ConsentGranted}, {Keys: []string{"a:known"}, Consent: signal.ConsentGranted},
				{Keys: []string{"a:unknown"}, Consent: signal.ConsentDenied}},
			readOnly: true,
			ids:      []int64{20},
			want:     ProfilePass{Created: 1, Links: []ProfileLink{{Key: "a:unknown", ProfileID: 20}}, Upserts: []*signal.Profile{{ID: 7}, {ID: 20}}},
			owners:   []int64{7, 7, 20},
		},
		{
			name:  "known ids already linked, no traits: nothing",
			items: []ProfileUpdate{{Keys: []string{"a:known", "u:jane"}}},
		},
		{
			name:  "same traits again: nothing",
			items: []ProfileUpdate{{Keys: []string{"a:known"}, Traits: map[string]any{"email": "jane@shop.example"}}},
		},
		{
			// A link alone leaves the profile's traits and UpdatedAt.
			name:  "a new id links to the profile",
			items: []ProfileUpdate{{Keys: []string{"a:known", "a:new"}}},
			want:  ProfilePass{Links: []ProfileLink{{Key: "a:new", ProfileID: 7}}},
		},
		{
			name:  "a merge relinks and deletes the newer profile",
			items: []ProfileUpdate{{Keys: []string{"a:other", "u:jane"}}},
			want: ProfilePass{Merges: []ProfileMerge{{From: 9, To: 7}}, Links: []ProfileLink{{Key: "a:other", ProfileID: 7}},
				Upserts: []*signal.Profile{{ID: 7}}},
			owners: []int64{7},
		},
		{
			// Item 0 is profile 9's; item 1 merges 9 into 7: both events
			// end up with 7, which holds a:other after the pass.
			name: "a stored profile touched, then merged away later in the pass",
			items: []ProfileUpdate{
				{Keys: []string{"a:other"}, Traits: map[string]any{"plan": "pro"}},
				{Keys: []string{"a:other", "u:jane"}},
			},
			want: ProfilePass{Merges: []ProfileMerge{{From: 9, To: 7}}, Links: []ProfileLink{{Key: "a:other", ProfileID: 7}},
				Upserts: []*signal.Profile{{ID: 7}}},
			owners: []int64{7, 7},
		},
		{
			name: "created profiles get the drawn ids; one merged away in the pass is never written",
			items: []ProfileUpdate{
				{Keys: []string{"a:n1"}, Traits: map[string]any{"x": 1}},
				{Keys: []string{"a:n2"}, Traits: map[string]any{"y": 2}},
				{Keys: []string{"a:n1", "a:known"}},
			},
			ids: []int64{20, 21},
			want: ProfilePass{Created: 2, Links: []ProfileLink{{Key: "a:n1", ProfileID: 7}, {Key: "a:n2", ProfileID: 21}},
				Upserts: []*signal.Profile{{ID: 7}, {ID: 21}}},
			// a:n1's first event was made profile 20's, merged into 7
			// later in the pass: its owner is 7.
			owners: []int64{7, 21, 7},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bundle := setup(t)

			if got := ReadOnlyProfiles(tt.items); got != tt.readOnly {
				t.Fatalf("ReadOnlyProfiles = %v, want %v", got, tt.readOnly)
			}
			pass, err := ResolveProfiles(bundle.keys, bundle.profiles, ResolveProfilesParams{Items: tt.items, Now: now})
			if err != nil {
				t.Fatalf("ResolveProfiles: %v", err)
			}
			if err := pass.Bind(tt.ids); err != nil {
				t.Fatalf("Bind: %v", err)
			}
			if pass.Changed() != (tt.want.Created > 0 || tt.want.Links != nil || tt.want.Merges != nil || tt.want.Upserts != nil) {
				t.Fatalf("Changed = %v for %+v", pass.Changed(), pass)
			}
			if pass.Created != tt.want.Created || !reflect.DeepEqual(pass.Merges, tt.want.Merges) || !reflect.DeepEqual(pass.Links, tt.want.Links) {
				t.Fatalf("pass = created %d, merges %v, links %v; want %d, %v, %v",
					pass.Created, pass.Merges, pass.Links, tt.want.Created, tt.want.Merges, tt.want.Links)
			}
			if tt.owners != nil && !reflect.DeepEqual(pass.Owners, tt.owners) {
				t.Fatalf("owners = %v, want %v", pass.Owners, tt.owners)
			}
			var ids, wantIDs []int64
			for _, u := range pass.Upserts {
				ids = append(ids, u.ID)
				if !u.UpdatedAt.Equal(now) {
					t.Fatalf("upsert %d: UpdatedAt %v, want %v", u.ID, u.UpdatedAt, now)
				}
			}
			for _, u := range tt.want.Upserts {
				wantIDs = append(wantIDs, u.ID)
			}
			if !reflect.DeepEqual(ids, wantIDs) {
				t.Fatalf("upserts = %v, want %v", ids, wantIDs)
			}
			for i, p := range pass.Out {
				if p != nil && p.ID >= firstNewID {
					t.Fatalf("item %d: placeholder id %d left after Bind", i, p.ID)
				}
			}
		})
	}

	t.Run("a key linked to a missing profile is an error", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		bundle.keys["a:lost"] = 42
		if _, err := ResolveProfiles(bundle.keys, bundle.profiles, ResolveProfilesParams{Items: []ProfileUpdate{{Keys: []string{"a:lost"}}}, Now: now}); err == nil {
			t.Fatal("ResolveProfiles over a dangling link: no error")
		}
	})
}
