package delivery

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// BudgetStore keeps the rate budget of each API key where every node
// sharing the store spends it (store.RateBudgetStore; PostgreSQL).
type BudgetStore interface {
	TakeRateBudget(ctx context.Context, p store.TakeRateBudgetParams) (*store.RateBudget, error)
	GiveBackRateBudget(ctx context.Context, p store.GiveBackRateBudgetParams) error
	ObserveRateBudget(ctx context.Context, p store.ObserveRateBudgetParams) (*store.RateBudget, error)
}

// budgetTimeout bounds one call to the shared budget. The budget's methods
// take no context: they are also called after the engine's context is done
// (a round draining at shutdown records what the vendor said), and one
// short statement must not hold a round for longer than this.
const budgetTimeout = 5 * time.Second

// sharedBudget is one API key's budget spent by every node sharing the
// store: a row per key hash (store.RateBudgetStore). The local keyLimiter
// still paces this node and learns the window from its own answers; the
// row is the account all nodes keep together. reserve takes slots locally,
// then from the row in one statement, and gives back locally what the row
// did not grant; the row's count, window and block then replace the local
// ones, and its count of active nodes sets this node's share of the pace,
// so that the nodes spread their requests over the window rather than
// race for its start. observe writes an answer to the row only when it
// tells the row something new (a new window, a lower count, an earlier
// end, the limit or a longer window); block (a 429) holds every node.
type sharedBudget struct {
	local *keyLimiter
	key   string
	node  int
	st    BudgetStore
	log   *slog.Logger
	now   func() time.Time

	mu sync.Mutex
	// lastErr is when a failed call was last logged; failures in between
	// are counted into the next line (a database down fails every round).
	lastErr     time.Time
	errsSkipped int
	// row is the budget as the last call left it; known once one came back.
	row   store.RateBudget
	known bool
}

var _ budget = (*sharedBudget)(nil)

// errLogEvery bounds the log to a line per key this often while the shared
// budget's database fails.
const errLogEvery = 10 * time.Second

func (b *sharedBudget) logErr(msg string, err error) {
	now := b.now()
	b.mu.Lock()
	if !b.lastErr.IsZero() && now.Sub(b.lastErr) < errLogEvery {
		b.errsSkipped++
		b.mu.Unlock()
		return
	}
	skipped := b.errsSkipped
	b.lastErr, b.errsSkipped = now, 0
	b.mu.Unlock()
	b.log.Error(msg, "err", err, "failures_not_logged", skipped)
}

func (b *sharedBudget) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), budgetTimeout)
}

func (b *sharedBudget) reserve(now time.Time, n int) (int, time.Duration) {
	took, wait := b.local.reserve(now, n)
	if took == 0 {
		return 0, wait
	}
	ctx, cancel := b.ctx()
	defer cancel()
	row, err := b.st.TakeRateBudget(ctx, store.TakeRateBudgetParams{Key: b.key, N: took, Node: b.node, Now: now})
	if err != nil {
		b.local.refund(took)
		b.logErr("delivery: take from the shared rate budget", err)
		return 0, time.Second
	}
	b.local.refund(took - row.Granted)
	b.adopt(row)
	switch {
	case row.Granted > 0:
		return row.Granted, 0
	case now.Before(row.BlockedUntil):
		return 0, row.BlockedUntil.Sub(now)
	case row.Remaining == 0:
		return 0, max(row.WindowEnd.Sub(now), 10*time.Millisecond)
	}
	return 0, 10 * time.Millisecond
}

// adopt makes the row's account the local one.
func (b *sharedBudget) adopt(row *store.RateBudget) {
	b.mu.Lock()
	b.row, b.known = *row, true
	b.mu.Unlock()
	l := b.local
	l.mu.Lock()
	defer l.mu.Unlock()
	if row.Limit > 0 {
		l.limit = row.Limit
	}
	if !l.stated && row.Window > l.window {
		l.window = row.Window // learned by another node
	}
	l.remaining, l.windowEnd, l.assumed = row.Remaining, row.WindowEnd, row.Assumed
	if row.BlockedUntil.After(l.blockedUntil) {
		l.blockedUntil = row.BlockedUntil
	}
	l.share = max(row.Nodes, 1)
}

