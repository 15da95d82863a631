package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

func exerciseProfiles(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()

	type testBundle struct {
		ctx   context.Context
		now   time.Time
		store store.Store
	}

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		return &testBundle{ctx: t.Context(), now: testNow(), store: newStore(t)}
	}

	// resolve applies items at now and returns one profile per item.
	resolve := func(t *testing.T, bundle *testBundle, now time.Time, items ...store.ProfileUpdate) []*signal.Profile {
		t.Helper()
		out, err := bundle.store.ResolveProfiles(bundle.ctx, store.ResolveProfilesParams{Items: items, Now: now})
		requireNoError(t, err)
		if len(out) != len(items) {
			t.Fatalf("ResolveProfiles = %d profiles, want one per item (%d)", len(out), len(items))
		}
		return out
	}

	// lookup returns the profile a key is linked to, changing nothing.
	lookup := func(t *testing.T, bundle *testBundle, key string) *signal.Profile {
		t.Helper()
		p := resolve(t, bundle, bundle.now.Add(time.Hour), store.ProfileUpdate{Keys: []string{key}})[0]
		if p == nil {
			t.Fatalf("key %s has no profile", key)
		}
		return p
	}

	requireTraits := func(t *testing.T, p *signal.Profile, want map[string]any) {
		t.Helper()
		if p == nil {
			t.Fatalf("profile = nil, want traits %v", want)
		}
		requireSameJSON(t, "traits", p.Traits, want)
	}

	t.Run("NewProfileFromTraits", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		p := resolve(t, bundle, bundle.now, store.ProfileUpdate{Keys: []string{"a:anon1"}, Traits: map[string]any{"email": "jane@shop.example"}})[0]
		requireTraits(t, p, map[string]any{"email": "jane@shop.example"})
		requireTime(t, "UpdatedAt", p.UpdatedAt, bundle.now)
		if got := lookup(t, bundle, "a:anon1"); got.ID != p.ID {
			t.Fatalf("later lookup: profile %d, want %d", got.ID, p.ID)
		}
		requireTraits(t, lookup(t, bundle, "a:anon1"), map[string]any{"email": "jane@shop.example"})
	})

	t.Run("UnknownKeyWithoutTraits", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		out := resolve(t, bundle, bundle.now,
			store.ProfileUpdate{Keys: []string{"a:anon1"}},
			store.ProfileUpdate{Keys: []string{"u:user1"}, Traits: map[string]any{}},
		)
		for i, p := range out {
			if p != nil {
				t.Fatalf("item %d: profile = %+v, want nil for an unknown key with no traits", i, p)
			}
		}
	})

	t.Run("LinkAnonymousAndUser", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		anon := resolve(t, bundle, bundle.now, store.ProfileUpdate{Keys: []string{"a:anon1"}, Traits: map[string]any{"plan": "free", "email": "jane@shop.example"}})[0]
		// identify: links userId to anonymousId; new keys win.
		linked := resolve(t, bundle, bundle.now.Add(time.Minute), store.ProfileUpdate{Keys: []string{"a:anon1", "u:user1"}, Traits: map[string]any{"plan": "pro", "first_name": "Jane"}})[0]
		want := map[string]any{"plan": "pro", "email": "jane@shop.example", "first_name": "Jane"}
		requireTraits(t, linked, want)
		if linked.ID != anon.ID {
			t.Fatalf("identify made profile %d, want the anonymous profile %d", linked.ID, anon.ID)
		}
		// Later events from either id see the merged traits.
		for _, key := range []string{"u:user1", "a:anon1"} {
			p := lookup(t, bundle, key)
			requireTraits(t, p, want)
			if p.ID != anon.ID {
				t.Fatalf("key %s: profile %d, want %d", key, p.ID, anon.ID)
			}
		}
		// Traits that arrive under one id show under the other.
		resolve(t, bundle, bundle.now.Add(2*time.Minute), store.ProfileUpdate{Keys: []string{"u:user1"}, Traits: map[string]any{"last_name": "Doe"}})
		want["last_name"] = "Doe"
		requireTraits(t, lookup(t, bundle, "a:anon1"), want)
	})

	t.Run("ItemsApplyInOrder", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		out := resolve(t, bundle, bundle.now,
			store.ProfileUpdate{Keys: []string{"a:anon1"}, Traits: map[string]any{"email": "jane@shop.example"}},
			store.ProfileUpdate{Keys: []string{"a:anon1", "u:user1"}, Traits: map[string]any{"first_name": "Jane"}},
			store.ProfileUpdate{Keys: []string{"u:user1"}},
			store.ProfileUpdate{Keys: []string{"u:user1"}, Traits: map[string]any{"email": "new@shop.example"}},
		)
		// Each item yields the profile as it stood after that item.
		requireTraits(t, out[0], map[string]any{"email": "jane@shop.example"})
		requireTraits(t, out[1], map[string]any{"email": "jane@shop.example", "first_name": "Jane"})
		requireTraits(t, out[2], map[string]any{"email": "jane@shop.example", "first_name": "Jane"})
		requireTraits(t, out[3], map[string]any{"email": "new@shop.example", "first_name": "Jane"})
		for i, p := range out[1:] {
			if p.ID != out[0].ID {
				t.Fatalf("item %d: profile %d, want %d", i+1, p.ID, out[0].ID)
			}
		}
	})

	t.Run("MergeSeparateProfiles", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		anon := resolve(t, bundle, bundle.now, store.ProfileUpdate{Keys: []string{"a:anon1"}, Traits: map[string]any{"cart": "c1", "plan": "free"}})[0]
		user := resolve(t, bundle, bundle.now.Add(time.Minute), store.ProfileUpdate{Keys: []string{"u:user1"}, Traits: map[string]any{"email": "jane@shop.example"}})[0]
		if anon.ID == user.ID {
			t.Fatalf("two unrelated keys share profile %d", anon.ID)
		}
		// An event carrying both ids merges the two; its own traits win.
		merged := resolve(t, bundle, bundle.now.Add(2*time.Minute), store.ProfileUpdate{Keys: []string{"a:anon1", "u:user1"}, Traits: map[string]any{"plan": "pro"}})[0]
		want := map[string]any{"cart": "c1", "plan": "pro", "email": "jane@shop.example"}
		requireTraits(t, merged, want)
		if merged.ID != anon.ID && merged.ID != user.ID {
			t.Fatalf("merged profile %d is neither %d nor %d", merged.ID, anon.ID, user.ID)
		}
		for _, key := range []string{"a:anon1", "u:user1"} {
			p := lookup(t, bundle, key)
			requireTraits(t, p, want)
			if p.ID != merged.ID {
				t.Fatalf("key %s: profile %d, want the merged %d", key, p.ID, merged.ID)
			}
		}
	})

	t.Run("MergeNewestTraitsWin", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		// The older profile is updated last: its value is the newest.
		resolve(t, bundle, bundle.now, store.ProfileUpdate{Keys: []string{"a:anon1"}, Traits: map[string]any{"email": "old@shop.example"}})
		resolve(t, bundle, bundle.now.Add(time.Minute), store.ProfileUpdate{Keys: []string{"u:user1"}, Traits: map[string]any{"email": "user@shop.example", "x": "1"}})
		resolve(t, bundle, bundle.now.Add(2*time.Minute), store.ProfileUpdate{Keys: []string{"a:anon1"}, Traits: map[string]any{"email": "newest@shop.example"}})

		merged := resolve(t, bundle, bundle.now.Add(3*time.Minute), store.ProfileUpdate{Keys: []string{"u:user1", "a:anon1"}})[0]
		requireTraits(t, merged, map[string]any{"email": "newest@shop.example", "x": "1"})
	})

	t.Run("Idempotent", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		items := []store.ProfileUpdate{
			{Keys: []string{"a:anon1"}, Traits: map[string]any{"cart": "c1", "n": 3}},
			{Keys: []string{"u:user1"}, Traits: map[string]any{"email": "jane@shop.example", "vip": true}},
			{Keys: []string{"a:anon1", "u:user1"}, Traits: map[string]any{"n": 4, "address": map[string]any{"city": "Lyon"}}},
			{Keys: []string{"a:anon2"}},
			{Keys: []string{"a:anon3"}, Traits: map[string]any{"email": "other@shop.example"}},
		}
		keys := []string{"a:anon1", "u:user1", "a:anon3"}
		state := func() []*signal.Profile {
			out := make([]*signal.Profile, len(keys))
			for i, k := range keys {
				out[i] = lookup(t, bundle, k)
			}
			return out
		}

		first := resolve(t, bundle, bundle.now, items...)
		after1 := state()
		second := resolve(t, bundle, bundle.now.Add(time.Minute), items...)
		after2 := state()

		for i := range after1 {
			if after1[i].ID != after2[i].ID {
				t.Fatalf("key %s: profile %d, then %d after applying the items again", keys[i], after1[i].ID, after2[i].ID)
			}
			requireSameJSON(t, "traits of "+keys[i], after2[i].Traits, after1[i].Traits)
		}
		// The items' own answers: the last of a visitor's items says the
		// same both times.
		for _, i := range []int{2, 3, 4} {
			if (first[i] == nil) != (second[i] == nil) {
				t.Fatalf("item %d: profile %v, then %v", i, first[i], second[i])
			}
			if first[i] != nil {
				requireSameJSON(t, "item traits", second[i].Traits, first[i].Traits)
				if first[i].ID != second[i].ID {
					t.Fatalf("item %d: profile %d, then %d", i, first[i].ID, second[i].ID)
				}
			}
		}
		requireTraits(t, after1[0], map[string]any{"cart": "c1", "n": 4, "email": "jane@shop.example", "vip": true, "address": map[string]any{"city": "Lyon"}})
	})
}
