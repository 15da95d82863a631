package delivery

import (
	"time"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

// budget is what a worker spends one vendor API key's requests from: ask
// for slots, give back the unused, learn from each answer, stop on a 429.
// keyLimiter is the node-local budget, the only one so far.
//
// The seam is for nodes sharing one PostgreSQL database, which must share
// one budget per key (issue 12; it needs a table, so it waits for the
// store's next migration). The design, written down in docs/decisions.md
// ("A shared rate budget per API key"): a sharedBudget wraps a keyLimiter
// and satisfies this interface. The keyLimiter keeps pacing and learning
// the window as now; reserve first takes its slots locally, then takes them
// from one row per key hash (limit, remaining, window_end, window) with a
// single conditional UPDATE … RETURNING, refunding locally what the row
// did not grant; observe writes the vendor's account into that row with
// the same rules as keyLimiter.observe (lowest count of a window, a new
// window believed), so every node paces by the budget all of them leave.
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
	// state is the budget as an integration's health shows it.
	state(now time.Time) signal.RateLimitState
}

var _ budget = (*keyLimiter)(nil)
