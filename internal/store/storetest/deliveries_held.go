package storetest

import (
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// exerciseHeldClocks pins what a pause does to the clocks of the deliveries
// it holds: when the integration flows again, their max_age (ExpiresAt) and
// retry window (CreatedAt) move on by the pause's length, once; an update
// while paused moves nothing; other integrations' and finished deliveries
// stay as they were. And a finish keeps the CreatedAt the engine gives it
// (the retry window starts at a delivery's first failure).
func exerciseHeldClocks(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()

	t.Run("ResumeMovesHeldClocks", func(t *testing.T) {
		t.Parallel()
		ctx, now, st := t.Context(), testNow(), newStore(t)
		for _, id := range []string{"int_p", "int_q"} {
			requireNoError(t, st.CreateIntegration(ctx, store.CreateIntegrationParams{Integration: newIntegration(id, now)}))
		}
		at := func(d time.Duration) time.Time { return now.Add(d) }
		events := seedEvents(ctx, t, st, now, 5)
		held, noAge, other, done, stale := pendingDelivery(events[0], "int_p"), pendingDelivery(events[1], "int_p"),
			pendingDelivery(events[2], "int_q"), pendingDelivery(events[3], "int_p"), pendingDelivery(events[4], "int_p")
		held.ExpiresAt, other.ExpiresAt = now.Add(time.Hour), now.Add(time.Hour)
		stale.ExpiresAt = now.Add(5 * time.Minute) // expired before the pause, not yet claimed
		done.Status = signal.StatusDelivered
		recordProcessed(ctx, t, st, now, held, noAge, other, done, stale)
		update := func(when time.Time, status string) {
			t.Helper()
			in, err := st.GetIntegration(ctx, store.GetIntegrationParams{ID: "int_p"})
			requireNoError(t, err)
			in.Name, in.Status, in.UpdatedAt = "renamed at "+when.String(), status, when
			if status == signal.IntegrationActive {
				in.StatusReason = ""
			}
			requireNoError(t, st.UpdateIntegration(ctx, store.UpdateIntegrationParams{Integration: in}))
		}
		in, err := st.GetIntegration(ctx, store.GetIntegrationParams{ID: "int_p"})
		requireNoError(t, err)
		paused, err := st.PauseIntegration(ctx, store.PauseIntegrationParams{ID: "int_p", Reason: signal.ReasonAuthFailed, IfUpdatedAt: in.UpdatedAt, Now: at(10 * time.Minute)})
		requireNoError(t, err)
		if !paused {
			t.Fatal("int_p not paused")
		}
		update(at(20*time.Minute), signal.IntegrationPaused) // renamed while paused
		// Queued 10 min before the resume: held 10 min only.
		lateEvents := seedEvents(ctx, t, st, at(2*time.Hour+50*time.Minute), 1)
		late := pendingDelivery(lateEvents[0], "int_p")
		late.ExpiresAt = at(3*time.Hour + 50*time.Minute)
		recordProcessed(ctx, t, st, at(2*time.Hour+50*time.Minute), late)
		update(at(3*time.Hour), signal.IntegrationActive)                // the key replaced: held 2 h 50
		update(at(3*time.Hour+15*time.Minute), signal.IntegrationActive) // renamed while flowing

		// Flowing for 10 min, then for 40 min since the resume: 50 min of
		// the held delivery's hour.
		ds, err := st.ClaimDeliveries(ctx, store.ClaimDeliveriesParams{IntegrationID: "int_p", Limit: 10, Now: at(3*time.Hour + 40*time.Minute), LeaseUntil: at(5 * time.Hour)})
		requireNoError(t, err)
		pause := 3*time.Hour - 10*time.Minute
		want := map[string][2]time.Time{ // created, expires
			held.MessageID:  {now.Add(pause), now.Add(time.Hour + pause)},
			noAge.MessageID: {now.Add(pause), {}},
			late.MessageID:  {at(3 * time.Hour), at(4 * time.Hour)},
		}
		if len(ds) != len(want) {
			for _, le := range liveEvents(ctx, t, st, store.ListLiveEventsParams{IntegrationID: "int_p"}) {
				t.Logf("%s: %s/%s", le.MessageID, le.Status, le.Reason)
			}
			t.Fatalf("claimed %d deliveries of int_p at 3 h 40, want the 3 held, none expired but the one expired before the pause", len(ds))
		}
		for _, d := range ds {
			w := want[d.MessageID]
			requireTime(t, d.MessageID+" CreatedAt", d.CreatedAt, w[0])
			if w[1].IsZero() != d.ExpiresAt.IsZero() || (!w[1].IsZero() && !d.ExpiresAt.Equal(w[1])) {
				t.Fatalf("%s ExpiresAt = %v, want %v", d.MessageID, d.ExpiresAt, w[1])
			}
		}
		for _, le := range liveEvents(ctx, t, st, store.ListLiveEventsParams{IntegrationID: "int_p"}) {
			if le.MessageID == stale.MessageID && (le.Status != signal.StatusFiltered || le.Reason != signal.ReasonExpired) {
				t.Fatalf("the delivery expired before the pause is %s/%s, want filtered/expired", le.Status, le.Reason)
			}
		}
		// int_q was never paused: its delivery expired at 1 h.
		ds, err = st.ClaimDeliveries(ctx, store.ClaimDeliveriesParams{IntegrationID: "int_q", Limit: 10, Now: at(3*time.Hour + 40*time.Minute), LeaseUntil: at(5 * time.Hour)})
		requireNoError(t, err)
		if len(ds) != 0 {
			t.Fatalf("claimed %d deliveries of int_q, want its one expired", len(ds))
		}
	})

	t.Run("FinishKeepsCreatedAt", func(t *testing.T) {
		t.Parallel()
		ctx, now, st := t.Context(), testNow(), newStore(t)
		events := seedEvents(ctx, t, st, now, 1)
		recordProcessed(ctx, t, st, now, pendingDelivery(events[0], "int_a"))
		claim := func(when time.Time) *signal.Delivery {
			t.Helper()
			ds, err := st.ClaimDeliveries(ctx, store.ClaimDeliveriesParams{IntegrationID: "int_a", Limit: 10, Now: when, LeaseUntil: when.Add(time.Minute)})
			requireNoError(t, err)
			if len(ds) != 1 {
				t.Fatalf("claimed %d, want 1", len(ds))
			}
			return ds[0]
		}
		d := claim(now.Add(time.Hour))
		failed := now.Add(time.Hour + time.Second)
		d.Status, d.Reason, d.Attempts, d.CreatedAt, d.NextAttemptAt = signal.StatusPending, signal.ReasonRetrying, 1, failed, failed
		requireNoError(t, st.FinishDeliveries(ctx, store.FinishDeliveriesParams{Deliveries: []*signal.Delivery{d}, Now: failed}))
		requireTime(t, "CreatedAt after a finish", claim(failed.Add(time.Second)).CreatedAt, failed)
	})
}
