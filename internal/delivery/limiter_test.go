package delivery

import (
	"testing"
	"time"

	"github.com/signalhq/signal/internal/integration"
)

// TestKeyLimiterObserve pins how the limiter believes a vendor's counts when
// answers of one window come back out of order, or while other requests of
// the key are still in flight (concurrent rounds, integrations sharing a
// key): the lowest count of a window wins; a new window is believed.
func TestKeyLimiterObserve(t *testing.T) {
	t.Parallel()

	type step struct {
		at time.Duration // since start
		// observe, if set, is an answer's account of the limit.
		observe *integration.RateLimit
		// reserve asks for slots; wantMax caps how many it may take,
		// wantMin how few.
		reserve          int
		wantMin, wantMax int
	}
	rl := func(remaining int, reset time.Duration) *integration.RateLimit {
		// 6000 a minute: 10ms apart, so pacing never caps these reserves.
		return &integration.RateLimit{Limit: 6000, Remaining: remaining, Reset: reset, Window: time.Minute}
	}
	perSecond := func(limit, remaining int, reset time.Duration) *integration.RateLimit {
		return &integration.RateLimit{Limit: limit, Remaining: remaining, Reset: reset, Window: time.Second}
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"AnswersOfOneRoundOutOfOrder", []step{
			{observe: rl(10, 30*time.Second)},
			{observe: rl(40, 30*time.Second+100*time.Millisecond)},
			{reserve: 32, wantMin: 10, wantMax: 10},
		}},
		{"OtherRoundStillInFlight", []step{
			{observe: rl(50, 30*time.Second)},
			{reserve: 32, wantMin: 32, wantMax: 32}, // in flight, not yet counted by the vendor
			{at: 10 * time.Millisecond, observe: rl(45, 30*time.Second)},
			{at: 400 * time.Millisecond, reserve: 32, wantMin: 18, wantMax: 18},
		}},
		{"NewWindowIsBelieved", []step{
			{observe: rl(0, time.Second)},
			{at: 500 * time.Millisecond, reserve: 1, wantMin: 0, wantMax: 0},
			{at: 1100 * time.Millisecond, observe: rl(59, 58*time.Second)},
			{at: 1100 * time.Millisecond, reserve: 32, wantMin: 32, wantMax: 32},
		}},
		{"LateAnswerOfAnEndedWindowIsIgnored", []step{
			{observe: rl(5, time.Second)},
			{at: 1100 * time.Millisecond, observe: rl(50, 59*time.Second)},
			// Answered at 0.95s, read at 1.1s: about the window that ended.
			{at: 1100 * time.Millisecond, observe: rl(0, 50*time.Millisecond)},
			{at: 1100 * time.Millisecond, reserve: 32, wantMin: 32, wantMax: 32},
			{at: 1500 * time.Millisecond, reserve: 32, wantMin: 18, wantMax: 18},
		}},
		{"InFlightAcrossAReset", []step{
			{observe: perSecond(60, 0, 100*time.Millisecond)},
			{at: 101 * time.Millisecond, reserve: 32, wantMin: 32, wantMax: 32},
			// The vendor has counted 10 of the 32 so far.
			{at: 120 * time.Millisecond, observe: perSecond(60, 50, 980*time.Millisecond)},
			{at: 700 * time.Millisecond, reserve: 32, wantMin: 28, wantMax: 28},
		}},
		{"WindowSpentWaitsForReset", []step{
			{observe: rl(3, 10*time.Second)},
			{reserve: 32, wantMin: 3, wantMax: 3},
			{at: 5 * time.Second, reserve: 1, wantMin: 0, wantMax: 0},
			{at: 10*time.Second + time.Millisecond, reserve: 1, wantMin: 1, wantMax: 1},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
			l := newKeyLimiter(400)
			for i, s := range tc.steps {
				now := start.Add(s.at)
				if s.observe != nil {
					l.observe(now, s.observe)
				}
				if s.reserve > 0 {
					if n, _ := l.reserve(now, s.reserve); n < s.wantMin || n > s.wantMax {
						t.Fatalf("step %d: reserve(%d) took %d slots, want %d to %d", i, s.reserve, n, s.wantMin, s.wantMax)
					}
				}
			}
		})
	}
}
