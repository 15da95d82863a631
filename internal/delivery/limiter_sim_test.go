package delivery

import (
	"math"
	"sort"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/integration"
)

// simVendor is a vendor in virtual time enforcing a fixed window of limit
// requests per window (windows start at phase), answering with
// Omnisend's headers: Limit, Remaining and Reset (whole seconds rounded up
// when whole is set, else milliseconds), and no window length.
type simVendor struct {
	limit  int
	window time.Duration
	phase  time.Duration
	whole  bool

	idx      int64
	used     int
	accepted int
	refused  int
}

// arrive counts a request arriving at t (since the simulation's start) and
// returns the answer's account of the limit and whether it was refused.
func (v *simVendor) arrive(t time.Duration) (*integration.RateLimit, bool) {
	idx := int64((t + v.window - v.phase) / v.window)
	if idx != v.idx {
		v.idx, v.used = idx, 0
	}
	end := time.Duration(idx)*v.window + v.phase
	left := end - t
	if v.whole {
		left = time.Duration(math.Ceil(left.Seconds())) * time.Second
	} else {
		left = left.Truncate(time.Millisecond)
	}
	refused := v.used >= v.limit
	if refused {
		v.refused++
	} else {
		v.used++
		v.accepted++
	}
	return &integration.RateLimit{Limit: v.limit, Remaining: v.limit - v.used, Reset: left}, refused
}

// simulate runs a worker against v for d of virtual time (1 ms steps): it
// reserves up to 32 slots whenever the limiter allows, each request reaches
// the vendor after latency/2 and its answer is read after latency. It
// returns the share of the allowed rate used over the whole windows after
// the first two, and the share of requests refused with 429.
func simulate(v *simVendor, latency, d time.Duration) (used, refused float64) {
	return simulateNodes(v, []budget{newKeyLimiter(400)}, latency, d)
}

// simStart is the simulations' virtual start.
var simStart = time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)

// simulateNodes is simulate with one worker per node, each spending the
// key's requests from its own budget; a node asks again when its budget
// said to wait (or at the next step after it got slots).
func simulateNodes(v *simVendor, nodes []budget, latency, d time.Duration) (used, refused float64) {
	start := simStart
	type answer struct {
		at, sent time.Duration
		node     int
		rl       *integration.RateLimit
		refused  bool
	}
	type arrival struct {
		at   time.Duration
		node int
	}
	var arrivals []arrival
	var answers []answer
	ask := make([]time.Duration, len(nodes))
	from := 2 * v.window
	var accBefore, accAt int
	until := from + (d-from)/v.window*v.window
	for t := time.Duration(0); t < until; t += time.Millisecond {
		if t == from {
			accBefore = v.accepted
		}
		// Arrivals and answers are in time order (constant latency).
		for len(arrivals) > 0 && arrivals[0].at <= t {
			a := arrivals[0]
			rl, ref := v.arrive(a.at)
			answers = append(answers, answer{at: a.at + latency/2, sent: a.at - latency/2, node: a.node, rl: rl, refused: ref})
			arrivals = arrivals[1:]
		}
		sort.SliceStable(answers, func(i, j int) bool { return answers[i].at < answers[j].at })
		for len(answers) > 0 && answers[0].at <= t {
			a := answers[0]
			answers = answers[1:]
			// As the worker does: the answer describes the window as of
			// the request's start.
			nodes[a.node].observe(start.Add(a.sent), a.rl)
			if a.refused {
				nodes[a.node].block(start.Add(t), max(a.rl.Reset, time.Second))
			}
		}
		for i, b := range nodes {
			if t < ask[i] {
				continue
			}
			n, wait := b.reserve(start.Add(t), 32)
			for range n {
				arrivals = append(arrivals, arrival{at: t + latency/2, node: i})
			}
			if n == 0 {
				ask[i] = t + wait.Truncate(time.Millisecond)
			}
		}
	}
	accAt = v.accepted
	allowed := float64(v.limit) * float64((until-from)/v.window)
	return float64(accAt-accBefore) / allowed, float64(v.refused) / float64(max(v.accepted+v.refused, 1))
}

// TestKeyLimiterLearnsTheWindow: against a vendor whose window is not a
// minute (and whose headers never say how long it is), a backlog uses at
// least 95% of the allowed rate with at most 1% answered 429. In virtual
// time, so a loaded machine's jitter cannot decide it; the engine's real
// runs are BenchmarkRateLimitWindow.
func TestKeyLimiterLearnsTheWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		vendor  simVendor
		latency time.Duration
	}{
		{"40 per 10 s", simVendor{limit: 40, window: 10 * time.Second, phase: 3700 * time.Millisecond}, 40 * time.Millisecond},
		{"40 per 10 s, whole-second Reset", simVendor{limit: 40, window: 10 * time.Second, phase: 3700 * time.Millisecond, whole: true}, 40 * time.Millisecond},
		{"400 per 60 s", simVendor{limit: 400, window: time.Minute, phase: 17 * time.Second}, 40 * time.Millisecond},
		{"400 per 60 s, whole-second Reset", simVendor{limit: 400, window: time.Minute, phase: 17 * time.Second, whole: true}, 40 * time.Millisecond},
		{"100 per 5 s, slow answers", simVendor{limit: 100, window: 5 * time.Second, phase: 1200 * time.Millisecond}, 300 * time.Millisecond},
		{"1000 per 5 min", simVendor{limit: 1000, window: 5 * time.Minute, phase: 100 * time.Second, whole: true}, 40 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := tc.vendor
			used, refused := simulate(&v, tc.latency, 12*v.window)
			t.Logf("%s: used %.1f%% of the allowed rate, %.2f%% answered 429", tc.name, 100*used, 100*refused)
			if used < 0.95 || refused > 0.01 {
				t.Fatalf("used %.1f%% of the allowed rate with %.2f%% answered 429; want at least 95%% with at most 1%%", 100*used, 100*refused)
			}
		})
	}
}
