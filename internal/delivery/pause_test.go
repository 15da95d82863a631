package delivery_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// TestPause pins that a refused key or a retired API holds the whole
// integration: its events wait as paused, spend no attempts and cause no
// requests, and flow again, each exactly once, when the key is replaced.
func TestPause(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		b := newTestBundle(t, bundleOpts{})
		b.addIntegration(t, "int_a", "old-key")
		return b
	}

	tests := []struct {
		name   string
		status int
		reason signal.Reason
	}{
		{"Unauthorized", http.StatusUnauthorized, signal.ReasonAuthFailed},
		{"Forbidden", http.StatusForbidden, signal.ReasonAuthFailed},
		{"Gone", http.StatusGone, signal.ReasonAPIVersionRetired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.always("old-key", reply{status: tc.status, body: `{"error":"refused"}`})
			// Two events of one contact, four of others.
			qs := b.enqueue(t, "int_a", ev{contact: "c1"}, ev{contact: "c1"}, ev{contact: "c2"}, ev{contact: "c3"},
				ev{contact: "c4"}, ev{contact: "c5"})
			b.run(t)

			eventually(t, 5*time.Second, func() bool { return b.integration(t, "int_a").Status == signal.IntegrationPaused },
				func() string { return "the integration was not paused" })
			in := b.integration(t, "int_a")
			if in.StatusReason != tc.reason {
				t.Fatalf("integration status_reason = %q, want %q", in.StatusReason, tc.reason)
			}
			refused := b.fake.count()
			if refused == 0 || refused > len(qs) {
				t.Fatalf("the vendor received %d requests before the pause, want 1 to %d", refused, len(qs))
			}
			// Paused: no request for several polls, nothing spent.
			b.fake.steady(t, 400*time.Millisecond)
			les := b.waitStatus(t, "int_a", time.Second, signal.StatusPaused, qs...)
			for _, q := range qs {
				if le := les[q.messageID]; le.Reason != tc.reason || le.Attempts != 0 {
					t.Fatalf("held event = %s/%s attempts %d, want paused/%s with no attempt spent", le.Status, le.Reason, le.Attempts, tc.reason)
				}
			}

			b.replaceKey(t, "int_a", "new-key")
			les = b.waitStatus(t, "int_a", 5*time.Second, signal.StatusDelivered, qs...)
			for _, q := range qs {
				if le := les[q.messageID]; le.Attempts != 1 {
					t.Fatalf("delivered event attempts = %d, want 1 (the refused requests spent none)", le.Attempts)
				}
			}
			b.fake.steady(t, 200*time.Millisecond)
			got := byEvent(b.fake.accepted())
			for _, q := range qs {
				if rs := got[q.eventID]; len(rs) != 1 || rs[0].key != "new-key" {
					t.Fatalf("event %s accepted %d times (key %v), want once with the new key", q.eventID, len(rs), rs)
				}
			}
			for _, r := range b.fake.requests() {
				if r.key == "old-key" && r.status != tc.status {
					t.Fatalf("request with the old key answered %d", r.status)
				}
			}
			if n := len(b.fake.requests()); n != refused+len(qs) {
				t.Fatalf("the vendor received %d requests, want %d refused + %d accepted", n, refused, len(qs))
			}
			if in := b.integration(t, "int_a"); in.Status != signal.IntegrationActive {
				t.Fatalf("integration status = %q after the key was replaced, want active", in.Status)
			}
		})
	}

	// The old key's refusal arrives after the key was replaced: it must not
	// pause the integration that now has a good key.
	t.Run("KeyReplacedWhileRefusalInFlight", func(t *testing.T) {
		t.Parallel()
		cfg := testConfig()
		cfg.Timeout = 2 * time.Second
		b := newTestBundle(t, bundleOpts{cfg: cfg})
		b.addIntegration(t, "int_a", "old-key")
		b.fake.always("old-key", reply{status: http.StatusUnauthorized, delay: 300 * time.Millisecond})
		q := b.enqueue(t, "int_a", ev{contact: "c1"})[0]
		b.run(t)
		b.fake.waitCount(t, 1, 5*time.Second)
		b.replaceKey(t, "int_a", "new-key")

		le := b.waitStatus(t, "int_a", 5*time.Second, signal.StatusDelivered, q)[q.messageID]
		if in := b.integration(t, "int_a"); in.Status != signal.IntegrationActive || le.Attempts != 1 {
			t.Fatalf("integration %s, attempts %d; want active and one attempt", in.Status, le.Attempts)
		}
		if rs := b.fake.requests(); len(rs) != 2 || rs[1].key != "new-key" {
			t.Fatalf("the vendor received %d requests, want the refused one then one with the new key", len(rs))
		}
	})

	t.Run("ReplacedKeyStillRefusedPausesAgain", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.fake.always("old-key", reply{status: http.StatusUnauthorized})
		b.fake.always("wrong-key", reply{status: http.StatusUnauthorized})
		q := b.enqueue(t, "int_a", ev{contact: "c1"})[0]
		b.run(t)
		eventually(t, 5*time.Second, func() bool { return b.integration(t, "int_a").Status == signal.IntegrationPaused },
			func() string { return "the integration was not paused" })
		before := b.fake.count()
		b.replaceKey(t, "int_a", "wrong-key")
		b.fake.waitCount(t, before+1, 5*time.Second)
		eventually(t, 5*time.Second, func() bool { return b.integration(t, "int_a").Status == signal.IntegrationPaused },
			func() string { return "the integration was not paused again" })
		b.fake.steady(t, 300*time.Millisecond)
		if le := b.live(t, "int_a")[q.messageID]; le.Status != signal.StatusPaused || le.Attempts != 0 {
			t.Fatalf("held event = %s attempts %d, want paused with none spent", le.Status, le.Attempts)
		}
	})
}

