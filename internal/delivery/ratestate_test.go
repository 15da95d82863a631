package delivery

import (
	"testing"
	"time"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

// TestKeyLimiterState: what an integration's health shows of its key's
// limiter: the configured rate until the vendor says its own, what remains,
// and the requests of the last minute only.
func TestKeyLimiterState(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		run  func(l *keyLimiter)
		at   time.Time
		want signal.RateLimitState
	}{
		{"Fresh", func(*keyLimiter) {}, t0, signal.RateLimitState{Limit: 400, Remaining: 400, WindowSeconds: 60}},
		{"UsedAndRefunded", func(l *keyLimiter) {
			n, _ := l.reserve(t0, 5)
			l.sent(t0, 2)
			l.refund(n - 2)
		}, t0.Add(time.Second), signal.RateLimitState{Limit: 400, Remaining: 398, WindowSeconds: 60, UsedLastMinute: 2}},
		{"RefundedInALaterSecond", func(l *keyLimiter) {
			// Rounds overlap: a reservation made in one second may be
			// refunded after another round's, in a later second; what was
			// sent is counted in the second it went out.
			a, _ := l.reserve(t0, 4)
			l.sent(t0, 1)
			b, _ := l.reserve(t0.Add(time.Second), 4)
			l.sent(t0.Add(time.Second), 2)
			l.refund(b - 2)
			l.refund(a - 1)
		}, t0.Add(2 * time.Second), signal.RateLimitState{Limit: 400, Remaining: 397, WindowSeconds: 60, UsedLastMinute: 3}},
		{"RefundAfterAnotherSecondsReserve", func(l *keyLimiter) {
			// A round reserves 3, another reserves 1 a second later and
			// sends it, then the first gives its 3 back (its claim found
			// nothing).
			l.reserve(t0, 3)
			l.reserve(t0.Add(time.Second), 1)
			l.sent(t0.Add(time.Second), 1)
			l.refund(3)
		}, t0.Add(2 * time.Second), signal.RateLimitState{Limit: 400, Remaining: 399, WindowSeconds: 60, UsedLastMinute: 1}},
		{"OlderThanAMinuteForgotten", func(l *keyLimiter) {
			l.reserve(t0, 3)
			l.sent(t0, 3)
			l.reserve(t0.Add(30*time.Second), 1)
			l.sent(t0.Add(30*time.Second), 1)
		}, t0.Add(61 * time.Second), signal.RateLimitState{Limit: 400, Remaining: 399, WindowSeconds: 60, UsedLastMinute: 1}},
		{"VendorSaid", func(l *keyLimiter) {
			l.reserve(t0, 1)
			l.sent(t0, 1)
			l.observe(t0, &integration.RateLimit{Limit: 100, Remaining: 42, Reset: 20 * time.Second, Window: 30 * time.Second})
		}, t0.Add(time.Second), signal.RateLimitState{Limit: 100, Remaining: 42, WindowSeconds: 30, UsedLastMinute: 1}},
		{"VendorSaidWithoutTheWindow", func(l *keyLimiter) {
			l.observe(t0, &integration.RateLimit{Limit: 40, Remaining: 39, Reset: 9980 * time.Millisecond})
		}, t0.Add(time.Second), signal.RateLimitState{Limit: 40, Remaining: 39, WindowSeconds: 10}},
		{"Blocked", func(l *keyLimiter) {
			l.block(t0, 10*time.Second)
		}, t0.Add(time.Second), signal.RateLimitState{Limit: 400, Remaining: 0, WindowSeconds: 60}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newKeyLimiter(400)
			tc.run(l)
			if got := l.state(tc.at); got != tc.want {
				t.Fatalf("state = %+v, want %+v", got, tc.want)
			}
		})
	}
}
