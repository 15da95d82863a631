package delivery

import (
	"time"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

// budget is what a worker spends one vendor API key's requests from: ask
// for slots, give back the unused, learn from each answer, stop on a 429.
// keyLimiter is the node-local budget (one node, SQLite); sharedBudget
// (limiter_shared.go) the budget every node sharing a PostgreSQL database
// spends together, one row per key (docs/decisions.md, "A shared rate
// budget per API key").
type budget interface {
	// reserve takes up to n slots at now; with none, how long to wait.
	reserve(now time.Time, n int) (int, time.Duration)
	// refund gives back n slots reserved and not used.
	refund(n int)
	// sent counts n requests going out at now (the health page's use).
	sent(now time.Time, n int)
	// observe learns from the answer to a request started at sent.
	observe(sent time.Time, rl *integration.RateLimit)
	// block holds every request until now+d (a 429).
	block(now time.Time, d time.Duration)
	// held is how long requests are still held at now (0: not held). A
	// round whose slots were reserved before a block checks it after its
	// claim: slots taken before a 429 must not be spent during its wait.
	held(now time.Time) time.Duration
	// state is the budget as an integration's health shows it.
	state(now time.Time) signal.RateLimitState
}

var _ budget = (*keyLimiter)(nil)
