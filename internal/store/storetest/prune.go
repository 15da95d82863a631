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

	t.Run("DeletesOldProcessedEvents", func(t *testing.T) {
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

		n, err := bundle.store.Prune(bundle.ctx, store.PruneParams{Before: bundle.now.Add(-30 * 24 * time.Hour), DedupeBefore: bundle.now.Add(-24 * time.Hour), Limit: 100, Now: bundle.now})
		requireNoError(t, err)
		if n.Events != 2 || n.Expired != 1 {
			t.Fatalf("Prune deleted %d events and expired %d deliveries, want 2 (the old delivered one and the old waiting one) and 1", n.Events, n.Expired)
		}
		left := map[string]bool{}
		for _, le := range liveEvents(bundle.ctx, t, bundle.store, store.ListLiveEventsParams{Limit: 100}) {
			left[le.MessageID] = true
		}
		if left[done.MessageID] || left[waiting.MessageID] || !left[unprocessed.MessageID] || !left[recent.MessageID] {
			t.Fatalf("after Prune Live Events hold %v; want the unprocessed and the recent events only", left)
		}
		// The recent event's delivery still waits; the old one is gone
		// from the queue.
		got, err := bundle.store.ClaimDeliveries(bundle.ctx, store.ClaimDeliveriesParams{IntegrationID: "int_a", Limit: 10, Now: bundle.now, LeaseUntil: bundle.now.Add(time.Minute)})
		requireNoError(t, err)
		if len(got) != 1 || got[0].MessageID != recent.MessageID {
			t.Fatalf("claimable after Prune: %d deliveries, want the recent one only", len(got))
		}
		// The dedupe entries recorded 40 days ago are gone: the same
		// message id is queued again, not filtered as a duplicate.
		again := pendingDelivery(unprocessed, "int_a")
		again.MessageID = waiting.MessageID
		requireNoError(t, bundle.store.RecordProcessed(bundle.ctx, store.RecordProcessedParams{
			UpToSeq: unprocessed.Seq, Deliveries: []*signal.Delivery{again}, DedupeWindow: 24 * 365 * time.Hour, Now: bundle.now,
		}))
		if again.Status != signal.StatusPending {
			t.Fatalf("a message id whose dedupe entry was pruned is %s/%s", again.Status, again.Reason)
		}
	})

	// Retention holds whatever lies at the old end of the log: a backlog
	// of a paused or disabled integration's deliveries (here many times
	// Limit, standing in for more than 10,000 rows at the default limit)
	// is expired and deleted with everything else past the age.
	t.Run("DeletesBehindABacklog", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name               string
			backlog, finished  int
			unprocessed, fresh int
			limit              int
		}{
			{name: "backlog of 25 at limit 2", backlog: 25, finished: 5, unprocessed: 3, fresh: 4, limit: 2},
			{name: "backlog of 60 at limit 5", backlog: 60, finished: 1, unprocessed: 1, fresh: 2, limit: 5},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)
				old := bundle.now.Add(-40 * 24 * time.Hour)

				var events []*signal.Event
				mk := func(n int, received time.Time) []*signal.Event {
					out := make([]*signal.Event, n)
					for i := range out {
						out[i] = newEvent(received)
						out[i].ReceivedAt = received
					}
					events = append(events, out...)
					return out
				}
				backlog, finished, fresh := mk(tt.backlog, old), mk(tt.finished, old), mk(tt.fresh, bundle.now)
				unprocessed := mk(tt.unprocessed, old)
				appendEvents(bundle.ctx, t, bundle.store, events...)

				var ds []*signal.Delivery
				for i, e := range backlog {
					in := "int_paused"
					if i%2 == 1 {
						in = "int_disabled"
					}
					ds = append(ds, pendingDelivery(e, in))
				}
				for _, e := range finished {
					d := pendingDelivery(e, "int_a")
					d.Status = signal.StatusDelivered
					ds = append(ds, d)
				}
				for _, e := range fresh {
					ds = append(ds, pendingDelivery(e, "int_paused"))
				}
				requireNoError(t, bundle.store.RecordProcessed(bundle.ctx, store.RecordProcessedParams{
					UpToSeq: fresh[len(fresh)-1].Seq, Deliveries: ds, DedupeWindow: 24 * time.Hour, Now: old,
				}))

				total, expired := 0, 0
				for calls := 0; ; calls++ {
					if calls > 10*(tt.backlog+tt.finished) {
						t.Fatal("Prune never finished")
					}
					n, err := bundle.store.Prune(bundle.ctx, store.PruneParams{Before: bundle.now.Add(-30 * 24 * time.Hour),
						DedupeBefore: bundle.now.Add(-24 * time.Hour), Limit: tt.limit, Now: bundle.now})
					requireNoError(t, err)
					if n.Events > tt.limit {
						t.Fatalf("Prune deleted %d events at limit %d", n.Events, tt.limit)
					}
					total, expired = total+n.Events, expired+n.Expired
					if n.Events == 0 {
						break
					}
				}
				if want := tt.backlog + tt.finished; total != want || expired != tt.backlog {
					t.Fatalf("Prune deleted %d events and expired %d deliveries, want %d (every processed event past the age) and %d", total, expired, want, tt.backlog)
				}
				left := map[string]string{}
				for _, le := range liveEvents(bundle.ctx, t, bundle.store, store.ListLiveEventsParams{Limit: 1000}) {
					left[le.MessageID] = le.Status
				}
				for _, e := range append(append([]*signal.Event{}, backlog...), finished...) {
					if st, ok := left[e.MessageID]; ok {
						t.Fatalf("old event %s is still there (%s)", e.MessageID, st)
					}
				}
				for _, e := range unprocessed {
					if _, ok := left[e.MessageID]; !ok {
						t.Fatalf("old event %s not yet processed was deleted", e.MessageID)
					}
				}
				for _, e := range fresh {
					if left[e.MessageID] != signal.StatusPending {
						t.Fatalf("recent event %s is %q, want pending", e.MessageID, left[e.MessageID])
					}
				}
			})
		}
	})

	// A waiting delivery past the age ends filtered, expired: one a worker
	// claimed before retention ran is not brought back by its outcome.
	t.Run("ExpiredDeliveryStaysFinished", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		old := bundle.now.Add(-40 * 24 * time.Hour)
		e := newEvent(old)
		e.ReceivedAt = old
		appendEvents(bundle.ctx, t, bundle.store, e)
		recordProcessed(bundle.ctx, t, bundle.store, old, pendingDelivery(e, "int_a"))
		claimed, err := bundle.store.ClaimDeliveries(bundle.ctx, store.ClaimDeliveriesParams{IntegrationID: "int_a", Limit: 1, Now: bundle.now, LeaseUntil: bundle.now.Add(time.Minute)})
		requireNoError(t, err)
		if len(claimed) != 1 {
			t.Fatalf("claimed %d", len(claimed))
		}
		n, err := bundle.store.Prune(bundle.ctx, store.PruneParams{Before: bundle.now.Add(-30 * 24 * time.Hour), Limit: 10, Now: bundle.now})
		requireNoError(t, err)
		if n.Events != 1 || n.Expired != 1 {
			t.Fatalf("Prune deleted %d events and expired %d deliveries, want 1 and 1", n.Events, n.Expired)
		}
		claimed[0].Status = signal.StatusDelivered
		requireNoError(t, bundle.store.FinishDeliveries(bundle.ctx, store.FinishDeliveriesParams{Deliveries: claimed, Now: bundle.now}))
		if rows := liveEvents(bundle.ctx, t, bundle.store, store.ListLiveEventsParams{Limit: 10}); len(rows) != 0 {
			t.Fatalf("after Prune and a late outcome: %d live events, want none", len(rows))
		}
	})
}
