package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// exerciseProfilePass pins what moved when the merge became one resolver in
// Go with set-based writes: merges whose profiles have keys the pass does not
// name, chains of merges inside one pass, passes larger than one statement's
// rows, and passes that only read.
func exerciseProfilePass(t *testing.T, newStore func(t *testing.T) store.Store) {
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

	resolve := func(t *testing.T, bundle *testBundle, now time.Time, items ...store.ProfileUpdate) []*signal.Profile {
		t.Helper()
		out, err := bundle.store.ResolveProfiles(bundle.ctx, store.ResolveProfilesParams{Items: items, Now: now})
		requireNoError(t, err)
		if len(out) != len(items) {
			t.Fatalf("ResolveProfiles = %d profiles, want one per item (%d)", len(out), len(items))
		}
		return out
	}

	lookup := func(t *testing.T, bundle *testBundle, key string) *signal.Profile {
		t.Helper()
		p := resolve(t, bundle, bundle.now.Add(time.Hour), store.ProfileUpdate{Keys: []string{key}})[0]
		if p == nil {
			t.Fatalf("key %s has no profile", key)
		}
		return p
	}

	t.Run("MergeChainInOnePass", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		// Three stored profiles, each with a key the pass below never names.
		stored := resolve(t, bundle, bundle.now,
			store.ProfileUpdate{Keys: []string{"a:one", "a:one-other"}, Traits: map[string]any{"a": 1}},
			store.ProfileUpdate{Keys: []string{"u:two", "a:two-other"}, Traits: map[string]any{"b": 2}},
			store.ProfileUpdate{Keys: []string{"a:three", "a:three-other"}, Traits: map[string]any{"c": 3}},
		)
		later := bundle.now.Add(time.Minute)
		out := resolve(t, bundle, later,
			store.ProfileUpdate{Keys: []string{"a:one", "u:two"}},                                   // two into one
			store.ProfileUpdate{Keys: []string{"a:new"}, Traits: map[string]any{"d": 4}},            // created in the pass
			store.ProfileUpdate{Keys: []string{"a:new", "a:three"}, Traits: map[string]any{}},       // three absorbs new
			store.ProfileUpdate{Keys: []string{"u:two", "a:three"}, Traits: map[string]any{"e": 5}}, // three into one
		)
		want := map[string]any{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}
		requireSameJSON(t, "last item's traits", out[3].Traits, want)
		if out[3].ID != stored[0].ID {
			t.Fatalf("merged profile %d, want the oldest %d", out[3].ID, stored[0].ID)
		}
		requireTime(t, "UpdatedAt", out[3].UpdatedAt, later)
		if out[2].ID != stored[2].ID {
			t.Fatalf("item 2: profile %d, want the stored %d that absorbed the new one", out[2].ID, stored[2].ID)
		}
		for _, key := range []string{"a:one", "a:one-other", "u:two", "a:two-other", "a:three", "a:three-other", "a:new"} {
			p := lookup(t, bundle, key)
			if p.ID != stored[0].ID {
				t.Fatalf("key %s: profile %d, want the survivor %d", key, p.ID, stored[0].ID)
			}
			requireSameJSON(t, "traits of "+key, p.Traits, want)
		}
	})

	t.Run("LargePass", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		// More rows than one statement takes: every visitor gets its own
		// profile, ids drawn in item order.
		const n = 2100
		items := make([]store.ProfileUpdate, n)
		for i := range items {
			items[i] = store.ProfileUpdate{Keys: []string{fmt.Sprintf("a:v%d", i), fmt.Sprintf("u:v%d", i)}, Traits: map[string]any{"i": i}}
		}
		out := resolve(t, bundle, bundle.now, items...)
		for i := 1; i < n; i++ {
			if out[i].ID <= out[i-1].ID {
				t.Fatalf("item %d: profile %d after %d, want ids ascending in item order", i, out[i].ID, out[i-1].ID)
			}
		}
		again := resolve(t, bundle, bundle.now.Add(time.Minute), items...)
		for _, i := range []int{0, 999, 1000, n - 1} {
			if again[i].ID != out[i].ID {
				t.Fatalf("item %d: profile %d, then %d", i, out[i].ID, again[i].ID)
			}
			requireSameJSON(t, "traits", again[i].Traits, map[string]any{"i": i})
			if p := lookup(t, bundle, fmt.Sprintf("u:v%d", i)); p.ID != out[i].ID {
				t.Fatalf("u:v%d: profile %d, want %d", i, p.ID, out[i].ID)
			}
		}
	})

	t.Run("AnonymousPageViewsOnlyRead", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		known := resolve(t, bundle, bundle.now, store.ProfileUpdate{Keys: []string{"a:known"}, Traits: map[string]any{"email": "jane@shop.example"}})[0]
		// Known and unknown visitors without traits: the known one reads
		// its profile as stored, the unknown one gets none, and nothing is
		// written (UpdatedAt stays, no profile appears).
		out := resolve(t, bundle, bundle.now.Add(time.Minute),
			store.ProfileUpdate{Keys: []string{"a:known"}},
			store.ProfileUpdate{Keys: []string{"a:unknown"}},
			store.ProfileUpdate{Keys: []string{"a:known"}, Traits: map[string]any{}},
		)
		for _, i := range []int{0, 2} {
			if out[i] == nil || out[i].ID != known.ID {
				t.Fatalf("item %d: profile %+v, want %d", i, out[i], known.ID)
			}
			requireSameJSON(t, "traits", out[i].Traits, map[string]any{"email": "jane@shop.example"})
			requireTime(t, "UpdatedAt", out[i].UpdatedAt, bundle.now)
		}
		if out[1] != nil {
			t.Fatalf("unknown visitor: profile %+v, want nil", out[1])
		}
		requireTime(t, "stored UpdatedAt", lookup(t, bundle, "a:known").UpdatedAt, bundle.now)
	})
}
