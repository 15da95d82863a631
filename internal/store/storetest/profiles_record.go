package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// exerciseProfileRecord pins the processor's shape of a profile pass:
// PrepareProfiles reads and merges without writing, and RecordProcessed
// writes the pass in its transaction, or nothing of it when the cursor moved
// or a contact was erased since the pass was read.
func exerciseProfileRecord(t *testing.T, newStore func(t *testing.T) store.Store) {
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

	prepare := func(t *testing.T, bundle *testBundle, items ...store.ProfileUpdate) *store.ProfilePass {
		t.Helper()
		pass, err := bundle.store.PrepareProfiles(bundle.ctx, store.ResolveProfilesParams{Items: items, Now: bundle.now})
		requireNoError(t, err)
		if len(pass.Out) != len(items) {
			t.Fatalf("PrepareProfiles = %d profiles, want one per item (%d)", len(pass.Out), len(items))
		}
		return pass
	}

	// lookup reads a key's profile without writing (one key, no traits).
	lookup := func(t *testing.T, bundle *testBundle, key string) *signal.Profile {
		t.Helper()
		return lookupProfile(t, bundle.ctx, bundle.store, key, bundle.now)
	}

	record := func(bundle *testBundle, from *int64, upTo int64, pass *store.ProfilePass) error {
		return bundle.store.RecordProcessed(bundle.ctx, store.RecordProcessedParams{FromSeq: from, UpToSeq: upTo, Profiles: pass, Now: bundle.now})
	}

	jane := store.ProfileUpdate{Keys: []string{"a:jane", "u:jane"}, Traits: map[string]any{"email": "jane@shop.example"}, Trust: 1}

	t.Run("WrittenByRecordProcessed", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		// The same items through ResolveProfiles in another store: the
		// prepared pass yields the same profiles and stores the same.
		want, err := newStore(t).ResolveProfiles(bundle.ctx, store.ResolveProfilesParams{Items: []store.ProfileUpdate{jane, {Keys: []string{"a:jane"}}}, Now: bundle.now})
		requireNoError(t, err)

		pass := prepare(t, bundle, jane, store.ProfileUpdate{Keys: []string{"a:jane"}})
		if p := lookup(t, bundle, "u:jane"); p != nil {
			t.Fatalf("after PrepareProfiles: profile %+v stored, want none before RecordProcessed", p)
		}
		requireNoError(t, record(bundle, new(int64), 1, pass))
		stored := lookup(t, bundle, "a:jane")
		if stored == nil {
			t.Fatal("after RecordProcessed: no profile for a:jane")
		}
		for i, out := range pass.Out {
			if out.ID != stored.ID {
				t.Fatalf("item %d: profile id %d, want the stored %d", i, out.ID, stored.ID)
			}
			requireSameJSON(t, "traits", out.Traits, want[i].Traits)
		}
		requireSameJSON(t, "stored traits", stored.Traits, want[0].Traits)
		requireTime(t, "stored UpdatedAt", stored.UpdatedAt, bundle.now)
		if p := lookup(t, bundle, "u:jane"); p == nil || p.ID != stored.ID {
			t.Fatalf("u:jane: profile %+v, want %d", p, stored.ID)
		}
	})

	t.Run("LostRaceWritesNothing", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		var zero int64
		requireNoError(t, record(bundle, &zero, 2, nil))
		// A processor that read at cursor 0 records after another moved it.
		err := record(bundle, &zero, 4, prepare(t, bundle, jane))
		requireCode(t, err, signal.ECONFLICT)
		if p := lookup(t, bundle, "a:jane"); p != nil {
			t.Fatalf("after a lost race: profile %+v stored, want none", p)
		}
	})

	t.Run("ErasureBetweenReadAndRecord", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		_, err := bundle.store.ResolveProfiles(bundle.ctx, store.ResolveProfilesParams{Items: []store.ProfileUpdate{jane}, Now: bundle.now})
		requireNoError(t, err)
		// The pass reads Jane's profile, and would write it back with a
		// new trait; she is erased before it is recorded.
		pass := prepare(t, bundle, store.ProfileUpdate{Keys: []string{"a:jane"}, Traits: map[string]any{"plan": "gold"}, Trust: 1})
		if len(pass.Upserts) == 0 {
			t.Fatal("the pass writes no profile; the test needs one that does")
		}
		erase := store.FindContactParams{ProfileKeys: []string{"a:jane"}, Now: bundle.now}
		res, err := bundle.store.EraseContact(bundle.ctx, erase)
		requireNoError(t, err)
		if res.Profiles != 1 {
			t.Fatalf("erased %d profiles, want 1", res.Profiles)
		}
		from := int64(0)
		requireCode(t, record(bundle, &from, 1, pass), signal.ECONFLICT)
		for _, key := range jane.Keys {
			if p := lookup(t, bundle, key); p != nil {
				t.Fatalf("%s: erased profile written back: %+v", key, p)
			}
		}
		seq, err := bundle.store.Cursor(bundle.ctx, store.CursorParams{Name: store.ProcessorCursor})
		requireNoError(t, err)
		if seq != 0 {
			t.Fatalf("Cursor = %d after a refused pass, want 0", seq)
		}

		// Read again after the erasure, the pass is recorded: a new
		// profile with only what it brings.
		pass = prepare(t, bundle, store.ProfileUpdate{Keys: []string{"a:jane"}, Traits: map[string]any{"plan": "gold"}, Trust: 1})
		requireNoError(t, record(bundle, &from, 1, pass))
		p := lookup(t, bundle, "a:jane")
		if p == nil {
			t.Fatal("a:jane: no profile after the pass read after the erasure")
		}
		requireSameJSON(t, "traits", p.Traits, map[string]any{"plan": "gold"})
	})

	t.Run("ReadOnlyPassRecordsNoProfile", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		// Visitors unknown and without traits, and an event without ids:
		// nothing to remember, and the cursor moves as without a pass.
		pass := prepare(t, bundle, store.ProfileUpdate{Keys: []string{"a:unknown"}}, store.ProfileUpdate{})
		if pass.Changed() {
			t.Fatalf("pass of unknown visitors changes profiles: %+v", pass)
		}
		requireNoError(t, record(bundle, new(int64), 3, pass))
		if p := lookup(t, bundle, "a:unknown"); p != nil {
			t.Fatalf("a:unknown: profile %+v, want none", p)
		}
		seq, err := bundle.store.Cursor(bundle.ctx, store.CursorParams{Name: store.ProcessorCursor})
		requireNoError(t, err)
		if seq != 3 {
			t.Fatalf("Cursor = %d, want 3", seq)
		}
	})
}
