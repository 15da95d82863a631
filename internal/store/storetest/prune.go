package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

func exercisePrune(t *testing.T, newStore func(t *testing.T) store.Store) {
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

	t.Run("DeletesOldFinishedEventsOnly", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		old := bundle.now.Add(-40 * 24 * time.Hour)
		mk := func(received time.Time) *signal.Event {
			e := newEvent(bundle.now)
			e.ReceivedAt = received
			return e
		}
		// Old and delivered, old and still pending, old but not yet
		// processed, and recent.
		done, waiting, unprocessed, recent := mk(old), mk(old), mk(old), mk(bundle.now)
		appendEvents(bundle.ctx, t, bundle.store, done, waiting, recent, unprocessed)
		dDone, dWaiting, dRecent := pendingDelivery(done, "int_a"), pendingDelivery(waiting, "int_a"), pendingDelivery(recent, "int_a")
		dDone.Status = signal.StatusDelivered
		requireNoError(t, bundle.store.RecordProcessed(bundle.ctx, store.RecordProcessedParams{
			UpToSeq: recent.Seq, Deliveries: []*signal.Delivery{dDone, dWaiting, dRecent}, DedupeWindow: 24 * time.Hour, Now: old,
		}))

		n, err := bundle.store.Prune(bundle.ctx, store.PruneParams{Before: bundle.now.Add(-30 * 24 * time.Hour), DedupeBefore: bundle.now.Add(-24 * time.Hour), Limit: 100})
		requireNoError(t, err)
		if n != 1 {
			t.Fatalf("Prune deleted %d events, want 1 (the old delivered one)", n)
		}
		left := map[string]bool{}
		for _, le := range liveEvents(bundle.ctx, t, bundle.store, store.ListLiveEventsParams{Limit: 100}) {
			left[le.MessageID] = true
		}
		if left[done.MessageID] || !left[waiting.MessageID] || !left[unprocessed.MessageID] || !left[recent.MessageID] {
			t.Fatalf("after Prune Live Events hold %v; want all but the old delivered event", left)
		}
		// The dedupe entries recorded 40 days ago are gone: the same
		// message id is queued again, not filtered as a duplicate.
		again := pendingDelivery(waiting, "int_a")
		requireNoError(t, bundle.store.RecordProcessed(bundle.ctx, store.RecordProcessedParams{
			UpToSeq: unprocessed.Seq, Deliveries: []*signal.Delivery{again}, DedupeWindow: 24 * 365 * time.Hour, Now: bundle.now,
		}))
		if again.Status != signal.StatusPending {
			t.Fatalf("a message id whose dedupe entry was pruned is %s/%s", again.Status, again.Reason)
		}
	})
}
