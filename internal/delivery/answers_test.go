package delivery_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// TestAnswers pins what the engine does with each kind of answer from
// The vendor (as every vendor classifies): 2xx delivered, 400 failed for good, 5xx / timeouts / resets
// retried with the same eventID until they succeed or the retry horizon
// passes.
func TestAnswers(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T, horizon time.Duration) *testBundle {
		t.Helper()
		cfg := testConfig()
		if horizon > 0 {
			cfg.Backoff.Horizon = horizon
		}
		b := newTestBundle(t, bundleOpts{cfg: cfg})
		b.addIntegration(t, "int_a", "key-a")
		return b
	}

	t.Run("AcceptedIsDelivered", func(t *testing.T) {
		t.Parallel()
		b := setup(t, 0)
		b.fake.script("key-a", reply{status: http.StatusAccepted, body: `{"eventID":"ok"}`})
		q := b.enqueue(t, "int_a", ev{contact: "c1"})[0]
		b.run(t)

		le := b.waitStatus(t, "int_a", 5*time.Second, signal.StatusDelivered, q)[q.messageID]
		if le.Attempts != 1 || le.VendorStatus != http.StatusAccepted || le.VendorResponse != `{"eventID":"ok"}` || le.Reason != "" {
			t.Fatalf("live event = attempts %d, vendor %d %q, reason %q; want 1, 202 {\"eventID\":\"ok\"}, none",
				le.Attempts, le.VendorStatus, le.VendorResponse, le.Reason)
		}
		if !bytes.Equal(le.Payload, q.payload) {
			t.Fatalf("stored payload changed:\n got %s\nwant %s", le.Payload, q.payload)
		}
		rs := b.fake.requests()
		if len(rs) != 1 {
			t.Fatalf("the vendor received %d requests, want 1", len(rs))
		}
		if r := rs[0]; !bytes.Equal(r.body, q.payload) || r.key != "key-a" || r.eventID != q.eventID {
			t.Fatalf("the vendor received key %q, eventID %q, body %s; want key-a, %s and the stored payload", r.key, r.eventID, r.body, q.eventID)
		}
	})

	t.Run("RateLimitedIsNotDueBeforeRetryAfter", func(t *testing.T) {
		t.Parallel()
		b := setup(t, 0)
		q := b.enqueue(t, "int_a", ev{contact: "c1"})[0]
		b.fake.scriptEvent(q.eventID, reply{status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "2"}})
		b.run(t)

		eventually(t, 5*time.Second, func() bool { return b.live(t, "int_a")[q.messageID].Reason == signal.ReasonRateLimited },
			func() string { return "the delivery never showed reason rate_limited" })
		// In the queue, not only in this node's limiter: another node (its
		// own limiter) must not send it again before the vendor's wait.
		next, ok, err := b.store.NextDue(b.ctx, store.NextDueParams{IntegrationID: "int_a"})
		if err != nil || !ok {
			t.Fatalf("NextDue = %v, %v, %v; want the rate-limited delivery", next, ok, err)
		}
		if answered := b.fake.requests()[0].done; next.Sub(answered) < 1900*time.Millisecond {
			t.Fatalf("the rate-limited delivery is due %v after the 429 with Retry-After: 2", next.Sub(answered))
		}
	})

	// The retry window counts from the first failure: an event that waited
	// longer than the window (here behind a 429) is still retried.
	t.Run("RetryWindowStartsAtTheFirstFailure", func(t *testing.T) {
		t.Parallel()
		b := setup(t, 2*time.Second)
		q := b.enqueue(t, "int_a", ev{contact: "c1"})[0]
		b.fake.scriptEvent(q.eventID, reply{status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "3"}},
			reply{status: http.StatusServiceUnavailable, body: `{"error":"maintenance"}`})
		b.run(t)
		le := b.waitStatus(t, "int_a", 10*time.Second, signal.StatusDelivered, q)[q.messageID]
		if le.Attempts != 2 {
			t.Fatalf("live event = %s/%s after %d attempts, want delivered on the try after the 503", le.Status, le.Reason, le.Attempts)
		}
	})

	t.Run("BadRequestFailsWithoutRetry", func(t *testing.T) {
		t.Parallel()
		b := setup(t, 0)
		const answer = `{"error":"invalid contact.email","fields":["contact.email"]}`
		b.fake.always("key-a", reply{status: http.StatusBadRequest, body: answer})
		q := b.enqueue(t, "int_a", ev{contact: "c1"})[0]
		b.run(t)

		le := b.waitStatus(t, "int_a", 5*time.Second, signal.StatusFailed, q)[q.messageID]
		if le.Reason != signal.ReasonVendorRejected || le.Attempts != 1 || le.VendorStatus != http.StatusBadRequest || le.VendorResponse != answer {
			t.Fatalf("live event = %s/%s attempts %d, vendor %d %q; want failed/vendor_rejected, 1, 400 and the vendor's body",
				le.Status, le.Reason, le.Attempts, le.VendorStatus, le.VendorResponse)
		}
		b.fake.steady(t, 300*time.Millisecond)
		if n := b.fake.count(); n != 1 {
			t.Fatalf("the vendor received %d requests, want 1 (a 400 is not retried)", n)
		}
	})

	// Transient failures, each followed by a 202: the event is delivered
	// after len(failures)+1 requests that all carry the same body.
	transient := []struct {
		name     string
		failures []reply
	}{
		{"ServiceUnavailableStreak", []reply{{status: 503}, {status: 503}, {status: 503}}},
		{"ServerErrors", []reply{{status: 500}, {status: 502, header: map[string]string{"Retry-After": "0"}}, {status: 504}}},
		{"Timeouts", []reply{{delay: 2 * time.Second}, {delay: 2 * time.Second}}},
		{"ConnectionResets", []reply{{reset: true}, {reset: true}}},
		{"RequestTimeout408", []reply{{status: http.StatusRequestTimeout}}},
	}
	for _, tc := range transient {
		t.Run("RetriedUntilDelivered/"+tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, 0)
			q := b.enqueue(t, "int_a", ev{contact: "c1"})[0]
			b.fake.scriptEvent(q.eventID, tc.failures...)
			b.run(t)

			le := b.waitStatus(t, "int_a", 10*time.Second, signal.StatusDelivered, q)[q.messageID]
			want := len(tc.failures) + 1
			if le.Attempts != want || le.VendorStatus != http.StatusAccepted {
				t.Fatalf("live event = attempts %d, vendor %d; want %d, 202", le.Attempts, le.VendorStatus, want)
			}
			rs := b.fake.requests()
			if len(rs) != want {
				t.Fatalf("the vendor received %d requests, want %d", len(rs), want)
			}
			for i, r := range rs {
				if r.eventID != q.eventID || !bytes.Equal(r.body, q.payload) {
					t.Fatalf("request %d: eventID %q body %s; want the first request's eventID %q and body", i, r.eventID, r.body, q.eventID)
				}
				if i > 0 && !r.at.After(rs[i-1].at) {
					t.Fatalf("request %d arrived before request %d", i, i-1)
				}
			}
		})
	}

	exhausted := []struct {
		name  string
		reply reply
		// wantBody is part of the failure kept on the live event.
		wantBody string
		// horizon is the retry window: long enough for a few attempts
		// (a timeout takes the request timeout, 1.5 s, each) even when a
		// loaded machine starts the first attempt late (the window counts
		// from the event).
		horizon time.Duration
	}{
		{"ServiceUnavailable", reply{status: 503, body: `{"error":"maintenance"}`}, "maintenance", 3 * time.Second},
		{"Timeouts", reply{delay: 2 * time.Second}, "timeout", 4 * time.Second},
		{"ConnectionResets", reply{reset: true}, "connection", 3 * time.Second},
	}
	for _, tc := range exhausted {
		t.Run("RetriesExhausted/"+tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tc.horizon)
			b.fake.always("key-a", tc.reply)
			q := b.enqueue(t, "int_a", ev{contact: "c1"})[0]
			b.run(t)

			le := b.waitStatus(t, "int_a", 10*time.Second, signal.StatusFailed, q)[q.messageID]
			if le.Reason != signal.ReasonRetriesExhausted || le.Attempts < 2 || !strings.Contains(le.VendorResponse, tc.wantBody) {
				t.Fatalf("live event = %s/%s attempts %d response %q; want failed/retries_exhausted after several attempts, response mentioning %q",
					le.Status, le.Reason, le.Attempts, le.VendorResponse, tc.wantBody)
			}
			if n := b.fake.count(); n != le.Attempts {
				t.Fatalf("the vendor received %d requests, the live event counts %d attempts", n, le.Attempts)
			}
			b.fake.steady(t, 200*time.Millisecond)
		})
	}
}
