package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// exerciseRebuild pins ReplayableDeliveries and ReplaceDeliveries: the
// replay of filtered events through the current blueprint.
func exerciseRebuild(t *testing.T, newStore func(t *testing.T) store.Store) {
	type testBundle struct {
		ctx   context.Context
		now   time.Time
		store store.Store
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		b := &testBundle{ctx: t.Context(), now: testNow(), store: newStore(t)}
		events := seedEvents(b.ctx, t, b.store, b.now, 4)
		reasons := []signal.Reason{signal.ReasonDryRun, signal.ReasonEventNotEnabled, signal.ReasonNoIdentifier, signal.ReasonDryRun}
		ds := make([]*signal.Delivery, len(events))
		for i, e := range events {
			ds[i] = pendingDelivery(e, "int_a")
			ds[i].Status, ds[i].Reason, ds[i].ContactKey = signal.StatusFiltered, reasons[i], ""
		}
		ds[3].IntegrationID = "int_b"
		recordProcessed(b.ctx, t, b.store, b.now, ds...)
		return b
	}
	list := func(t *testing.T, b *testBundle, p store.ReplayableParams) []store.Replayable {
		t.Helper()
		rs, err := b.store.ReplayableDeliveries(b.ctx, p)
		requireNoError(t, err)
		return rs
	}

	t.Run("SelectsByReasonAndID", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rs := list(t, b, store.ReplayableParams{IntegrationID: "int_a", Status: signal.StatusFiltered,
			Reasons: []signal.Reason{signal.ReasonDryRun, signal.ReasonEventNotEnabled}})
		if len(rs) != 2 {
			t.Fatalf("replayable = %d rows, want 2 (int_a's dry_run and event_not_enabled)", len(rs))
		}
		if rs[0].Event.Seq != rs[0].Delivery.EventSeq || len(rs[0].Event.Payload) == 0 {
			t.Fatalf("replayable row lacks its event: %+v", rs[0].Event)
		}
		if got := list(t, b, store.ReplayableParams{IntegrationID: "int_a", Status: signal.StatusFiltered, AfterID: rs[0].Delivery.ID, Limit: 1}); len(got) != 1 || got[0].Delivery.ID != rs[1].Delivery.ID {
			t.Fatalf("page after the first = %v, want the second row", got)
		}
		one := list(t, b, store.ReplayableParams{DeliveryID: rs[1].Delivery.ID})
		if len(one) != 1 || one[0].Delivery.Reason != signal.ReasonEventNotEnabled {
			t.Fatalf("by id = %v, want the event_not_enabled row", one)
		}
	})

	t.Run("ReplaceOnlyUnchanged", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rs := list(t, b, store.ReplayableParams{IntegrationID: "int_a", Status: signal.StatusFiltered, Reasons: []signal.Reason{signal.ReasonDryRun}})
		if len(rs) != 1 {
			t.Fatalf("replayable = %d, want 1", len(rs))
		}
		d := rs[0].Delivery
		was := map[int64]store.DeliveryState{d.ID: {Status: d.Status, Reason: d.Reason}}
		d.Status, d.Reason, d.ContactKey, d.Payload = signal.StatusPending, "", "c1", []byte(`{"eventID":"x"}`)
		later := b.now.Add(time.Hour)
		n, err := b.store.ReplaceDeliveries(b.ctx, store.ReplaceDeliveriesParams{Deliveries: []*signal.Delivery{d}, Was: was, Now: later})
		requireNoError(t, err)
		if n != 1 {
			t.Fatalf("replaced %d, want 1", n)
		}
		// A second replay read before the first wrote changes nothing.
		n, err = b.store.ReplaceDeliveries(b.ctx, store.ReplaceDeliveriesParams{Deliveries: []*signal.Delivery{d}, Was: was, Now: later})
		requireNoError(t, err)
		if n != 0 {
			t.Fatalf("replaced again %d, want 0", n)
		}
		got, err := b.store.ClaimDeliveries(b.ctx, store.ClaimDeliveriesParams{IntegrationID: "int_a", Limit: 10, Now: later, LeaseUntil: later.Add(time.Minute)})
		requireNoError(t, err)
		if len(got) != 1 || got[0].ID != d.ID || string(got[0].Payload) != `{"eventID":"x"}` || got[0].Attempts != 0 {
			t.Fatalf("claimed after replace = %+v, want the rebuilt delivery", got)
		}
	})
}
