package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/store"
)

func exerciseRateBudgets(t *testing.T, newStore func(t *testing.T) store.Store) {
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
	const key = "kh_1"
	take := func(t *testing.T, b *testBundle, n, node int, at time.Time) *store.RateBudget {
		t.Helper()
		got, err := b.store.TakeRateBudget(b.ctx, store.TakeRateBudgetParams{Key: key, N: n, Node: node, Now: at})
		requireNoError(t, err)
		return got
	}
	// observe records an answer: remaining left in a 10 s window of 10
	// ending at end, to a request sent at sent.
	observe := func(t *testing.T, b *testBundle, sent, end time.Time, remaining int) *store.RateBudget {
		t.Helper()
		got, err := b.store.ObserveRateBudget(b.ctx, store.ObserveRateBudgetParams{Key: key, Sent: sent, End: end, Remaining: remaining,
			Limit: 10, Window: 10 * time.Second, Now: sent})
		requireNoError(t, err)
		return got
	}
	requireBudget := func(t *testing.T, what string, got *store.RateBudget, granted, remaining int, end time.Time) {
		t.Helper()
		if got.Granted != granted || got.Remaining != remaining {
			t.Fatalf("%s: granted %d, remaining %d; want %d, %d", what, got.Granted, got.Remaining, granted, remaining)
		}
		requireTime(t, what+": WindowEnd", got.WindowEnd, end)
	}

	t.Run("UnknownGrantsAll", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		got := take(t, b, 32, 0, b.now)
		if got.Granted != 32 || got.Remaining != -1 || got.Nodes != 1 {
			t.Fatalf("first take = %+v, want all 32 granted, count unknown, one node", got)
		}
	})

	t.Run("GrantsWhatRemains", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		end := b.now.Add(8 * time.Second)
		got := observe(t, b, b.now, end, 5)
		if got.Limit != 10 || got.Window != 10*time.Second || got.Remaining != 5 || got.Assumed {
			t.Fatalf("observed = %+v", got)
		}
		at := b.now.Add(time.Second)
		requireBudget(t, "take 3", take(t, b, 3, 0, at), 3, 2, end)
		requireBudget(t, "take 3 more", take(t, b, 3, 1, at), 2, 0, end)
		requireBudget(t, "take when spent", take(t, b, 3, 0, at), 0, 0, end)
		requireNoError(t, b.store.GiveBackRateBudget(b.ctx, store.GiveBackRateBudgetParams{Key: key, N: 1, Now: at, Before: end.Add(5 * time.Second)}))
		got = take(t, b, 3, 2, at)
		requireBudget(t, "take after a give-back", got, 1, 0, end)
		if got.Nodes != 3 {
			t.Fatalf("nodes = %d, want 3", got.Nodes)
		}
		// A give-back for a window over is not kept.
		requireNoError(t, b.store.GiveBackRateBudget(b.ctx, store.GiveBackRateBudgetParams{Key: key, N: 4, Now: at, Before: end.Add(-5 * time.Second)}))
		requireBudget(t, "after a late give-back", take(t, b, 1, 0, at), 0, 0, end)
	})

	t.Run("WindowRollsOver", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		end := b.now.Add(8 * time.Second)
		observe(t, b, b.now, end, 0)
		next := end.Add(10 * time.Second)
		got := take(t, b, 4, 0, end)
		requireBudget(t, "take at the window's end", got, 4, 6, next)
		if !got.Assumed {
			t.Fatal("a rolled-over window is not marked assumed")
		}
		// An answer about it confirms it, keeping the lower count (the
		// vendor has not counted every request taken since).
		got = observe(t, b, end.Add(time.Second), next.Add(-20*time.Millisecond), 8)
		requireBudget(t, "confirmed", got, 4, 6, next.Add(-20*time.Millisecond))
		if got.Assumed {
			t.Fatal("a confirmed window is still assumed")
		}
		// More than a window later, the count is unknown.
		got = take(t, b, 4, 0, next.Add(15*time.Second))
		if got.Granted != 4 || got.Remaining != -1 {
			t.Fatalf("take two windows later = %+v, want 4 granted, count unknown", got)
		}
	})

	t.Run("ObserveKeepsTheLowerCount", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		end := b.now.Add(9 * time.Second)
		observe(t, b, b.now, end, 6)
		at := b.now.Add(100 * time.Millisecond)
		requireBudget(t, "higher count, later end", observe(t, b, at, end.Add(300*time.Millisecond), 8), 0, 6, end)
		requireBudget(t, "lower count, earlier end", observe(t, b, at, end.Add(-200*time.Millisecond), 3), 0, 3, end.Add(-200*time.Millisecond))
		// A late answer about the window before is stale.
		requireBudget(t, "stale", observe(t, b, at, end.Add(-10*time.Second), 0), 0, 3, end.Add(-200*time.Millisecond))
		// The next window's first answer starts it.
		next := end.Add(10 * time.Second)
		requireBudget(t, "next window", observe(t, b, end.Add(time.Second), next, 9), 0, 9, next)
	})

	t.Run("BlockHoldsEveryTake", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		until := b.now.Add(3 * time.Second)
		got, err := b.store.ObserveRateBudget(b.ctx, store.ObserveRateBudgetParams{Key: key, BlockUntil: until, Now: b.now})
		requireNoError(t, err)
		requireTime(t, "BlockedUntil", got.BlockedUntil, until)
		if got := take(t, b, 5, 1, b.now.Add(time.Second)); got.Granted != 0 {
			t.Fatalf("take while blocked granted %d", got.Granted)
		}
		if got := take(t, b, 5, 1, until); got.Granted != 5 {
			t.Fatalf("take after the block granted %d, want 5", got.Granted)
		}
	})

	// Takes at once from many callers never grant more than remains.
	t.Run("ConcurrentTakes", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		end := b.now.Add(8 * time.Second)
		observe(t, b, b.now, end, 10)
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			granted int
		)
		for node := range 6 {
			wg.Go(func() {
				for range 4 {
					got, err := b.store.TakeRateBudget(b.ctx, store.TakeRateBudgetParams{Key: key, N: 2, Node: node, Now: b.now.Add(time.Second)})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					granted += got.Granted
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if granted != 10 {
			t.Fatalf("granted %d in all, want the 10 that remained", granted)
		}
	})
}
