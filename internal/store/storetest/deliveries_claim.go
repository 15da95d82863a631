package storetest

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

func exerciseClaimDeliveries(t *testing.T, newStore func(t *testing.T) store.Store) {
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

	// record appends one event per delivery built by mods (applied to a
	// pending delivery to int_a) and records them all, in order.
	record := func(t *testing.T, bundle *testBundle, mods ...func(d *signal.Delivery)) []*signal.Delivery {
		t.Helper()
		events := seedEvents(bundle.ctx, t, bundle.store, bundle.now, len(mods))
		ds := make([]*signal.Delivery, len(mods))
		for i, mod := range mods {
			ds[i] = pendingDelivery(events[i], "int_a")
			mod(ds[i])
		}
		recordProcessed(bundle.ctx, t, bundle.store, bundle.now, ds...)
		return ds
	}

	claim := func(t *testing.T, bundle *testBundle, integrationID string, at time.Time, lease time.Duration) []*signal.Delivery {
		t.Helper()
		ds, err := bundle.store.ClaimDeliveries(bundle.ctx, store.ClaimDeliveriesParams{IntegrationID: integrationID, Limit: 10, Now: at, LeaseUntil: at.Add(lease)})
		requireNoError(t, err)
		return ds
	}

	finish := func(t *testing.T, bundle *testBundle, at time.Time, ds ...*signal.Delivery) {
		t.Helper()
		requireNoError(t, bundle.store.FinishDeliveries(bundle.ctx, store.FinishDeliveriesParams{Deliveries: ds, Now: at}))
	}

	none := func(d *signal.Delivery) {}

	t.Run("ReturnsDelivery", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		want := record(t, bundle, func(d *signal.Delivery) {
			d.Note, d.Priority, d.ExpiresAt = "phone left out", signal.PriorityHigh, bundle.now.Add(6*time.Hour)
		})[0]
		got := claim(t, bundle, "int_a", bundle.now, time.Minute)
		if len(got) != 1 {
			t.Fatalf("claimed %d deliveries, want 1", len(got))
		}
		d := got[0]
		if d.ID == 0 || d.EventSeq != want.EventSeq || d.MessageID != want.MessageID || d.PipelineID != want.PipelineID ||
			d.IntegrationID != "int_a" || d.Type != want.Type || d.Event != want.Event || d.Status != signal.StatusPending ||
			d.VendorEventName != want.VendorEventName || d.Priority != signal.PriorityHigh || d.ContactKey != want.ContactKey ||
			d.Note != want.Note || d.Attempts != 0 {
			t.Fatalf("claimed %+v, want %+v", d, want)
		}
		requireTime(t, "NextAttemptAt", d.NextAttemptAt, want.NextAttemptAt)
		requireTime(t, "ExpiresAt", d.ExpiresAt, want.ExpiresAt)
		requireTime(t, "ReceivedAt", d.ReceivedAt, want.ReceivedAt)
		requireJSON(t, "Payload", d.Payload, want.Payload)
	})

	t.Run("Order", func(t *testing.T) {
		t.Parallel()

		priority := func(p int) func(d *signal.Delivery) { return func(d *signal.Delivery) { d.Priority = p } }
		for _, tt := range []struct {
			name  string
			limit int
			want  []int // indexes into the recorded deliveries
		}{
			{"All", 10, []int{2, 1, 3, 0}},
			{"Limit", 2, []int{2, 1}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)

				// Oldest first within a priority; high before low even if newer.
				ds := record(t, bundle, priority(signal.PriorityLow), priority(signal.PriorityNormal), priority(signal.PriorityHigh), priority(signal.PriorityNormal))
				got, err := bundle.store.ClaimDeliveries(bundle.ctx, store.ClaimDeliveriesParams{IntegrationID: "int_a", Limit: tt.limit, Now: bundle.now, LeaseUntil: bundle.now.Add(time.Minute)})
				requireNoError(t, err)
				var want []string
				for _, i := range tt.want {
					want = append(want, ds[i].MessageID)
				}
				requireStrings(t, "claimed", messageIDs(got), want)
			})
		}
	})

	t.Run("OnePerContact", func(t *testing.T) {
		t.Parallel()

		for _, tt := range []struct {
			name       string
			finish     func(d *signal.Delivery, now time.Time) // nil: left leased
			wantSecond bool
		}{
			{name: "FirstLeased"},
			{name: "FirstInBackOff", finish: func(d *signal.Delivery, now time.Time) {
				d.Reason, d.Attempts, d.NextAttemptAt = signal.ReasonRetrying, 1, now.Add(10*time.Minute)
			}},
			{name: "FirstDelivered", wantSecond: true, finish: func(d *signal.Delivery, now time.Time) {
				d.Status, d.Attempts, d.VendorStatus = signal.StatusDelivered, 1, 202
			}},
			{name: "FirstFailed", wantSecond: true, finish: func(d *signal.Delivery, now time.Time) {
				d.Status, d.Reason, d.Attempts, d.VendorStatus = signal.StatusFailed, signal.ReasonVendorRejected, 1, 400
			}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)

				contact := func(key string) func(d *signal.Delivery) { return func(d *signal.Delivery) { d.ContactKey = key } }
				ds := record(t, bundle, contact("c1"), contact("c1"), contact("c2"))
				first, second, other := ds[0], ds[1], ds[2]

				got := claim(t, bundle, "int_a", bundle.now, time.Hour)
				requireStrings(t, "first claim", messageIDs(got), []string{first.MessageID, other.MessageID})

				if tt.finish != nil {
					claimed := got[0]
					tt.finish(claimed, bundle.now)
					finish(t, bundle, bundle.now.Add(time.Second), claimed)
				}
				var want []string
				if tt.wantSecond {
					want = []string{second.MessageID}
				}
				got = claim(t, bundle, "int_a", bundle.now.Add(time.Minute), time.Hour)
				requireStrings(t, "second claim", messageIDs(got), want)
			})
		}
	})

	// A contact's order does not wait behind the same contact's earlier
	// page view; a page view does wait behind the contact's earlier order.
	t.Run("HigherPriorityOvertakesTheContactsEarlierEvents", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		with := func(contact string, priority int) func(d *signal.Delivery) {
			return func(d *signal.Delivery) { d.ContactKey, d.Priority = contact, priority }
		}
		ds := record(t, bundle, with("buyer", signal.PriorityLow), with("buyer", signal.PriorityHigh),
			with("other", signal.PriorityHigh), with("other", signal.PriorityLow))
		view, order, otherOrder, otherView := ds[0], ds[1], ds[2], ds[3]

		got := claim(t, bundle, "int_a", bundle.now, time.Hour)
		requireStrings(t, "claimed", messageIDs(got), []string{order.MessageID, otherOrder.MessageID, view.MessageID})
		_ = otherView // waits behind otherOrder, its contact's earlier and higher event
	})

	t.Run("BackOffThenDue", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		ds := record(t, bundle, func(d *signal.Delivery) { d.ContactKey = "c1" }, func(d *signal.Delivery) { d.ContactKey = "c1" })
		got := claim(t, bundle, "int_a", bundle.now, time.Hour)
		got[0].Reason, got[0].Attempts, got[0].NextAttemptAt = signal.ReasonRetrying, 1, bundle.now.Add(10*time.Minute)
		finish(t, bundle, bundle.now.Add(time.Second), got[0])

		// Due again: the first is retried, the second still waits for it.
		got = claim(t, bundle, "int_a", bundle.now.Add(10*time.Minute), time.Hour)
		requireStrings(t, "claimed", messageIDs(got), []string{ds[0].MessageID})
		if got[0].Attempts != 1 {
			t.Fatalf("Attempts = %d, want 1", got[0].Attempts)
		}
	})

	t.Run("Lease", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		ds := record(t, bundle, none)
		first := claim(t, bundle, "int_a", bundle.now, time.Minute)
		requireStrings(t, "claimed", messageIDs(first), []string{ds[0].MessageID})
		if got := claim(t, bundle, "int_a", bundle.now.Add(30*time.Second), time.Minute); len(got) != 0 {
			t.Fatalf("claimed %q while leased", messageIDs(got))
		}
		again := claim(t, bundle, "int_a", bundle.now.Add(time.Minute+time.Millisecond), time.Minute)
		if len(again) != 1 || again[0].ID != first[0].ID {
			t.Fatalf("after the lease: claimed %q, want %s again", messageIDs(again), ds[0].MessageID)
		}
	})

	t.Run("NotDue", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		ds := record(t, bundle, func(d *signal.Delivery) { d.NextAttemptAt = bundle.now.Add(time.Hour) }, none)
		requireStrings(t, "claimed now", messageIDs(claim(t, bundle, "int_a", bundle.now, time.Minute)), []string{ds[1].MessageID})
		requireStrings(t, "claimed in an hour", messageIDs(claim(t, bundle, "int_a", bundle.now.Add(time.Hour), time.Minute)),
			[]string{ds[0].MessageID, ds[1].MessageID})
	})

	t.Run("Expiry", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		ds := record(t, bundle,
			func(d *signal.Delivery) { d.ContactKey, d.ExpiresAt = "c1", bundle.now.Add(time.Minute) },
			func(d *signal.Delivery) { d.ContactKey, d.ExpiresAt = "c1", bundle.now.Add(time.Hour) },
			func(d *signal.Delivery) { d.ContactKey = "c2" }, // zero ExpiresAt: never expires
		)
		// The expired delivery is not sent and no longer holds its contact back.
		got := claim(t, bundle, "int_a", bundle.now.Add(2*time.Minute), time.Minute)
		requireStrings(t, "claimed", messageIDs(got), []string{ds[1].MessageID, ds[2].MessageID})

		rows := liveEvents(bundle.ctx, t, bundle.store, store.ListLiveEventsParams{IntegrationID: "int_a", Limit: 100})
		if len(rows) != 3 {
			t.Fatalf("live events = %d rows, want 3", len(rows))
		}
		expired := rows[2] // oldest last
		if expired.MessageID != ds[0].MessageID || expired.Status != signal.StatusFiltered || expired.Reason != signal.ReasonExpired {
			t.Fatalf("expired delivery shows as %s %s/%s, want filtered/expired", expired.MessageID, expired.Status, expired.Reason)
		}
	})

	t.Run("IntegrationsAreIsolated", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		// One contact throughout: its order is kept per integration, so
		// int_b's delivery does not wait for int_a's older one.
		contact := func(d *signal.Delivery) { d.ContactKey = "c1" }
		ds := record(t, bundle, contact, func(d *signal.Delivery) { contact(d); d.IntegrationID = "int_b" }, contact)
		requireStrings(t, "int_a", messageIDs(claim(t, bundle, "int_a", bundle.now, time.Minute)), []string{ds[0].MessageID})
		requireStrings(t, "int_b", messageIDs(claim(t, bundle, "int_b", bundle.now, time.Minute)), []string{ds[1].MessageID})
		requireStrings(t, "int_c", messageIDs(claim(t, bundle, "int_c", bundle.now, time.Minute)), nil)
	})

	t.Run("ConcurrentClaimsDoNotOverlap", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		const n, claimers = 40, 8
		mods := make([]func(d *signal.Delivery), n)
		for i := range mods {
			mods[i] = none
		}
		record(t, bundle, mods...)

		var (
			wg      sync.WaitGroup
			results = make([][]*signal.Delivery, claimers)
			errs    = make([]error, claimers)
		)
		for i := range claimers {
			wg.Go(func() {
				results[i], errs[i] = bundle.store.ClaimDeliveries(bundle.ctx, store.ClaimDeliveriesParams{
					IntegrationID: "int_a", Limit: n / claimers, Now: bundle.now, LeaseUntil: bundle.now.Add(time.Hour),
				})
			})
		}
		wg.Wait()
		// Whatever the concurrent claims left is claimed afterwards.
		results = append(results, claim(t, bundle, "int_a", bundle.now, time.Hour), claim(t, bundle, "int_a", bundle.now, time.Hour),
			claim(t, bundle, "int_a", bundle.now, time.Hour), claim(t, bundle, "int_a", bundle.now, time.Hour))

		seen := map[int64]bool{}
		for i, ds := range results {
			if i < claimers {
				requireNoError(t, errs[i])
			}
			for _, d := range ds {
				if seen[d.ID] {
					t.Fatalf("delivery %d claimed twice", d.ID)
				}
				seen[d.ID] = true
			}
		}
		if len(seen) != n {
			t.Fatalf("claimed %d deliveries in all, want %d", len(seen), n)
		}
	})

	t.Run("FinishThenRetry", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		record(t, bundle, none)
		d := claim(t, bundle, "int_a", bundle.now, time.Hour)[0]
		d.Reason, d.Attempts, d.NextAttemptAt = signal.ReasonRetrying, 2, bundle.now.Add(5*time.Minute)
		d.VendorStatus, d.VendorResponse, d.Payload = 503, "upstream unavailable", json.RawMessage(`{"eventName":"placed order","eventID":"e1"}`)
		finish(t, bundle, bundle.now.Add(time.Second), d)

		// Finishing releases the lease: the retry is due at NextAttemptAt.
		due, ok, err := bundle.store.NextDue(bundle.ctx, store.NextDueParams{IntegrationID: "int_a"})
		requireNoError(t, err)
		if !ok {
			t.Fatal("NextDue: none pending")
		}
		requireTime(t, "NextDue", due, d.NextAttemptAt)
		if got := claim(t, bundle, "int_a", bundle.now.Add(4*time.Minute), time.Hour); len(got) != 0 {
			t.Fatalf("claimed %q before NextAttemptAt", messageIDs(got))
		}
		got := claim(t, bundle, "int_a", bundle.now.Add(5*time.Minute), time.Hour)
		if len(got) != 1 {
			t.Fatalf("claimed %d at NextAttemptAt, want 1", len(got))
		}
		r := got[0]
		if r.ID != d.ID || r.Status != signal.StatusPending || r.Reason != signal.ReasonRetrying || r.Attempts != 2 ||
			r.VendorStatus != 503 || r.VendorResponse != "upstream unavailable" {
			t.Fatalf("retried delivery = %+v", r)
		}
		requireTime(t, "NextAttemptAt", r.NextAttemptAt, d.NextAttemptAt)
		requireJSON(t, "Payload", r.Payload, d.Payload)
	})
}
