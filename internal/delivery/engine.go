// Package delivery sends queued deliveries to vendors. It knows no vendor:
// a vendor builds the request and classifies the answer; retry, back-off,
// pausing, rate limits and ordering live here, once.
package delivery

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// Store is what delivery reads and writes.
type Store interface {
	ClaimDeliveries(ctx context.Context, p store.ClaimDeliveriesParams) ([]*signal.Delivery, error)
	FinishDeliveries(ctx context.Context, p store.FinishDeliveriesParams) error
	NextDue(ctx context.Context, p store.NextDueParams) (time.Time, bool, error)
	GetIntegration(ctx context.Context, p store.GetIntegrationParams) (*signal.Integration, error)
	ListIntegrations(ctx context.Context, p store.ListParams) ([]*signal.Integration, error)
	PauseIntegration(ctx context.Context, p store.PauseIntegrationParams) (bool, error)
}

// Hasher keys the hash an API key is known by (for its rate limiter).
type Hasher interface {
	Hash(s string) string
}

// Config tunes delivery.
type Config struct {
	// MaxInFlight caps the requests of one round (one claim).
	MaxInFlight int
	// Rounds caps the rounds in flight at once per integration.
	Rounds int
	// Timeout of one vendor request, when set: overrides every vendor's
	// own (Vendor.Timeout); tests shorten it.
	Timeout time.Duration
	// Lease is how long a claimed delivery is held before another worker
	// (or this one after a crash) may take it again.
	Lease time.Duration
	// Backoff is the retry schedule.
	Backoff Backoff
	// DrainTimeout bounds how long Run waits for requests in flight once
	// its context is done.
	DrainTimeout time.Duration
	// Poll is the longest a worker sleeps without being woken.
	Poll time.Duration
}

// DefaultConfig returns production settings.
func DefaultConfig() Config {
	return Config{MaxInFlight: 32, Rounds: 4, Lease: 60 * time.Second, Backoff: DefaultBackoff(),
		DrainTimeout: 12 * time.Second, Poll: 5 * time.Second}
}

// Vendors finds the vendor of a catalog key (integration.Registry).
type Vendors interface {
	Vendor(key string) (integration.Vendor, bool)
}

// Deps are what the engine works with.
type Deps struct {
	Store   Store
	Vendors Vendors
	// Hasher keys the rate limiters' names (never an API key in memory
	// maps or logs).
	Hasher Hasher
	// Client sends requests; nil: a client that never follows redirects.
	Client *http.Client
	Log    *slog.Logger
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// LimiterWaitFunc, when set, is told each time an integration's worker
	// waits for its rate limiter, and for how long (metrics; must not
	// block).
	LimiterWaitFunc func(integrationID string, d time.Duration)
	// Budgets, when set, keeps each API key's rate budget where every node
	// sharing the store spends it (PostgreSQL); nil: this node's limiter
	// alone paces each key (one node).
	Budgets BudgetStore
}

// Engine runs one worker per integration.
type Engine struct {
	cfg      Config
	store    Store
	vendors  Vendors
	hasher   Hasher
	client   *http.Client
	log      *slog.Logger
	now      func() time.Time
	limiters limiters
	// limiterWait: Deps.LimiterWaitFunc, never nil.
	limiterWait func(string, time.Duration)
	// budgets: Deps.Budgets; node marks this engine in them (0–62, drawn
	// at random: two nodes drawing the same count as one, which only
	// makes them pace faster, never spend more).
	budgets BudgetStore
	node    int

	mu sync.Mutex
	// workers: one per installed integration (admin-created, not from
	// gateway input).
	workers map[string]*worker
	ctx     context.Context
	wg      sync.WaitGroup
	// backfills, when set, is poked with every Pending (new deliveries
	// may be a backfill's).
	backfills *Backfills
}

