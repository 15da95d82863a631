package delivery_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// TestOrdering pins that one contact's events reach the vendor in the order
// received, also across retries, and that an event failed for good does not
// hold back the ones after it.
func TestOrdering(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		b := newTestBundle(t, bundleOpts{})
		b.addIntegration(t, "int_a", "key-a")
		return b
	}

	tests := []struct {
		name string
		// first is the script of the contact's first event.
		first []reply
		// firstStatus is where the first event ends.
		firstStatus signal.DeliveryStatus
	}{
		{"FirstRetriedTwice", []reply{{status: 503}, {status: 503}}, signal.StatusDelivered},
		{"FirstTimesOut", []reply{{delay: 2 * time.Second}}, signal.StatusDelivered},
		{"FirstRateLimited", []reply{{status: 429, header: map[string]string{"Retry-After": "1"}}}, signal.StatusDelivered},
		{"FirstRejected", []reply{{status: 400, body: `{"error":"bad"}`}}, signal.StatusFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			// Two contacts, five events each, interleaved as received.
			var evs []ev
			for range 5 {
				evs = append(evs, ev{contact: "c1"}, ev{contact: "c2"})
			}
			qs := b.enqueue(t, "int_a", evs...)
			b.fake.scriptEvent(qs[0].eventID, tc.first...)
			b.run(t)

			b.waitStatus(t, "int_a", 10*time.Second, tc.firstStatus, qs[0])
			b.waitStatus(t, "int_a", 10*time.Second, signal.StatusDelivered, qs[1:]...)
			rs := b.fake.requests()
			pos := map[string][]int{} // eventID → request indexes
			for i, r := range rs {
				pos[r.eventID] = append(pos[r.eventID], i)
			}
			for c := range 2 {
				var prev *received
				for i := c; i < len(qs); i += 2 {
					idx := pos[qs[i].eventID]
					if len(idx) == 0 {
						t.Fatalf("event %d of contact c%d never reached the vendor", i/2, c+1)
					}
					if i != 0 && len(idx) != 1 {
						t.Fatalf("event %d of contact c%d sent %d times, want once", i/2, c+1, len(idx))
					}
					first, last := rs[idx[0]], rs[idx[len(idx)-1]]
					// Not sent before the previous event got its final answer.
					if prev != nil && !first.at.After(prev.done) {
						t.Fatalf("event %d of contact c%d sent at %v, before event %d's final answer at %v",
							i/2, c+1, first.at, i/2-1, prev.done)
					}
					prev = &last
				}
			}
			want := len(tc.first) + 1 // the scripted answers, then a 202
			if tc.firstStatus == signal.StatusFailed {
				want = len(tc.first)
			}
			if n := len(pos[qs[0].eventID]); n != want {
				t.Fatalf("first event sent %d times, want %d", n, want)
			}
		})
	}

	// A later event of a contact whose first event backs off is due but
	// cannot be claimed: the worker must sleep, not poll the store hot.
	t.Run("BlockedContactDoesNotSpin", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		qs := b.enqueue(t, "int_a", ev{contact: "c1"}, ev{contact: "c1"})
		b.fake.scriptEvent(qs[0].eventID, reply{status: 503, header: map[string]string{"Retry-After": "1"}})
		b.run(t)
		b.fake.waitCount(t, 1, 5*time.Second)
		time.Sleep(50 * time.Millisecond)

		before := b.claims.Load()
		b.fake.steady(t, 600*time.Millisecond)
		// One claim per Poll (50ms) at most, plus slack.
		if n := b.claims.Load() - before; n > 20 {
			t.Fatalf("the engine claimed %d times in 600ms while the contact's first event backed off, want a few", n)
		}
		b.waitStatus(t, "int_a", 10*time.Second, signal.StatusDelivered, qs...)
		rs := b.fake.requests()
		if len(rs) != 3 || rs[1].eventID != qs[0].eventID || rs[2].eventID != qs[1].eventID {
			t.Fatalf("the vendor received %d requests, want the first event twice then the second", len(rs))
		}
		// Not before Retry-After; the upper bound only tells Retry-After
		// (1 s) from the exponential back-off's later retries, with room
		// for a loaded CI machine's scheduling.
		if gap := rs[1].at.Sub(rs[0].done); gap < 950*time.Millisecond || gap > 4*time.Second {
			t.Fatalf("first event retried %v after its 503, want about Retry-After (1s)", gap)
		}
	})
}

// TestIsolation pins that one integration's failures, pause or backlog do
// not slow another's deliveries.
func TestIsolation(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		b := newTestBundle(t, bundleOpts{})
		b.addIntegration(t, "int_a", "key-a")
		b.addIntegration(t, "int_b", "key-b")
		return b
	}

	tests := []struct {
		name string
		a    reply
	}{
		{"ServiceUnavailable", reply{status: 503}},
		{"Timeouts", reply{delay: 6 * time.Second}},
		{"ConnectionResets", reply{reset: true}},
		{"Unauthorized", reply{status: http.StatusUnauthorized}},
		{"RateLimited", reply{status: 429, header: map[string]string{"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": "30"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.always("key-a", tc.a)
			b.enqueue(t, "int_a", contacts("a", 200, signal.PriorityHigh)...)
			b.run(t)
			b.fake.waitCount(t, 1, 5*time.Second)

			start := time.Now()
			qb := b.enqueue(t, "int_b", contacts("b", 5, signal.PriorityNormal)...)
			b.waitStatus(t, "int_b", 5*time.Second, signal.StatusDelivered, qb...)
			// Alone they take milliseconds; 3 s leaves room for a loaded
			// machine and is still half of what waiting behind int_a's
			// hanging requests (6 s) would cost.
			if took := time.Since(start); took > 3*time.Second {
				t.Fatalf("int_b's events took %v to deliver next to a failing int_a, want well under int_a's 6 s hang", took)
			}
			for _, r := range b.fake.accepted() {
				if r.key != "key-b" {
					t.Fatalf("a request with %q was accepted", r.key)
				}
			}
		})
	}
}
