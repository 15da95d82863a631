package delivery

import (
	"context"
	"sync"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// BackfillStore is what the backfill sender reads and writes.
type BackfillStore interface {
	AppendEvents(ctx context.Context, p store.AppendEventsParams) error
	RunningBackfills(ctx context.Context) ([]*store.Backfill, error)
	GetBackfill(ctx context.Context, p store.GetBackfillParams) (*store.Backfill, error)
	LeaseBackfill(ctx context.Context, p store.LeaseBackfillParams) (bool, error)
	BackfillItems(ctx context.Context, p store.BackfillItemsParams) ([]store.BackfillItem, error)
	BackfillQueued(ctx context.Context, p store.BackfillQueuedParams) (int, error)
	ClaimBackfillDeliveries(ctx context.Context, p store.ClaimBackfillParams) ([]*signal.Delivery, error)
	RecordBatch(ctx context.Context, p store.RecordBatchParams) error
	OpenBatches(ctx context.Context, p store.OpenBatchesParams) ([]store.OpenBatch, error)
	BatchDeliveries(ctx context.Context, p store.BatchDeliveriesParams) ([]*signal.Delivery, error)
	CloseBatch(ctx context.Context, p store.CloseBatchParams) error
	FinishBackfill(ctx context.Context, p store.FinishBackfillParams) error
}

// BackfillConfig tunes the backfill sender.
type BackfillConfig struct {
	// Holder names this node in backfill leases (one runner per backfill
	// across nodes).
	Holder string
	// Lease is how long a runner holds its backfill without renewing.
	Lease time.Duration
	// Scan is how often the running backfills are listed (a new one is
	// started at once through Wake).
	Scan time.Duration
	// PollFirst is the wait before a batch's first poll; polls then back
	// off, doubling up to PollMax.
	PollFirst, PollMax time.Duration
	// FeedChunk is how many lines go into the event log at once, and
	// FeedAhead how many built deliveries may wait for a batch before
	// more lines are fed: the processor's share of a backfill stays small
	// at any moment, so live events never queue behind a history.
	FeedChunk, FeedAhead int
	// Headroom is the share of the vendor's budget (1/Headroom of its
	// limit) a backfill never takes: what live traffic finds free.
	Headroom int
	// Idle is the longest a runner sleeps without being woken.
	Idle time.Duration
}

// DefaultBackfillConfig returns production settings.
func DefaultBackfillConfig() BackfillConfig {
	return BackfillConfig{Lease: 60 * time.Second, Scan: 10 * time.Second, PollFirst: time.Second, PollMax: 30 * time.Second,
		FeedChunk: 500, FeedAhead: 1000, Headroom: 5, Idle: time.Second}
}

// Backfills sends the running backfills: it feeds their lines into the event
// log (so the processor builds each like a live event), sends the built
// deliveries through the vendor's batch endpoint with only the rate budget
// live traffic leaves, records each acknowledged batch before polling it,
// and finishes every delivery with its item's result.
type Backfills struct {
	e       *Engine
	store   BackfillStore
	cfg     BackfillConfig
	logged  func()
	wake    chan struct{}
	mu      sync.Mutex
	running map[string]*runner
}

// NewBackfills returns the backfill sender of an engine; logged is called
// after lines were appended to the log (to wake the processor; nil: none).
func (e *Engine) NewBackfills(st BackfillStore, cfg BackfillConfig, logged func()) *Backfills {
	d := DefaultBackfillConfig()
	orDefault(&cfg.Lease, d.Lease)
	orDefault(&cfg.Scan, d.Scan)
	orDefault(&cfg.PollFirst, d.PollFirst)
	orDefault(&cfg.PollMax, d.PollMax)
	orDefault(&cfg.FeedChunk, d.FeedChunk)
	orDefault(&cfg.FeedAhead, d.FeedAhead)
	orDefault(&cfg.Headroom, d.Headroom)
	orDefault(&cfg.Idle, d.Idle)
	if cfg.Holder == "" {
		cfg.Holder = "node"
	}
	if logged == nil {
		logged = func() {}
	}
	b := &Backfills{e: e, store: st, cfg: cfg, logged: logged, wake: make(chan struct{}, 1), running: map[string]*runner{}}
	e.mu.Lock()
	e.backfills = b
	e.mu.Unlock()
	return b
}

// BackfillCreated starts a new backfill at once (admin.BackfillNotifier);
// without a backfill sender on this node, other nodes find it within their
// scan.
func (e *Engine) BackfillCreated(string) {
	e.mu.Lock()
	b := e.backfills
	e.mu.Unlock()
	if b != nil {
		b.Wake()
	}
}

// Wake makes Run look for new backfills now (one was created).
func (b *Backfills) Wake() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
	b.poke()
}

// poke wakes every runner: new deliveries may have been built.
func (b *Backfills) poke() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.running {
		r.poke()
	}
}

// Run resumes every running backfill and starts new ones until ctx is
// done; then it waits for its runners (each records what it sent).
func (b *Backfills) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(b.cfg.Scan)
	defer t.Stop()
	for {
		bfs, err := b.store.RunningBackfills(ctx)
		if err != nil && ctx.Err() == nil {
			b.e.log.Error("backfill: list running backfills", "err", err)
		}
		for _, bf := range bfs {
			b.mu.Lock()
			if _, ok := b.running[bf.ID]; !ok {
				r := &runner{b: b, id: bf.ID, integrationID: bf.IntegrationID, wake: make(chan struct{}, 1), polls: map[string]*poll{}}
				b.running[bf.ID] = r
				wg.Add(1)
				go func() {
					defer wg.Done()
					r.run(ctx)
					b.mu.Lock()
					delete(b.running, r.id)
					b.mu.Unlock()
				}()
			}
			b.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-b.wake:
		}
	}
}