// TestRateLimited pins that a 429 spends no attempt and holds the key for
// as long as the vendor says (X-Rate-Limit-Reset, else Retry-After).
func TestRateLimited(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		b := newTestBundle(t, bundleOpts{})
		b.addIntegration(t, "int_a", "key-a")
		return b
	}

	tests := []struct {
		name   string
		header map[string]string
		wait   time.Duration
	}{
		{"RateLimitReset", map[string]string{"X-Rate-Limit-Limit": "400", "X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": "1.5"}, 1500 * time.Millisecond},
		{"RetryAfter", map[string]string{"Retry-After": "1"}, time.Second},
		{"ResetWinsOverRetryAfter", map[string]string{"X-Rate-Limit-Reset": "1", "Retry-After": "3"}, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.script("key-a", reply{status: http.StatusTooManyRequests, header: tc.header, body: `{"error":"Too many requests"}`})
			qs := b.enqueue(t, "int_a", ev{contact: "c1"}, ev{contact: "c1"})
			b.run(t)

			les := b.waitStatus(t, "int_a", 10*time.Second, signal.StatusDelivered, qs...)
			for _, q := range qs {
				if le := les[q.messageID]; le.Attempts != 1 {
					t.Fatalf("attempts = %d, want 1: a 429 spends none", le.Attempts)
				}
			}
			rs := b.fake.requests()
			if len(rs) != 3 || rs[0].status != http.StatusTooManyRequests || rs[0].eventID != qs[0].eventID ||
				rs[1].eventID != qs[0].eventID || rs[2].eventID != qs[1].eventID {
				t.Fatalf("the vendor received %d requests, want the first event refused with 429, then both in order", len(rs))
			}
			gap := rs[1].at.Sub(rs[0].done)
			if gap < tc.wait-50*time.Millisecond || gap > tc.wait+time.Second {
				t.Fatalf("next request %v after the 429, want about %v", gap, tc.wait)
			}
		})
	}
}

// TestPauseSpendsNoTime: a pause longer than an event's max_age and than
// the retry window makes no event expire or run out of retries: once the
// key is replaced, a page view older than its max_age is sent, and an
// order whose first try fails is tried again.
func TestPauseSpendsNoTime(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Backoff.Horizon = 2 * time.Second
	b := newTestBundle(t, bundleOpts{cfg: cfg})
	b.addIntegration(t, "int_a", "old-key")
	b.fake.always("old-key", reply{status: http.StatusUnauthorized, body: `{"error":"revoked"}`})
	qs := b.enqueue(t, "int_a", ev{contact: "c1"}, ev{contact: "c2", name: "page viewed", maxAge: 1500 * time.Millisecond})
	order, page := qs[0], qs[1]
	b.run(t)
	eventually(t, 5*time.Second, func() bool { return b.integration(t, "int_a").Status == signal.IntegrationPaused },
		func() string { return "the integration was not paused" })
	// Held past the page view's max_age and the whole retry window.
	time.Sleep(2500 * time.Millisecond)

	b.fake.scriptEvent(order.eventID, reply{status: http.StatusServiceUnavailable, body: `{"error":"maintenance"}`})
	b.replaceKey(t, "int_a", "new-key")
	les := b.waitStatus(t, "int_a", 10*time.Second, signal.StatusDelivered, qs...)
	if le := les[order.messageID]; le.Attempts != 2 {
		t.Fatalf("order = %s/%s after %d attempts, want delivered on its second", le.Status, le.Reason, le.Attempts)
	}
	if le := les[page.messageID]; le.Attempts != 1 {
		t.Fatalf("page view = %s/%s after %d attempts, want delivered on its first", le.Status, le.Reason, le.Attempts)
	}
}