func (b *sharedBudget) refund(n int) {
	if n <= 0 {
		return
	}
	b.local.refund(n)
	b.mu.Lock()
	row := b.row
	b.mu.Unlock()
	if row.Remaining < 0 {
		return // the row grants all while its count is unknown
	}
	ctx, cancel := b.ctx()
	defer cancel()
	// The slots go back to the window they were taken from, if it is
	// still the current one (its end, as answers refine it, stays within
	// half a window of what the take saw).
	before := row.WindowEnd.Add(max(row.Window/2, time.Second))
	if err := b.st.GiveBackRateBudget(ctx, store.GiveBackRateBudgetParams{Key: b.key, N: n, Now: b.now(), Before: before}); err != nil {
		b.logErr("delivery: give back to the shared rate budget", err)
	}
}

func (b *sharedBudget) sent(now time.Time, n int) { b.local.sent(now, n) }

func (b *sharedBudget) observe(sent time.Time, rl *integration.RateLimit) {
	b.local.observe(sent, rl)
	if rl == nil {
		return
	}
	p := store.ObserveRateBudgetParams{Key: b.key, Sent: sent, Remaining: rl.Remaining, Limit: rl.Limit, Now: sent}
	b.local.mu.Lock()
	p.Window = b.local.window
	b.local.mu.Unlock()
	if rl.Reset > 0 {
		p.End = sent.Add(rl.Reset)
	}
	if !b.news(p) {
		return
	}
	ctx, cancel := b.ctx()
	defer cancel()
	row, err := b.st.ObserveRateBudget(ctx, p)
	if err != nil {
		b.logErr("delivery: record in the shared rate budget", err)
		return
	}
	b.adopt(row)
}

// news reports whether an answer may change the row as this node last saw
// it. Most answers only repeat, a little later, what the row says: the
// vendor's count is higher than the row's, which counts the requests in
// flight.
func (b *sharedBudget) news(p store.ObserveRateBudgetParams) bool {
	b.mu.Lock()
	row, known := b.row, b.known
	b.mu.Unlock()
	switch {
	case !known:
		return true
	case p.Limit > 0 && p.Limit != row.Limit, p.Window > row.Window:
		return true
	case p.End.IsZero():
		return false
	}
	half := max(p.Window, row.Window) / 2
	d := p.End.Sub(row.WindowEnd)
	return row.Remaining < 0 || row.Assumed || !p.Sent.Before(row.WindowEnd) || d >= half ||
		(d > -half && (p.Remaining < row.Remaining || d <= -time.Millisecond))
}

func (b *sharedBudget) block(now time.Time, d time.Duration) {
	b.local.block(now, d)
	ctx, cancel := b.ctx()
	defer cancel()
	row, err := b.st.ObserveRateBudget(ctx, store.ObserveRateBudgetParams{Key: b.key, BlockUntil: now.Add(d), Now: now})
	if err != nil {
		b.logErr("delivery: block the shared rate budget", err)
		return
	}
	b.adopt(row)
}

// held is the local limiter's: it holds this node's own 429s and the
// blocks the row brought back (adopt).
func (b *sharedBudget) held(now time.Time) time.Duration { return b.local.held(now) }

func (b *sharedBudget) state(now time.Time) signal.RateLimitState { return b.local.state(now) }

// shared returns the sharedBudget of key over its local limiter l. Bound:
// as limiters.get's, one entry per API key used since start.
func (ls *limiters) shared(key string, l *keyLimiter, e *Engine) *sharedBudget {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.budgets == nil {
		ls.budgets = map[string]*sharedBudget{}
	}
	b, ok := ls.budgets[key]
	if !ok {
		b = &sharedBudget{local: l, key: key, node: e.node, st: e.budgets, log: e.log, now: e.now}
		ls.budgets[key] = b
	}
	return b
}
