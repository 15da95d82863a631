package delivery_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// TestShutdown pins that cancelling Run stops taking new work, lets the
// requests in flight finish and records them (or, cut short by the drain
// deadline, releases them without spending an attempt), and leaves nothing
// leased.
func TestShutdown(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T, timeout, drain time.Duration) *testBundle {
		t.Helper()
		cfg := testConfig()
		cfg.Timeout, cfg.DrainTimeout = timeout, drain
		b := newTestBundle(t, bundleOpts{cfg: cfg})
		b.addIntegration(t, "int_a", "key-a")
		b.addIntegration(t, "int_b", "key-b")
		return b
	}

	tests := []struct {
		name           string
		timeout, drain time.Duration
		delay          time.Duration
		// inFlight is what becomes of a delivery in flight at shutdown.
		inFlight signal.DeliveryStatus
	}{
		{"InFlightFinish", 2 * time.Second, time.Second, 150 * time.Millisecond, signal.StatusDelivered},
		{"InFlightCutByDrainDeadline", 10 * time.Second, 300 * time.Millisecond, 8 * time.Second, signal.StatusPending},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tc.timeout, tc.drain)
			b.fake.always("key-a", reply{status: http.StatusAccepted, delay: tc.delay})
			b.fake.always("key-b", reply{status: http.StatusAccepted, delay: tc.delay})
			qs := append(b.enqueue(t, "int_a", contacts("a", 40, signal.PriorityNormal)...),
				b.enqueue(t, "int_b", contacts("b", 40, signal.PriorityNormal)...)...)
			b.run(t)
			b.fake.waitCount(t, 2, 5*time.Second)

			// The slack covers a loaded machine's scheduling; a drain that
			// ignored its deadline would take the requests' whole delay.
			if took := b.stop(t); took > tc.drain+2*time.Second || (tc.delay > tc.drain && took >= tc.delay) {
				t.Fatalf("Run returned %v after cancel, want within DrainTimeout (%v)", took, tc.drain)
			}
			sent := b.fake.requests()
			b.fake.steady(t, 200*time.Millisecond)

			les := map[string]*signal.LiveEvent{}
			for _, id := range []string{"int_a", "int_b"} {
				for k, v := range b.live(t, id) {
					les[k] = v
				}
			}
			arrived := byEvent(sent)
			pending := 0
			for _, q := range qs {
				le := les[q.messageID]
				switch n := len(arrived[q.eventID]); {
				case n > 1:
					t.Fatalf("event sent %d times", n)
				case n == 1 && tc.inFlight == signal.StatusDelivered && (le.Status != signal.StatusDelivered || le.Attempts != 1):
					t.Fatalf("event in flight at shutdown is %s (attempts %d), want delivered and recorded", le.Status, le.Attempts)
				case n == 1 && tc.inFlight == signal.StatusPending && (le.Status != signal.StatusPending || le.Attempts != 0):
					t.Fatalf("event cut short at shutdown is %s/%s (attempts %d), want released: pending, no attempt spent",
						le.Status, le.Reason, le.Attempts)
				case n == 0 && (le.Status != signal.StatusPending || le.Attempts != 0):
					t.Fatalf("event never sent is %s (attempts %d), want pending", le.Status, le.Attempts)
				case n == 0:
					pending++
				}
			}
			if pending == 0 {
				t.Fatalf("every event was sent before shutdown; the test needs a backlog left")
			}
			// Nothing leased: every pending delivery is claimable at once.
			for _, id := range []string{"int_a", "int_b"} {
				now := time.Now()
				ds, err := b.store.ClaimDeliveries(b.ctx, store.ClaimDeliveriesParams{IntegrationID: id, Limit: 1000, Now: now, LeaseUntil: now.Add(time.Minute)})
				if err != nil {
					t.Fatalf("ClaimDeliveries: %v", err)
				}
				want := 0
				for _, q := range qs {
					if le := les[q.messageID]; le.IntegrationID == id && le.Status == signal.StatusPending {
						want++
					}
				}
				if len(ds) != want {
					t.Fatalf("%s: %d deliveries claimable after shutdown, want all %d pending ones", id, len(ds), want)
				}
			}
		})
	}
}
