package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/sqlstore"
)

// exerciseLiveDetails covers what Live Events and an integration's page
// read beyond the list: search keys, the reason filter, counts, the next
// attempt, one row's stages and attempts, and integration health.
func exerciseLiveDetails(t *testing.T, newStore func(t *testing.T) store.Store) {
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
	// claimFinish claims every due delivery of integrationID at now and
	// finishes each with set applied.
	claimFinish := func(t *testing.T, b *testBundle, integrationID string, now time.Time, set func(d *signal.Delivery)) []*signal.Delivery {
		t.Helper()
		ds, err := b.store.ClaimDeliveries(b.ctx, store.ClaimDeliveriesParams{IntegrationID: integrationID, Limit: 100, Now: now, LeaseUntil: now.Add(time.Minute)})
		requireNoError(t, err)
		for _, d := range ds {
			set(d)
		}
		requireNoError(t, b.store.FinishDeliveries(b.ctx, store.FinishDeliveriesParams{Deliveries: ds, Now: now}))
		return ds
	}

	t.Run("SearchAndReasonFilters", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		events := seedEvents(b.ctx, t, b.store, b.now, 3)
		d0, d1, d2 := pendingDelivery(events[0], "int_a"), pendingDelivery(events[1], "int_a"), pendingDelivery(events[2], "int_a")
		d1.Status, d1.Reason = signal.StatusFiltered, signal.ReasonNoIdentifier
		requireNoError(t, b.store.RecordProcessed(b.ctx, store.RecordProcessedParams{
			UpToSeq: events[2].Seq, Deliveries: []*signal.Delivery{d0, d1, d2}, Now: b.now,
			SearchKeys: []store.SearchKey{
				{EventSeq: events[0].Seq, Key: "h(u:ann)"}, {EventSeq: events[0].Seq, Key: "h(o:77)"},
				{EventSeq: events[1].Seq, Key: "h(u:ann)"}, {EventSeq: events[2].Seq, Key: "h(e:bob@x.test)"},
			},
		}))
		for _, tt := range []struct {
			name string
			p    store.ListLiveEventsParams
			want []string
		}{
			{"user", store.ListLiveEventsParams{SearchKeys: []string{"h(u:ann)"}}, []string{events[1].MessageID, events[0].MessageID}},
			{"any of the keys", store.ListLiveEventsParams{SearchKeys: []string{"h(u:zed)", "h(o:77)"}}, []string{events[0].MessageID}},
			{"unknown key", store.ListLiveEventsParams{SearchKeys: []string{"h(u:zed)"}}, nil},
			{"reason", store.ListLiveEventsParams{Reason: signal.ReasonNoIdentifier}, []string{events[1].MessageID}},
			{"reason and key", store.ListLiveEventsParams{Reason: signal.ReasonNoIdentifier, SearchKeys: []string{"h(o:77)"}}, nil},
		} {
			rows := liveEvents(b.ctx, t, b.store, tt.p)
			var got []string
			for _, r := range rows {
				got = append(got, r.MessageID)
			}
			requireStrings(t, tt.name, got, tt.want)
		}
	})

	t.Run("CountsByShownStatus", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		requireNoError(t, b.store.CreateIntegration(b.ctx, store.CreateIntegrationParams{Integration: newIntegration("int_a", b.now)}))
		requireNoError(t, b.store.CreateIntegration(b.ctx, store.CreateIntegrationParams{Integration: newIntegration("int_p", b.now)}))
		events := seedEvents(b.ctx, t, b.store, b.now, 4)
		da, dp := pendingDelivery(events[0], "int_a"), pendingDelivery(events[0], "int_p")
		df := pendingDelivery(events[1], "int_a")
		df.Status, df.Reason = signal.StatusFiltered, signal.ReasonNoIdentifier
		dd := pendingDelivery(events[2], "int_a")
		dd.Status = signal.StatusDelivered
		recordProcessed(b.ctx, t, b.store, b.now, da, dp, df, dd)
		in, err := b.store.GetIntegration(b.ctx, store.GetIntegrationParams{ID: "int_p"})
		requireNoError(t, err)
		paused, err := b.store.PauseIntegration(b.ctx, store.PauseIntegrationParams{ID: "int_p", Reason: signal.ReasonAuthFailed, IfUpdatedAt: in.UpdatedAt, Now: b.now})
		requireNoError(t, err)
		if !paused {
			t.Fatal("int_p not paused")
		}
		for _, tt := range []struct {
			name string
			p    store.ListLiveEventsParams
			want store.LiveCounts
		}{
			// events[3] is not processed yet: pending.
			{"all", store.ListLiveEventsParams{}, store.LiveCounts{Pending: 2, Delivered: 1, Filtered: 1, Paused: 1}},
			{"integration", store.ListLiveEventsParams{IntegrationID: "int_p"}, store.LiveCounts{Paused: 1}},
			{"status ignored", store.ListLiveEventsParams{Status: signal.StatusFailed, IntegrationID: "int_a"}, store.LiveCounts{Pending: 1, Delivered: 1, Filtered: 1}},
			// A window: the list's first rows, newest first (events[3],
			// events[2], events[1], then events[0]'s deliveries, the
			// later one first).
			{"window of 2", store.ListLiveEventsParams{Limit: 2}, store.LiveCounts{Pending: 1, Delivered: 1, Limited: true}},
			{"window of 4", store.ListLiveEventsParams{Limit: 4}, store.LiveCounts{Pending: 1, Delivered: 1, Filtered: 1, Paused: 1, Limited: true}},
			{"window of all", store.ListLiveEventsParams{Limit: 5}, store.LiveCounts{Pending: 2, Delivered: 1, Filtered: 1, Paused: 1}},
			{"window past all", store.ListLiveEventsParams{Limit: 6}, store.LiveCounts{Pending: 2, Delivered: 1, Filtered: 1, Paused: 1}},
			{"window by integration", store.ListLiveEventsParams{IntegrationID: "int_a", Limit: 2}, store.LiveCounts{Delivered: 1, Filtered: 1, Limited: true}},
			{"window, status ignored", store.ListLiveEventsParams{Status: signal.StatusPaused, IntegrationID: "int_a", Limit: 3}, store.LiveCounts{Pending: 1, Delivered: 1, Filtered: 1}},
			{"window, status and cursor ignored", store.ListLiveEventsParams{Status: signal.StatusFailed, Cursor: "garbage", Limit: 2}, store.LiveCounts{Pending: 1, Delivered: 1, Limited: true}},
		} {
			got, err := b.store.CountLiveEvents(b.ctx, tt.p)
			requireNoError(t, err)
			if got != tt.want {
				t.Errorf("%s: counts %+v, want %+v", tt.name, got, tt.want)
			}
		}
	})

	t.Run("NextAttemptOnlyWhileRetrying", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		events := seedEvents(b.ctx, t, b.store, b.now, 2)
		recordProcessed(b.ctx, t, b.store, b.now, pendingDelivery(events[0], "int_a"), pendingDelivery(events[1], "int_a"))
		retryAt := b.now.Add(30 * time.Second)
		claimFinish(t, b, "int_a", b.now, func(d *signal.Delivery) {
			d.Attempts = 1
			if d.EventSeq == events[0].Seq {
				d.Status, d.Reason, d.NextAttemptAt = signal.StatusPending, signal.ReasonRetrying, retryAt
			} else {
				d.Status = signal.StatusDelivered
			}
		})
		for _, r := range liveEvents(b.ctx, t, b.store, store.ListLiveEventsParams{}) {
			switch r.MessageID {
			case events[0].MessageID:
				if r.NextAttemptAt == nil {
					t.Fatalf("retrying row %+v has no next attempt", r)
				}
				requireTime(t, "NextAttemptAt", *r.NextAttemptAt, retryAt)
			default:
				if r.NextAttemptAt != nil {
					t.Fatalf("delivered row shows next attempt %v", r.NextAttemptAt)
				}
			}
		}
	})

	t.Run("GetLiveEventStagesAndLastAttempts", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		events := seedEvents(b.ctx, t, b.store, b.now, 2)
		d := pendingDelivery(events[0], "int_a")
		processed := []byte(`{"user_id":"ann","anonymous_id":"","traits":{"email":"ann@x.test"},"consent":"subscribed"}`)
		requireNoError(t, b.store.RecordProcessed(b.ctx, store.RecordProcessedParams{
			UpToSeq: events[0].Seq, Deliveries: []*signal.Delivery{d}, Now: b.now,
			Processed: []store.ProcessedEvent{{EventSeq: events[0].Seq, Body: processed}},
		}))
		// More attempts than are kept: only the last ones remain, in order.
		at := b.now
		for i := range store.MaxAttemptsKept + 5 {
			claimFinish(t, b, "int_a", at, func(d *signal.Delivery) {
				d.Attempts++
				d.Status, d.Reason, d.NextAttemptAt = signal.StatusPending, signal.ReasonRetrying, at
				d.Attempt = &signal.Attempt{At: at, VendorStatus: 500, VendorResponse: fmt.Sprintf("busy %d", i), DurationMS: int64(i)}
			})
			at = at.Add(time.Second)
		}
		claimFinish(t, b, "int_a", at, func(d *signal.Delivery) {
			d.Attempts++
			d.Status, d.Reason = signal.StatusDelivered, ""
			d.Attempt = &signal.Attempt{At: at, Error: "", VendorStatus: 200, VendorResponse: "ok"}
		})
		det, err := b.store.GetLiveEvent(b.ctx, store.GetLiveEventParams{ID: sqlstore.LiveEventID(events[0].Seq, d.ID)})
		requireNoError(t, err)
		requireJSON(t, "Input", det.Input, events[0].Payload)
		requireJSON(t, "Processed", det.Processed, processed)
		if det.Status != signal.StatusDelivered || len(det.Attempts) != store.MaxAttemptsKept {
			t.Fatalf("detail status %s with %d attempts, want delivered with the last %d", det.Status, len(det.Attempts), store.MaxAttemptsKept)
		}
		first, last := det.Attempts[0], det.Attempts[len(det.Attempts)-1]
		if first.VendorResponse != fmt.Sprintf("busy %d", 6) || last.VendorResponse != "ok" || last.VendorStatus != 200 {
			t.Fatalf("attempts run from %+v to %+v, want busy 6 to the 200", first, last)
		}
		requireTime(t, "last attempt", last.At, at)

		// An unprocessed event: no processed stage, no attempts.
		det, err = b.store.GetLiveEvent(b.ctx, store.GetLiveEventParams{ID: sqlstore.LiveEventID(events[1].Seq, 0)})
		requireNoError(t, err)
		if string(det.Processed) != "null" || len(det.Attempts) != 0 || det.Status != signal.StatusPending {
			t.Fatalf("unprocessed detail = %+v", det)
		}
		for _, id := range []string{"dlv_999", "evt_999", "nope", "dlv_x", sqlstore.LiveEventID(events[0].Seq, 0)} {
			_, err := b.store.GetLiveEvent(b.ctx, store.GetLiveEventParams{ID: id})
			requireCode(t, err, signal.ENOTFOUND)
		}
	})

	t.Run("IntegrationHealth", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		events := seedEvents(b.ctx, t, b.store, b.now, 6)
		// Filtered 2 h ago (day only), filtered 10 min ago, and one for
		// another integration.
		old, recent, other := pendingDelivery(events[0], "int_a"), pendingDelivery(events[1], "int_a"), pendingDelivery(events[2], "int_b")
		for _, d := range []*signal.Delivery{old, recent, other} {
			d.Status, d.Reason = signal.StatusFiltered, signal.ReasonNoIdentifier
		}
		recordProcessed(b.ctx, t, b.store, b.now.Add(-2*time.Hour), old)
		recordProcessed(b.ctx, t, b.store, b.now.Add(-10*time.Minute), recent, other)
		// Delivered and failed 1 min ago; two left pending.
		d3, d4 := pendingDelivery(events[3], "int_a"), pendingDelivery(events[4], "int_a")
		p5 := pendingDelivery(events[5], "int_a")
		for _, d := range []*signal.Delivery{d3, d4, p5} {
			d.NextAttemptAt = b.now.Add(-time.Hour)
		}
		recordProcessed(b.ctx, t, b.store, b.now.Add(-time.Minute), d3, d4, p5)
		claimFinish(t, b, "int_a", b.now.Add(-time.Minute), func(d *signal.Delivery) {
			switch d.EventSeq {
			case events[3].Seq:
				d.Status = signal.StatusDelivered
			case events[4].Seq:
				d.Status, d.Reason = signal.StatusFailed, signal.ReasonVendorRejected
			default:
				d.NextAttemptAt = b.now.Add(time.Hour) // still pending
			}
		})

		h, err := b.store.IntegrationHealth(b.ctx, store.IntegrationHealthParams{IntegrationID: "int_a", Now: b.now})
		requireNoError(t, err)
		if want := (store.Outcomes{Delivered: 1, Failed: 1, Filtered: 1}); h.LastHour != want {
			t.Errorf("last hour %+v, want %+v", h.LastHour, want)
		}
		if want := (store.Outcomes{Delivered: 1, Failed: 1, Filtered: 2}); h.LastDay != want {
			t.Errorf("last day %+v, want %+v", h.LastDay, want)
		}
		if h.Backlog != 1 {
			t.Errorf("backlog %d, want 1", h.Backlog)
		}
		requireTime(t, "OldestPending", h.OldestPending, events[5].ReceivedAt)
		if len(h.PerMinute) != 60 {
			t.Fatalf("%d minutes, want 60", len(h.PerMinute))
		}
		minute := b.now.Truncate(time.Minute)
		requireTime(t, "last minute", h.PerMinute[59].At, minute)
		requireTime(t, "first minute", h.PerMinute[0].At, minute.Add(-59*time.Minute))
		oneAgo := b.now.Add(-time.Minute).Truncate(time.Minute)
		tenAgo := b.now.Add(-10 * time.Minute).Truncate(time.Minute)
		total := store.Outcomes{}
		for _, m := range h.PerMinute {
			total.Delivered, total.Filtered, total.Failed = total.Delivered+m.Delivered, total.Filtered+m.Filtered, total.Failed+m.Failed
			switch {
			case m.At.Equal(oneAgo):
				if m.Outcomes != (store.Outcomes{Delivered: 1, Failed: 1}) {
					t.Errorf("minute %v: %+v", m.At, m.Outcomes)
				}
			case m.At.Equal(tenAgo):
				if m.Outcomes != (store.Outcomes{Filtered: 1}) {
					t.Errorf("minute %v: %+v", m.At, m.Outcomes)
				}
			}
		}
		if total != h.LastHour {
			t.Errorf("minutes add up to %+v, last hour is %+v", total, h.LastHour)
		}

		// The backlog alone (the gauges' and the alerts' read) is the
		// health's.
		backlog, err := b.store.IntegrationBacklog(b.ctx, store.IntegrationBacklogParams{IntegrationID: "int_a"})
		requireNoError(t, err)
		if *backlog != h.IntegrationBacklog {
			t.Errorf("IntegrationBacklog = %+v, want the health's %+v", *backlog, h.IntegrationBacklog)
		}

		empty, err := b.store.IntegrationHealth(b.ctx, store.IntegrationHealthParams{IntegrationID: "int_none", Now: b.now})
		requireNoError(t, err)
		if empty.Backlog != 0 || !empty.OldestPending.IsZero() || empty.LastDay != (store.Outcomes{}) {
			t.Errorf("health of an integration without deliveries = %+v", empty)
		}
		emptyBacklog, err := b.store.IntegrationBacklog(b.ctx, store.IntegrationBacklogParams{IntegrationID: "int_none"})
		requireNoError(t, err)
		if *emptyBacklog != (store.IntegrationBacklog{}) {
			t.Errorf("backlog of an integration without deliveries = %+v", *emptyBacklog)
		}
	})
}
