package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

func exerciseDeliveries(t *testing.T, newStore func(t *testing.T) store.Store) {
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

	claim := func(t *testing.T, bundle *testBundle, integrationID string, at time.Time) []*signal.Delivery {
		t.Helper()
		ds, err := bundle.store.ClaimDeliveries(bundle.ctx, store.ClaimDeliveriesParams{IntegrationID: integrationID, Limit: 10, Now: at, LeaseUntil: at.Add(time.Hour)})
		requireNoError(t, err)
		return ds
	}

	finish := func(t *testing.T, bundle *testBundle, at time.Time, ds ...*signal.Delivery) {
		t.Helper()
		requireNoError(t, bundle.store.FinishDeliveries(bundle.ctx, store.FinishDeliveriesParams{Deliveries: ds, Now: at}))
	}

	rowsOf := func(t *testing.T, bundle *testBundle, integrationID string) []*signal.LiveEvent {
		t.Helper()
		return liveEvents(bundle.ctx, t, bundle.store, store.ListLiveEventsParams{IntegrationID: integrationID, Limit: 100})
	}

	t.Run("Dedupe", func(t *testing.T) {
		t.Parallel()

		filtered := func(reason signal.Reason) func(d *signal.Delivery) {
			return func(d *signal.Delivery) { d.Status, d.Reason = signal.StatusFiltered, reason }
		}
		toB := func(d *signal.Delivery) { d.IntegrationID = "int_b" }
		toPip2 := func(d *signal.Delivery) { d.PipelineID = "pip_2" }
		signed := func(d *signal.Delivery) { d.Signed = true }
		for _, tt := range []struct {
			name           string
			first, second  func(d *signal.Delivery) // nil: pending to int_a
			after          time.Duration            // second recorded after the first; 0: in the same call
			window         time.Duration
			wantStatus     signal.DeliveryStatus
			wantReason     signal.Reason
			wantFirstState signal.DeliveryStatus
		}{
			{name: "WithinWindow", after: time.Hour, wantStatus: signal.StatusFiltered, wantReason: signal.ReasonDuplicate},
			{name: "SameCall", wantStatus: signal.StatusFiltered, wantReason: signal.ReasonDuplicate},
			{name: "AfterWindow", after: 25 * time.Hour, wantStatus: signal.StatusPending},
			{name: "NoWindow", after: time.Minute, window: -1, wantStatus: signal.StatusPending},
			{name: "OtherIntegration", after: time.Hour, second: toB, wantStatus: signal.StatusPending},
			// Dedupe is per pipeline and signed-or-not: message ids are the
			// sender's, and the pipeline key is public.
			{name: "OtherPipeline", after: time.Hour, second: toPip2, wantStatus: signal.StatusPending},
			{name: "UnsignedNeverSuppressesSigned", after: time.Hour, second: signed, wantStatus: signal.StatusPending},
			{name: "UnsignedNeverSuppressesSignedSameCall", second: signed, wantStatus: signal.StatusPending},
			{name: "SignedDoesNotSuppressUnsigned", after: time.Hour, first: signed, wantStatus: signal.StatusPending},
			{name: "BothSigned", after: time.Hour, first: signed, second: signed, wantStatus: signal.StatusFiltered, wantReason: signal.ReasonDuplicate},
			{name: "FirstNotPending", after: time.Hour, first: filtered(signal.ReasonConsentDenied), wantStatus: signal.StatusPending},
			{name: "SecondNotPending", after: time.Hour, second: filtered(signal.ReasonEventNotEnabled),
				wantStatus: signal.StatusFiltered, wantReason: signal.ReasonEventNotEnabled},
		} {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)

				window := 24 * time.Hour
				if tt.window < 0 {
					window = 0
				}
				// Two events with one message id (a client resending it).
				e1 := newEvent(bundle.now)
				e2 := newEvent(bundle.now.Add(tt.after))
				e2.MessageID = e1.MessageID
				appendEvents(bundle.ctx, t, bundle.store, e1, e2)
				d1, d2 := pendingDelivery(e1, "int_a"), pendingDelivery(e2, "int_a")
				for d, mod := range map[*signal.Delivery]func(*signal.Delivery){d1: tt.first, d2: tt.second} {
					if mod != nil {
						mod(d)
					}
				}
				first := store.RecordProcessedParams{UpToSeq: e1.Seq, Deliveries: []*signal.Delivery{d1}, DedupeWindow: window, Now: bundle.now}
				second := store.RecordProcessedParams{UpToSeq: e2.Seq, Deliveries: []*signal.Delivery{d2}, DedupeWindow: window, Now: bundle.now.Add(tt.after)}
				if tt.after == 0 {
					first.UpToSeq, first.Deliveries = e2.Seq, []*signal.Delivery{d1, d2}
				}
				requireNoError(t, bundle.store.RecordProcessed(bundle.ctx, first))
				if tt.after != 0 {
					requireNoError(t, bundle.store.RecordProcessed(bundle.ctx, second))
				}

				// Both are stored; only the second can be a duplicate.
				rows := liveEvents(bundle.ctx, t, bundle.store, store.ListLiveEventsParams{Limit: 100})
				if len(rows) != 2 {
					t.Fatalf("live events = %d rows, want 2", len(rows))
				}
				got, firstRow := rows[0], rows[1] // newest first
				if got.Status != tt.wantStatus || got.Reason != tt.wantReason {
					t.Fatalf("second delivery: %s/%s, want %s/%s", got.Status, got.Reason, tt.wantStatus, tt.wantReason)
				}
				if firstRow.Status != d1.Status || firstRow.Reason != d1.Reason {
					t.Fatalf("first delivery: %s/%s, want %s/%s", firstRow.Status, firstRow.Reason, d1.Status, d1.Reason)
				}
			})
		}
	})

	// Many copies of each message id in one pass (1,500 deliveries, more
	// than one multi-row statement of either backend takes): the first copy
	// of each is claimed, every later one is a duplicate.
	t.Run("DedupeCopiesInOnePass", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		const distinct = 500
		events := make([]*signal.Event, 3*distinct)
		for i := range events {
			events[i] = newEvent(bundle.now)
			if i >= distinct {
				events[i].MessageID = events[i%distinct].MessageID
			}
		}
		appendEvents(bundle.ctx, t, bundle.store, events...)
		ds := make([]*signal.Delivery, len(events))
		for i, e := range events {
			ds[i] = pendingDelivery(e, "int_a")
		}
		requireNoError(t, bundle.store.RecordProcessed(bundle.ctx, store.RecordProcessedParams{UpToSeq: events[len(events)-1].Seq,
			Deliveries: ds, DedupeWindow: 24 * time.Hour, Now: bundle.now}))
		counts, err := bundle.store.CountLiveEvents(bundle.ctx, store.ListLiveEventsParams{IntegrationID: "int_a"})
		requireNoError(t, err)
		if counts.Pending != distinct || counts.Filtered != 2*distinct {
			t.Fatalf("counts %+v, want %d pending and %d filtered", counts, distinct, 2*distinct)
		}
		claimed, err := bundle.store.ClaimDeliveries(bundle.ctx, store.ClaimDeliveriesParams{IntegrationID: "int_a", Limit: 3 * distinct,
			Now: bundle.now, LeaseUntil: bundle.now.Add(time.Minute)})
		requireNoError(t, err)
		if len(claimed) != distinct {
			t.Fatalf("claimed %d deliveries, want the %d first copies", len(claimed), distinct)
		}
		for _, d := range claimed {
			if d.EventSeq > events[distinct-1].Seq {
				t.Fatalf("claimed event %d, a later copy: the first copy of each message must be the one sent", d.EventSeq)
			}
		}
	})

	t.Run("DuplicateIsNotClaimed", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		e1 := newEvent(bundle.now)
		e2 := newEvent(bundle.now)
		e2.MessageID = e1.MessageID
		appendEvents(bundle.ctx, t, bundle.store, e1, e2)
		d1, d2 := pendingDelivery(e1, "int_a"), pendingDelivery(e2, "int_a")
		d2.ContactKey = "other"
		recordProcessed(bundle.ctx, t, bundle.store, bundle.now, d1, d2)
		got := claim(t, bundle, "int_a", bundle.now)
		if len(got) != 1 || got[0].EventSeq != e1.Seq {
			t.Fatalf("claimed %d deliveries, want only the first of the two copies", len(got))
		}
	})

	t.Run("FinishDeliveriesWritesOutcome", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		events := seedEvents(bundle.ctx, t, bundle.store, bundle.now, 2)
		recordProcessed(bundle.ctx, t, bundle.store, bundle.now, pendingDelivery(events[0], "int_a"), pendingDelivery(events[1], "int_a"))
		ds := claim(t, bundle, "int_a", bundle.now)
		ds[0].Status, ds[0].Reason, ds[0].Attempts = signal.StatusFailed, signal.ReasonVendorRejected, 1
		ds[0].VendorStatus, ds[0].VendorResponse = 400, `{"error":"invalid email"}`
		ds[0].Payload = json.RawMessage(`{"eventName":"placed order","contact":{"email":"x"}}`)
		ds[1].Status, ds[1].Attempts, ds[1].VendorStatus, ds[1].VendorResponse = signal.StatusDelivered, 3, 202, `{"id":"1"}`
		finishedAt := bundle.now.Add(time.Second)
		finish(t, bundle, finishedAt, ds...)

		rows := rowsOf(t, bundle, "int_a")
		if len(rows) != 2 {
			t.Fatalf("live events = %d rows, want 2", len(rows))
		}
		for i, d := range []*signal.Delivery{ds[1], ds[0]} { // newest first
			r := rows[i]
			if r.MessageID != d.MessageID || r.Status != d.Status || r.Reason != d.Reason || r.Attempts != d.Attempts ||
				r.VendorStatus != d.VendorStatus || r.VendorResponse != d.VendorResponse {
				t.Fatalf("row %d = %+v, want the outcome of %+v", i, r, d)
			}
			requireJSON(t, "Payload", r.Payload, d.Payload)
			requireTime(t, "UpdatedAt", r.UpdatedAt, finishedAt)
		}
		if got := claim(t, bundle, "int_a", bundle.now.Add(2*time.Hour)); len(got) != 0 {
			t.Fatalf("claimed %q after they finished", messageIDs(got))
		}
	})

	t.Run("NextDue", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		nextDue := func(integrationID string) (time.Time, bool) {
			due, ok, err := bundle.store.NextDue(bundle.ctx, store.NextDueParams{IntegrationID: integrationID})
			requireNoError(t, err)
			return due, ok
		}
		if _, ok := nextDue("int_a"); ok {
			t.Fatal("NextDue of an empty queue: ok")
		}

		events := seedEvents(bundle.ctx, t, bundle.store, bundle.now, 4)
		at := func(e *signal.Event, integrationID string, d time.Duration) *signal.Delivery {
			dl := pendingDelivery(e, integrationID)
			dl.NextAttemptAt = bundle.now.Add(d)
			return dl
		}
		done := at(events[3], "int_a", -time.Hour)
		done.Status, done.Reason = signal.StatusFiltered, signal.ReasonEventNotEnabled
		recordProcessed(bundle.ctx, t, bundle.store, bundle.now,
			at(events[0], "int_a", 5*time.Minute), at(events[1], "int_a", 2*time.Minute), at(events[2], "int_b", time.Minute), done)

		for _, tt := range []struct {
			integrationID string
			want          time.Duration
		}{{"int_a", 2 * time.Minute}, {"int_b", time.Minute}} {
			due, ok := nextDue(tt.integrationID)
			if !ok {
				t.Fatalf("NextDue(%s): none", tt.integrationID)
			}
			requireTime(t, "NextDue("+tt.integrationID+")", due, bundle.now.Add(tt.want))
		}

		// Once the earliest is delivered, the next one is due.
		d := claim(t, bundle, "int_a", bundle.now.Add(2*time.Minute))[0]
		d.Status, d.Attempts = signal.StatusDelivered, 1
		finish(t, bundle, bundle.now.Add(3*time.Minute), d)
		due, ok := nextDue("int_a")
		if !ok {
			t.Fatal("NextDue(int_a): none")
		}
		requireTime(t, "NextDue(int_a)", due, bundle.now.Add(5*time.Minute))
	})

	t.Run("RequeueDeliveries", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		// One failure two days ago, then two recent ones, a delivered one
		// and a failure on another integration.
		old := bundle.now.Add(-48 * time.Hour)
		oldEvent := seedEvents(bundle.ctx, t, bundle.store, old, 1)[0]
		recordProcessed(bundle.ctx, t, bundle.store, old, pendingDelivery(oldEvent, "int_a"))
		d := claim(t, bundle, "int_a", old)[0]
		d.Status, d.Reason, d.Attempts = signal.StatusFailed, signal.ReasonRetriesExhausted, 5
		finish(t, bundle, old.Add(time.Second), d)

		events := seedEvents(bundle.ctx, t, bundle.store, bundle.now, 4)
		recordProcessed(bundle.ctx, t, bundle.store, bundle.now, pendingDelivery(events[0], "int_a"),
			pendingDelivery(events[1], "int_a"), pendingDelivery(events[2], "int_a"), pendingDelivery(events[3], "int_b"))
		ds := append(claim(t, bundle, "int_a", bundle.now), claim(t, bundle, "int_b", bundle.now)...)
		for _, d := range ds {
			d.Status, d.Reason, d.Attempts = signal.StatusFailed, signal.ReasonRetriesExhausted, 5
		}
		ds[2].Status, ds[2].Reason, ds[2].Attempts = signal.StatusDelivered, "", 1
		finish(t, bundle, bundle.now.Add(time.Second), ds...)

		requeue := func(since time.Time) int {
			n, err := bundle.store.RequeueDeliveries(bundle.ctx, store.RequeueDeliveriesParams{
				IntegrationID: "int_a", Status: signal.StatusFailed, Since: since, Now: bundle.now.Add(time.Minute),
			})
			requireNoError(t, err)
			return n
		}
		if n := requeue(bundle.now.Add(-time.Hour)); n != 2 {
			t.Fatalf("RequeueDeliveries since an hour ago = %d, want 2", n)
		}
		got := claim(t, bundle, "int_a", bundle.now.Add(time.Minute))
		requireStrings(t, "claimed after requeue", messageIDs(got), []string{events[0].MessageID, events[1].MessageID})
		if n := requeue(bundle.now.Add(-time.Hour)); n != 0 {
			t.Fatalf("RequeueDeliveries again = %d, want 0", n)
		}

		status := map[string]signal.DeliveryStatus{}
		for _, r := range liveEvents(bundle.ctx, t, bundle.store, store.ListLiveEventsParams{Limit: 100}) {
			status[r.MessageID] = r.Status
		}
		for msgID, want := range map[string]signal.DeliveryStatus{
			oldEvent.MessageID: signal.StatusFailed, events[0].MessageID: signal.StatusPending, events[1].MessageID: signal.StatusPending,
			events[2].MessageID: signal.StatusDelivered, events[3].MessageID: signal.StatusFailed,
		} {
			if status[msgID] != want {
				t.Fatalf("%s is %s, want %s", msgID, status[msgID], want)
			}
		}

		if n := requeue(time.Time{}); n != 1 {
			t.Fatalf("RequeueDeliveries since ever = %d, want 1 (the old failure)", n)
		}
	})

	t.Run("ReleaseLeases", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		events := seedEvents(bundle.ctx, t, bundle.store, bundle.now, 2)
		recordProcessed(bundle.ctx, t, bundle.store, bundle.now, pendingDelivery(events[0], "int_a"), pendingDelivery(events[1], "int_a"))
		ds := claim(t, bundle, "int_a", bundle.now)
		if len(ds) != 2 {
			t.Fatalf("claimed %d, want 2", len(ds))
		}
		ds[0].Status, ds[0].Attempts = signal.StatusDelivered, 1
		finish(t, bundle, bundle.now, ds[0])
		if got := claim(t, bundle, "int_a", bundle.now.Add(time.Minute)); len(got) != 0 {
			t.Fatalf("claimed %q while leased", messageIDs(got))
		}

		requireNoError(t, bundle.store.ReleaseLeases(bundle.ctx))
		got := claim(t, bundle, "int_a", bundle.now.Add(time.Minute))
		requireStrings(t, "claimed after ReleaseLeases", messageIDs(got), []string{events[1].MessageID})
	})
}