// orDefault sets an unset (zero or negative) setting to its default.
func orDefault[T int | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// New returns an engine.
func New(cfg Config, deps Deps) *Engine {
	d := DefaultConfig()
	orDefault(&cfg.MaxInFlight, d.MaxInFlight)
	orDefault(&cfg.Rounds, d.Rounds)
	orDefault(&cfg.Lease, d.Lease)
	if cfg.Backoff.Base <= 0 {
		cfg.Backoff = d.Backoff
	}
	orDefault(&cfg.DrainTimeout, d.DrainTimeout)
	orDefault(&cfg.Poll, d.Poll)
	client, log, now := deps.Client, deps.Log, deps.Now
	if client == nil {
		// No client-wide timeout: each request carries its vendor's
		// (see Engine.timeout).
		client = &http.Client{
			// Never follow a redirect: Go would carry the API key (and, on
			// 307/308, the contact's data) to whatever host it names. A 3xx
			// is classified (retried) instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Transport: &http.Transport{
				MaxIdleConnsPerHost: cfg.MaxInFlight * cfg.Rounds, IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: true,
			}}
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	limiterWait := deps.LimiterWaitFunc
	if limiterWait == nil {
		limiterWait = func(string, time.Duration) {}
	}
	return &Engine{limiterWait: limiterWait, cfg: cfg, store: deps.Store, vendors: deps.Vendors, hasher: deps.Hasher, client: client, log: log, now: now,
		budgets: deps.Budgets, node: rand.IntN(63), workers: map[string]*worker{}}
}

// timeout is how long one request to vendor may take.
func (e *Engine) timeout(vendor integration.Vendor) time.Duration {
	if e.cfg.Timeout > 0 {
		return e.cfg.Timeout
	}
	if t := vendor.Timeout(); t > 0 {
		return t
	}
	return 10 * time.Second
}

// limiter is the rate limiter of the vendor account an integration sends
// with: its vendor names the secret that identifies the account; only a
// keyed hash of it is kept.
func (e *Engine) limiter(in *signal.Integration, vendor integration.Vendor) budget {
	key := e.hasher.Hash(in.CatalogKey + "\x00" + vendor.RateLimitKey(in))
	l := e.limiters.get(key, vendor.Entry().RateLimitPerMinute)
	if e.budgets == nil {
		return l
	}
	return e.limiters.shared(key, l, e)
}

// Run starts a worker for every integration and runs until ctx is done;
// then it stops claiming, lets requests in flight finish (at most
// DrainTimeout) and records them.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	e.ctx = ctx
	e.mu.Unlock()
	if err := e.syncWorkers(ctx); err != nil {
		e.log.Error("delivery: list integrations", "err", err)
	}
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			e.wg.Wait()
			return nil
		case <-t.C:
			if err := e.syncWorkers(ctx); err != nil {
				e.log.Error("delivery: list integrations", "err", err)
			}
		}
	}
}

func (e *Engine) syncWorkers(ctx context.Context) error {
	after := ""
	for {
		ins, err := e.store.ListIntegrations(ctx, store.ListParams{After: after, Limit: 1000})
		if err != nil {
			return err
		}
		for _, in := range ins {
			e.Pending(in.ID)
		}
		if len(ins) < 1000 {
			return nil
		}
		after = ins[len(ins)-1].ID
	}
}

// Pending wakes the worker of an integration, starting it if needed.
func (e *Engine) Pending(integrationID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.backfills != nil {
		e.backfills.poke()
	}
	if e.ctx == nil || e.ctx.Err() != nil {
		return
	}
	w, ok := e.workers[integrationID]
	if !ok {
		w = &worker{e: e, id: integrationID, wake: make(chan struct{}, 1)}
		e.workers[integrationID] = w
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			w.run(e.ctx)
			e.mu.Lock()
			if e.workers[integrationID] == w {
				delete(e.workers, integrationID)
			}
			e.mu.Unlock()
		}()
	}
	w.poke()
}

// IntegrationChanged reacts to a changed integration (new key, enabled,
// deleted, replayed deliveries).
func (e *Engine) IntegrationChanged(id string) { e.Pending(id) }
