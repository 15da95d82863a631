package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// exerciseStaleWrites pins that late writers cannot bring deliveries back:
// a processor recording for an integration deleted meanwhile, and a worker
// finishing after its lease ran out or its integration was deleted.
func exerciseStaleWrites(t *testing.T, newStore func(t *testing.T) store.Store) {
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
	status := func(t *testing.T, bundle *testBundle, msgID string) (signal.DeliveryStatus, signal.Reason) {
		t.Helper()
		for _, le := range liveEvents(bundle.ctx, t, bundle.store, store.ListLiveEventsParams{Limit: 100}) {
			if le.MessageID == msgID {
				return le.Status, le.Reason
			}
		}
		t.Fatalf("no live event for %s", msgID)
		return "", ""
	}

	t.Run("RecordForDeletedIntegrationIsFiltered", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		in := newIntegration("int_gone", bundle.now)
		requireNoError(t, bundle.store.CreateIntegration(bundle.ctx, store.CreateIntegrationParams{Integration: in}))
		events := seedEvents(bundle.ctx, t, bundle.store, bundle.now, 1)
		requireNoError(t, bundle.store.DeleteIntegration(bundle.ctx, store.DeleteIntegrationParams{ID: in.ID}))
		d := pendingDelivery(events[0], in.ID)
		recordProcessed(bundle.ctx, t, bundle.store, bundle.now, d)
		if st, reason := status(t, bundle, events[0].MessageID); st != signal.StatusFiltered || reason != signal.ReasonIntegrationDeleted {
			t.Fatalf("delivery for a deleted integration is %s/%s, want filtered/integration_deleted", st, reason)
		}
	})

	t.Run("FinishAfterDeleteLeavesItFiltered", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		in := newIntegration("int_gone", bundle.now)
		requireNoError(t, bundle.store.CreateIntegration(bundle.ctx, store.CreateIntegrationParams{Integration: in}))
		events := seedEvents(bundle.ctx, t, bundle.store, bundle.now, 1)
		recordProcessed(bundle.ctx, t, bundle.store, bundle.now, pendingDelivery(events[0], in.ID))
		claimed, err := bundle.store.ClaimDeliveries(bundle.ctx, store.ClaimDeliveriesParams{IntegrationID: in.ID, Limit: 10, Now: bundle.now, LeaseUntil: bundle.now.Add(time.Minute)})
		requireNoError(t, err)
		requireNoError(t, bundle.store.DeleteIntegration(bundle.ctx, store.DeleteIntegrationParams{ID: in.ID}))
		claimed[0].Reason, claimed[0].Attempts = signal.ReasonRetrying, 1 // a 503 came back
		requireNoError(t, bundle.store.FinishDeliveries(bundle.ctx, store.FinishDeliveriesParams{Deliveries: claimed, Now: bundle.now}))
		if st, reason := status(t, bundle, events[0].MessageID); st != signal.StatusFiltered || reason != signal.ReasonIntegrationDeleted {
			t.Fatalf("a late finish turned the deleted integration's delivery into %s/%s", st, reason)
		}
	})

	t.Run("FinishWithExpiredLeaseLosesToTheNewClaim", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		events := seedEvents(bundle.ctx, t, bundle.store, bundle.now, 1)
		recordProcessed(bundle.ctx, t, bundle.store, bundle.now, pendingDelivery(events[0], "int_a"))
		claim := func(at time.Time) *signal.Delivery {
			ds, err := bundle.store.ClaimDeliveries(bundle.ctx, store.ClaimDeliveriesParams{IntegrationID: "int_a", Limit: 10, Now: at, LeaseUntil: at.Add(time.Minute)})
			requireNoError(t, err)
			if len(ds) != 1 {
				t.Fatalf("claimed %d", len(ds))
			}
			return ds[0]
		}
		slow := claim(bundle.now)
		fast := claim(bundle.now.Add(2 * time.Minute)) // the first lease ran out
		fast.Status, fast.Attempts, fast.VendorStatus = signal.StatusDelivered, 1, 202
		requireNoError(t, bundle.store.FinishDeliveries(bundle.ctx, store.FinishDeliveriesParams{Deliveries: []*signal.Delivery{fast}, Now: bundle.now.Add(2 * time.Minute)}))
		slow.Status, slow.Reason, slow.Attempts = signal.StatusFailed, signal.ReasonVendorRejected, 1
		requireNoError(t, bundle.store.FinishDeliveries(bundle.ctx, store.FinishDeliveriesParams{Deliveries: []*signal.Delivery{slow}, Now: bundle.now.Add(3 * time.Minute)}))
		if st, _ := status(t, bundle, events[0].MessageID); st != signal.StatusDelivered {
			t.Fatalf("the expired claim's late answer overwrote delivered with %s", st)
		}
	})
}

func exercisePauseIntegration(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	type testBundle struct {
		ctx   context.Context
		now   time.Time
		store store.Store
	}
	setup := func(t *testing.T) (*testBundle, *signal.Integration) {
		t.Helper()
		b := &testBundle{ctx: t.Context(), now: testNow(), store: newStore(t)}
		in := newIntegration("int_p", b.now)
		requireNoError(t, b.store.CreateIntegration(b.ctx, store.CreateIntegrationParams{Integration: in}))
		return b, in
	}

	t.Run("PausesTheVersionItSaw", func(t *testing.T) {
		t.Parallel()
		bundle, in := setup(t)
		ok, err := bundle.store.PauseIntegration(bundle.ctx, store.PauseIntegrationParams{ID: in.ID, Reason: signal.ReasonAuthFailed, IfUpdatedAt: in.UpdatedAt, Now: bundle.now.Add(time.Second)})
		requireNoError(t, err)
		got, err := bundle.store.GetIntegration(bundle.ctx, store.GetIntegrationParams{ID: in.ID})
		requireNoError(t, err)
		if !ok || got.Status != signal.IntegrationPaused || got.StatusReason != signal.ReasonAuthFailed {
			t.Fatalf("PauseIntegration = %v; integration %s/%s", ok, got.Status, got.StatusReason)
		}
	})

	t.Run("LeavesANewerVersionAlone", func(t *testing.T) {
		t.Parallel()
		bundle, in := setup(t)
		seen := in.UpdatedAt
		in.Config = map[string]any{"api_key": "replaced"}
		in.UpdatedAt = bundle.now.Add(time.Second)
		requireNoError(t, bundle.store.UpdateIntegration(bundle.ctx, store.UpdateIntegrationParams{Integration: in}))
		ok, err := bundle.store.PauseIntegration(bundle.ctx, store.PauseIntegrationParams{ID: in.ID, Reason: signal.ReasonAuthFailed, IfUpdatedAt: seen, Now: bundle.now.Add(2 * time.Second)})
		requireNoError(t, err)
		got, err := bundle.store.GetIntegration(bundle.ctx, store.GetIntegrationParams{ID: in.ID})
		requireNoError(t, err)
		if ok || got.Status != signal.IntegrationActive || got.ConfigString("api_key") != "replaced" {
			t.Fatalf("a refusal of the old key paused the replaced one: %v, %s, key %q", ok, got.Status, got.ConfigString("api_key"))
		}
	})
}
