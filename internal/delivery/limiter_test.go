package delivery

import (
	"testing"
	"time"

	"github.com/signalhq/signal/internal/integration"
)

// drain asks l for slots from `from` until `until`, as a worker would
// (asking again when told to wait), and returns how many it got.
func drain(l *keyLimiter, from, until time.Time) int {
	total := 0
	for t := from; !t.After(until); {
		n, wait := l.reserve(t, 32)
		total += n
		if n == 0 {
			t = t.Add(max(wait, time.Millisecond))
		}
	}
	return total
}

// TestKeyLimiterObserve pins how the limiter believes a vendor's counts when
// answers of one window come back out of order, or while other requests of
// the key are still in flight (concurrent rounds, integrations sharing a
// key): the lowest count of a window wins; a new window is believed. Each
// drain counts the slots the limiter hands out over a span of virtual time.
func TestKeyLimiterObserve(t *testing.T) {
	t.Parallel()

	type step struct {
		at time.Duration // since start
		// observe, if set, is an answer's account of the limit.
		observe *integration.RateLimit
		// drain, if set, asks for slots from at until drain;
		// wantMin and wantMax bound how many it gets.
		drain            time.Duration
		wantMin, wantMax int
	}
	rl := func(remaining int, reset time.Duration) *integration.RateLimit {
		return &integration.RateLimit{Limit: 6000, Remaining: remaining, Reset: reset, Window: time.Minute}
	}
	perSecond := func(limit, remaining int, reset time.Duration) *integration.RateLimit {
		return &integration.RateLimit{Limit: limit, Remaining: remaining, Reset: reset, Window: time.Second}
	}
	ms := time.Millisecond
	tests := []struct {
		name  string
		steps []step
	}{
		{"AnswersOfOneRoundOutOfOrder", []step{
			{observe: rl(10, 30*time.Second)},
			{observe: rl(40, 30*time.Second+100*ms)},
			{drain: 29900 * ms, wantMin: 10, wantMax: 10},
		}},
		{"OtherRoundStillInFlight", []step{
			{observe: rl(50, 30*time.Second)},
			// 50 spread over 30 s: 0.6 s apart, plus the burst allowance.
			{drain: 10 * time.Second, wantMin: 17, wantMax: 19},
			// The vendor has counted 5; the rest are in flight.
			{at: 10*time.Second + 10*ms, observe: rl(45, 19990*ms)},
			{at: 10*time.Second + 10*ms, drain: 29900 * ms, wantMin: 31, wantMax: 33},
		}},
		{"NewWindowIsBelieved", []step{
			{observe: rl(0, time.Second)},
			{at: 500 * ms, drain: 900 * ms, wantMin: 0, wantMax: 0},
			{at: 1100 * ms, observe: rl(59, 58*time.Second)},
			{at: 1100 * ms, drain: 59 * time.Second, wantMin: 59, wantMax: 59},
		}},
		{"LateAnswerOfAnEndedWindowIsIgnored", []step{
			{observe: rl(5, time.Second)},
			{at: 1100 * ms, observe: rl(50, 59*time.Second)},
			// Answered at 0.95s, read at 1.1s: about the window that ended.
			{at: 1100 * ms, observe: rl(0, 50*ms)},
			{at: 1100 * ms, drain: 59 * time.Second, wantMin: 50, wantMax: 50},
		}},
		{"InFlightAcrossAReset", []step{
			{observe: perSecond(60, 0, 100*ms)},
			// The next window is assumed: one request at a time (16.7 ms
			// apart) until an answer confirms it.
			{at: 101 * ms, drain: 160 * ms, wantMin: 4, wantMax: 4},
			// The first answer: the vendor has counted 1 of the 4 so far.
			{at: 101 * ms, observe: perSecond(60, 59, 999*ms)},
			{at: 161 * ms, drain: 1090 * ms, wantMin: 56, wantMax: 56},
		}},
		{"CatchingUpAtMostTwiceTheAverageRate", []step{
			// 3,000 of 3,500 a minute left with 5 s to go: at most 117
			// a second (twice 3,500/60) plus a round taken ahead, not 600.
			{observe: &integration.RateLimit{Limit: 3500, Remaining: 3000, Reset: 5 * time.Second, Window: time.Minute}},
			{drain: time.Second, wantMin: 110, wantMax: 150}, // with the burst allowance
		}},
		{"WindowSpentWaitsForReset", []step{
			{observe: rl(3, 10*time.Second)},
			{drain: 9900 * ms, wantMin: 3, wantMax: 3},
			{at: 10*time.Second + ms, drain: 10*time.Second + 2*ms, wantMin: 1, wantMax: 32},
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
				if s.drain > 0 {
					if n := drain(l, now, start.Add(s.drain)); n < s.wantMin || n > s.wantMax {
						t.Fatalf("step %d: drain took %d slots, want %d to %d", i, n, s.wantMin, s.wantMax)
					}
				}
			}
		})
	}
}

// TestKeyLimiterSpentWindowKeepsA429sWait: an answer saying the window is
// spent and resets in a second must not cut short the minute a 429 asked
// for (the refused order would wait while page views went into the wait).
func TestKeyLimiterSpentWindowKeepsA429sWait(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		block   time.Duration // the 429's wait
		reset   time.Duration // the spent window's
		at      time.Duration // when held is asked
		wantMin time.Duration
	}{
		{"a longer 429 wait stands", time.Minute, time.Second, 2 * time.Second, 57 * time.Second},
		{"a later window end extends a short wait", time.Second, 10 * time.Second, 2 * time.Second, 7 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := newKeyLimiter(400)
			l.block(t0, tt.block)
			l.observe(t0, &integration.RateLimit{Limit: 400, Remaining: 0, Reset: tt.reset})
			if got := l.held(t0.Add(tt.at)); got < tt.wantMin {
				t.Fatalf("held %v later: %v, want at least %v", tt.at, got, tt.wantMin)
			}
		})
	}
}
