package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// exerciseProfileCarry pins the processor's pipelined passes: a pass
// prepared over the pass before's carry (ResolveProfilesParams.Carry),
// while that pass is not written yet or once it is, yields and stores
// exactly what the same passes prepared one after the other do: the same
// profiles per item, the same owners, the same stored profiles and links.
func exerciseProfileCarry(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()

	type testBundle struct {
		ctx   context.Context
		now   time.Time
		store store.Store
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		bundle := &testBundle{ctx: t.Context(), now: testNow(), store: newStore(t)}
		// Stored before the passes: three profiles, the third with a key
		// (a:s3b) no pass names, which a merge must carry along.
		_, err := bundle.store.ResolveProfiles(bundle.ctx, store.ResolveProfilesParams{Now: bundle.now.Add(-time.Hour), Items: []store.ProfileUpdate{
			{Keys: []string{"a:s1", "u:s1"}, Traits: map[string]any{"plan": "free"}, Trust: 1},
			{Keys: []string{"a:s2"}, Traits: map[string]any{"city": "Leeds"}},
			{Keys: []string{"a:s3", "a:s3b"}, Traits: map[string]any{"x": 1.0}},
		}})
		requireNoError(t, err)
		return bundle
	}

	traits := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	passes := [][]store.ProfileUpdate{
		{
			{Keys: []string{"a:n1"}, Traits: traits("email", "n1@shop.example")},                  // created
			{Keys: []string{"a:n2"}, Consent: signal.ConsentGranted, Traits: traits("tag", "n2")}, // created
			{Keys: []string{"a:s2", "u:s1"}},                                                      // s2 merged into s1
			{Keys: []string{"a:s3", "u:s1"}, Traits: traits("plan", "pro"), Trust: 1},             // s3 merged into s1
			{Keys: []string{"a:n1"}, Traits: traits("name", "Nia")},                               // the new profile again
			{Keys: []string{"a:unknown"}},                                                         // nothing to remember
			{Keys: []string{"a:s1"}, Consent: signal.ConsentDenied, Traits: traits("y", 1.0)},     // s1 changed
			{Keys: []string{"a:n6", "u:n6"}, Traits: traits("q", 1.0)},                            // created, two keys
			// Numbers as events bring them (json.Number), and a visitor\'s own trait
			// named like the remembered consent, which the store drops.
			{Keys: []string{"a:n7"}, Traits: traits("ltv", json.Number("19.90"), "big", json.Number("9007199254740993"), "$signal_consent", "granted")},
		},
		{
			{Keys: []string{"a:s3b"}, Traits: traits("z", 2.0)},                   // its stored link names s3, merged away
			{Keys: []string{"a:n1", "u:n1"}, Traits: traits("tier", "silver")},    // the pass before's new profile gets a key
			{Keys: []string{"a:n2", "a:s1"}},                                      // the pass before's new profile merged away
			{Keys: []string{"a:n3"}, Traits: traits("w", 3.0)},                    // created
			{Keys: []string{"a:s2"}},                                              // read only, through the merge
			{Keys: []string{"a:n6", "a:s2"}},                                      // the pass before's new profile merged by one key
			{Keys: []string{"a:n7"}, Traits: traits("ltv", json.Number("19.90"))}, // the same number, as read back: 19.9
		},
		{
			{Keys: []string{"u:n1"}, Traits: traits("tier", "gold")}, // two passes back's new profile
			{Keys: []string{"a:n3", "a:n1"}},                         // the pass before's new profile into the one before's
			{Keys: []string{"a:n2"}},
			{Keys: []string{"a:n4"}, Consent: signal.ConsentGranted},
			{Keys: []string{"u:n6"}, Traits: traits("q", 2.0)}, // its other key, stored as linked to it
		},
		{
			{Keys: []string{"a:n3"}, Traits: traits("v", 4.0)},
			{Keys: []string{"a:s3b", "a:n4"}},
			{Keys: []string{"a:n5"}}, // unknown, nothing
		},
	}
	allKeys := []string{"a:s1", "u:s1", "a:s2", "a:s3", "a:s3b", "a:n1", "u:n1", "a:n2", "a:n3", "a:n4", "a:n5", "a:n6", "u:n6", "a:n7", "a:unknown"}

	// outcome is what a run of the passes yields and leaves, in terms
	// that do not depend on the ids drawn: each id is named by the first
	// key (of allKeys) stored for it.
	type outcome struct {
		items  []string // per pass and item: profile (by name), traits, consent
		owners []string // per pass and item: the owner's name just after the pass is written
		stored []string // per key at the end: profile name, traits, consent
	}
	names := func(t *testing.T, bundle *testBundle) map[int64]string {
		t.Helper()
		named := map[int64]string{}
		for _, k := range allKeys {
			if p := lookupProfile(t, bundle.ctx, bundle.store, k, bundle.now); p != nil && named[p.ID] == "" {
				named[p.ID] = k
			}
		}
		return named
	}
	describe := func(p *signal.Profile, named map[int64]string) string {
		if p == nil {
			return "none"
		}
		return fmt.Sprintf("%s %v %q %s", named[p.ID], p.Traits, p.Consent, p.UpdatedAt.UTC().Format(time.RFC3339Nano))
	}
	record := func(t *testing.T, bundle *testBundle, i int, pass *store.ProfilePass) {
		t.Helper()
		from := int64(i)
		requireNoError(t, bundle.store.RecordProcessed(bundle.ctx, store.RecordProcessedParams{
			FromSeq: &from, UpToSeq: from + 1, Profiles: pass, Now: bundle.now.Add(time.Duration(i) * time.Minute)}))
	}
	prepare := func(t *testing.T, bundle *testBundle, i int, before *store.ProfilePass) *store.ProfilePass {
		t.Helper()
		p := store.ResolveProfilesParams{Items: passes[i], Now: bundle.now.Add(time.Duration(i) * time.Minute), KeepCarry: true}
		if before != nil {
			p.Carry = before.Carry
		}
		pass, err := bundle.store.PrepareProfiles(bundle.ctx, p)
		requireNoError(t, err)
		return pass
	}
	// afterWrite: the pass written, with its items' profiles and owners
	// described by the names then stored.
	afterWrite := func(t *testing.T, bundle *testBundle, got *outcome, i int, pass *store.ProfilePass) {
		t.Helper()
		record(t, bundle, i, pass)
		named := names(t, bundle)
		for j, p := range pass.Out {
			got.items = append(got.items, fmt.Sprintf("pass %d item %d: %s", i, j, describe(p, named)))
			got.owners = append(got.owners, fmt.Sprintf("pass %d item %d: %s", i, j, named[pass.Owners[j]]))
		}
	}
	final := func(t *testing.T, bundle *testBundle, got *outcome) {
		t.Helper()
		named := names(t, bundle)
		for _, k := range allKeys {
			got.stored = append(got.stored, k+": "+describe(lookupProfile(t, bundle.ctx, bundle.store, k, bundle.now), named))
		}
		// Every profile stored, by traits: a profile merged away and
		// left behind (a merge the write lost) shows here.
		all, err := bundle.store.FindContact(bundle.ctx, store.FindContactParams{MatchProfile: func(map[string]any) bool { return true }, Now: bundle.now})
		requireNoError(t, err)
		var rows []string
		for _, p := range all.Profiles {
			rows = append(rows, fmt.Sprintf("profile %s %v", named[p.ID], p.Traits))
		}
		slices.Sort(rows)
		got.stored = append(got.stored, rows...)
	}

	runs := map[string]func(t *testing.T, bundle *testBundle) outcome{
		// Each pass prepared once the one before is written.
		"serial": func(t *testing.T, bundle *testBundle) (got outcome) {
			for i := range passes {
				pass, err := bundle.store.PrepareProfiles(bundle.ctx, store.ResolveProfilesParams{Items: passes[i], Now: bundle.now.Add(time.Duration(i) * time.Minute)})
				requireNoError(t, err)
				afterWrite(t, bundle, &got, i, pass)
			}
			final(t, bundle, &got)
			return got
		},
		// Each pass prepared over the carry while the one before is not
		// written yet (the processor on a backlog).
		"carried before the write": func(t *testing.T, bundle *testBundle) (got outcome) {
			var before *store.ProfilePass
			for i := range passes {
				pass := prepare(t, bundle, i, before)
				if before != nil {
					afterWrite(t, bundle, &got, i-1, before)
				}
				before = pass
			}
			afterWrite(t, bundle, &got, len(passes)-1, before)
			final(t, bundle, &got)
			return got
		},
		// Each pass prepared over the carry after the one before was
		// written (its write won the race with the next pass's read).
		"carried after the write": func(t *testing.T, bundle *testBundle) (got outcome) {
			var before *store.ProfilePass
			for i := range passes {
				if before != nil {
					afterWrite(t, bundle, &got, i-1, before)
				}
				before = prepare(t, bundle, i, before)
			}
			afterWrite(t, bundle, &got, len(passes)-1, before)
			final(t, bundle, &got)
			return got
		},
	}

	want := runs["serial"](t, setup(t))
	for _, name := range []string{"carried before the write", "carried after the write"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := runs[name](t, setup(t))
			for _, part := range []struct {
				what      string
				got, want []string
			}{{"profiles per item", got.items, want.items}, {"owners", got.owners, want.owners}, {"stored", got.stored, want.stored}} {
				requireStrings(t, part.what, part.got, part.want)
			}
		})
	}

	t.Run("ErasureAfterTheCarriedRead", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		// The first pass changes s1 and is written; s1 is erased; the
		// second pass, prepared over the first's carry after the erasure,
		// would write s1's carried traits back: it is refused, though its
		// own read of the erasures came after the erasure.
		first := prepare(t, bundle, 0, nil)
		record(t, bundle, 0, first)
		_, err := bundle.store.EraseContact(bundle.ctx, store.FindContactParams{ProfileKeys: []string{"u:s1"}, Now: bundle.now})
		requireNoError(t, err)
		second := prepare(t, bundle, 1, first)
		from := int64(1)
		err = bundle.store.RecordProcessed(bundle.ctx, store.RecordProcessedParams{FromSeq: &from, UpToSeq: 2, Profiles: second, Now: bundle.now})
		requireCode(t, err, signal.ECONFLICT)
		if p := lookupProfile(t, bundle.ctx, bundle.store, "u:s1", bundle.now); p != nil {
			t.Fatalf("u:s1 after its erasure and a refused carried pass: %+v, want none", p)
		}
	})
}

// lookupProfile reads a key's profile without writing (one key, no traits).
func lookupProfile(t *testing.T, ctx context.Context, s store.Store, key string, now time.Time) *signal.Profile {
	t.Helper()
	out, err := s.ResolveProfiles(ctx, store.ResolveProfilesParams{Items: []store.ProfileUpdate{{Keys: []string{key}}}, Now: now.Add(time.Hour)})
	requireNoError(t, err)
	return out[0]
}
