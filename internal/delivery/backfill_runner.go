package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// runner sends one backfill.
type runner struct {
	b             *Backfills
	id            string
	integrationID string
	wake          chan struct{}
	// polls are the open batches and when each is polled next.
	polls  map[string]*poll
	loaded bool
	// accepted and logged are the backfill's lines and how many of them
	// are in the log: read once, then counted here (this runner is the
	// backfill's only feeder while it holds the lease).
	accepted, logged int
	leased           time.Time
	partial          time.Time
	attempts         int
	// unrecorded is a batch the vendor acknowledged whose recording
	// failed: it is recorded before anything else is sent (its items
	// stay claimed by this runner, so no other batch can take them).
	unrecorded *unrecordedBatch
}

// unrecordedBatch is an acknowledged batch not yet in the store.
type unrecordedBatch struct {
	id       string
	ds       []*signal.Delivery
	attempts int
}

type poll struct {
	next  time.Time
	delay time.Duration
	// since is when the batch was recorded: a batch whose results do not
	// come within the retry horizon ends its items failed.
	since time.Time
}

func (r *runner) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *runner) sleep(ctx context.Context, d time.Duration) bool {
	d = min(max(d, time.Millisecond), r.b.cfg.Idle)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-r.wake:
	case <-t.C:
	}
	return true
}

func (r *runner) run(ctx context.Context) {
	defer r.recordAtExit(ctx)
	for ctx.Err() == nil {
		wait, done := r.step(ctx)
		if done || !r.sleep(ctx, wait) {
			return
		}
	}
}

// record stores the acknowledged batch whose recording failed; false
// (logged) if it fails again.
func (r *runner) record(ctx context.Context) bool {
	u, e := r.unrecorded, r.b.e
	err := r.b.store.RecordBatch(context.WithoutCancel(ctx), store.RecordBatchParams{BackfillID: r.id, BatchID: u.id, Deliveries: u.ds, Now: e.now().UTC()})
	if err != nil {
		u.attempts++
		e.log.Error("backfill: record acknowledged batch", "backfill", r.id, "batch", u.id, "attempt", u.attempts, "err", err)
		return false
	}
	r.unrecorded = nil
	r.polls[u.id] = &poll{next: e.now().Add(r.b.cfg.PollFirst), delay: r.b.cfg.PollFirst, since: e.now()}
	return true
}

// recordAtExit tries, a few more times, to record an acknowledged batch
// before the runner stops (shutdown does not cancel it): once the claim's
// leases run out after a stop, its items would go out again.
func (r *runner) recordAtExit(ctx context.Context) {
	for try := 0; r.unrecorded != nil && try < 3; try++ {
		if r.record(ctx) {
			return
		}
		// Bounded (about a second in all): the stop must stay brief.
		time.Sleep(min(r.b.e.cfg.Backoff.Next(try+1), 500*time.Millisecond))
	}
}

// step does what is due for the backfill now and says how long to wait
// before the next step, or that the runner is done (finished, or held by
// another node).
func (r *runner) step(ctx context.Context) (time.Duration, bool) {
	b, e := r.b, r.b.e
	now := e.now()
	if now.Sub(r.leased) > b.cfg.Lease/3 {
		ok, err := b.store.LeaseBackfill(ctx, store.LeaseBackfillParams{ID: r.id, Holder: b.cfg.Holder, Now: now, Until: now.Add(b.cfg.Lease)})
		if err != nil {
			return r.failed(ctx, "lease", err)
		}
		if !ok {
			return 0, true // another node runs it, or it is over
		}
		r.leased = now
	}
	if r.unrecorded != nil && !r.record(ctx) {
		// Nothing else goes out before the acknowledged batch is
		// recorded.
		return r.b.e.cfg.Backoff.Next(r.unrecorded.attempts), false
	}
	in, err := e.store.GetIntegration(ctx, store.GetIntegrationParams{ID: r.integrationID})
	if signal.ErrorCode(err) == signal.ENOTFOUND {
		r.finish(ctx, store.BackfillFailed, "its integration was deleted")
		return 0, true
	}
	if err != nil {
		return r.failed(ctx, "load integration", err)
	}
	vendor, ok := e.vendors.Vendor(in.CatalogKey)
	bs, batches := vendor.(integration.BatchSender)
	if !ok || !batches {
		r.finish(ctx, store.BackfillFailed, "its vendor has no batch endpoint")
		return 0, true
	}
	if !r.loaded {
		// After a restart: the batches the vendor acknowledged are
		// polled, never sent again.
		open, err := b.store.OpenBatches(ctx, store.OpenBatchesParams{BackfillID: r.id})
		if err != nil {
			return r.failed(ctx, "open batches", err)
		}
		bf, err := b.store.GetBackfill(ctx, store.GetBackfillParams{ID: r.id})
		if err != nil {
			return r.failed(ctx, "progress", err)
		}
		for _, ob := range open {
			// The wait for results counts from the batch's recording,
			// not from this start: a batch whose results never come
			// still times out across restarts.
			r.polls[ob.ID] = &poll{next: now, delay: b.cfg.PollFirst, since: ob.CreatedAt}
		}
		r.accepted, r.logged, r.loaded = bf.Accepted, bf.Logged, true
	}
	queued, err := b.store.BackfillQueued(ctx, store.BackfillQueuedParams{BackfillID: r.id})
	if err != nil {
		return r.failed(ctx, "progress", err)
	}
	if queued == 0 {
		r.partial = time.Time{}
		if r.logged >= r.accepted && len(r.polls) == 0 {
			// Everything fed, sent and polled: done once the processor
			// has built the last lines and none of their deliveries is
			// pending (a row a replay took live counts for the backfill
			// through its origin: its live send, which ends within the
			// retry window, is waited for, so the counts kept at the end
			// are final).
			bf, err := b.store.GetBackfill(ctx, store.GetBackfillParams{ID: r.id})
			if err != nil {
				return r.failed(ctx, "progress", err)
			}
			if bf.Built >= bf.Logged && bf.Pending == 0 {
				r.finish(ctx, store.BackfillDone, "")
				return 0, true
			}
		}
	}
	if r.logged < r.accepted && queued < b.cfg.FeedAhead {
		n, err := r.feed(ctx)
		if err != nil {
			return r.failed(ctx, "feed the log", err)
		}
		r.logged += n
	}
	r.attempts = 0
	if !in.Enabled || in.Status == signal.IntegrationPaused {
		return e.cfg.Poll, false // held, as its live events are
	}
	// One request per step, polls of due batches first (their results
	// free nothing, but they are what the backfill waits for).
	var due string
	next := now.Add(b.cfg.Idle)
	for id, p := range r.polls {
		if !p.next.After(now) && (due == "" || p.next.Before(r.polls[due].next)) {
			due = id
		}
		if p.next.Before(next) {
			next = p.next
		}
	}
	send := queued > 0 && (queued >= bs.MaxBatchItems() || r.logged >= r.accepted || r.partialFor(now) > 250*time.Millisecond)
	if due == "" && !send {
		return next.Sub(now), false
	}
	lim := e.limiter(in, vendor)
	if wait, ok := r.gate(ctx, in, lim); !ok {
		return wait, false
	}
	if due != "" {
		r.poll(ctx, in, vendor, bs, lim, due)
		return 0, false
	}
	if !r.create(ctx, in, vendor, bs, lim) {
		// Nothing due (retries backing off): not before the next poll.
		return min(next.Sub(now), 250*time.Millisecond), false
	}
	return 0, false
}

// partialFor is how long fewer deliveries than a full batch have waited.
func (r *runner) partialFor(now time.Time) time.Duration {
	if r.partial.IsZero() {
		r.partial = now
	}
	return now.Sub(r.partial)
}

// gate takes one request slot from the key's budget if live traffic leaves
// it: the budget keeps its headroom, and nothing of the integration's live
// queue is due. Else it says how long to wait. A live round's reservation
// (given back when its claim finds less to send) often holds the next slot
// for a moment: gate asks again a few times, briefly, before giving up.
func (r *runner) gate(ctx context.Context, in *signal.Integration, lim budget) (time.Duration, bool) {
	e := r.b.e
	for try := 0; ; try++ {
		now := e.now()
		wait := 100 * time.Millisecond
		if st := lim.state(now); st.Limit == 0 || st.Remaining*r.b.cfg.Headroom >= st.Limit {
			var n int
			if n, wait = lim.reserve(now, 1); n == 1 {
				next, due, err := e.store.NextDue(ctx, store.NextDueParams{IntegrationID: in.ID})
				if err == nil && (!due || next.After(now)) {
					lim.sent(now, 1)
					return 0, true
				}
				lim.refund(1)
				wait = 50 * time.Millisecond // live events first
			}
		}
		if try >= 8 || wait > 100*time.Millisecond || !r.sleep(ctx, min(wait, 20*time.Millisecond)) {
			return wait, false
		}
	}
}

// feed appends the next chunk of lines to the log, in line order, in one
// append (atomic): the lines logged are always a prefix, counted from the
// log itself, so a crash never logs a line twice or skips one.
func (r *runner) feed(ctx context.Context) (int, error) {
	items, err := r.b.store.BackfillItems(ctx, store.BackfillItemsParams{BackfillID: r.id, Offset: r.logged, Limit: r.b.cfg.FeedChunk})
	if err != nil || len(items) == 0 {
		return 0, err
	}
	now := r.b.e.now().UTC()
	events := make([]*signal.Event, 0, len(items))
	for _, it := range items {
		ev, err := backfillEvent(r.id, it, now)
		if err != nil {
			return 0, err
		}
		events = append(events, ev)
	}
	if err := r.b.store.AppendEvents(ctx, store.AppendEventsParams{Events: events}); err != nil {
		return 0, err
	}
	r.b.logged()
	return len(items), nil
}

// backfillEvent is a line as the log holds it: the backfill's id as its
// pipeline, received now, sent by an editor through the API (server
// trust), with a message id of its own if the line had none.
func backfillEvent(backfillID string, it store.BackfillItem, now time.Time) (*signal.Event, error) {
	var m struct {
		MessageID json.RawMessage `json:"messageId"`
		Type      string          `json:"type"`
		Event     string          `json:"event"`
		Name      string          `json:"name"`
		Timestamp time.Time       `json:"timestamp"`
	}
	if err := json.Unmarshal(it.Message, &m); err != nil {
		return nil, fmt.Errorf("line %d: %w", it.Line, err)
	}
	var id signal.ID
	_ = json.Unmarshal(m.MessageID, &id)
	msgID := string(id)
	if msgID == "" {
		msgID = fmt.Sprintf("%s-line-%d", backfillID, it.Line)
	}
	name := m.Event
	if m.Type == signal.TypePage {
		name = m.Name
	}
	return &signal.Event{MessageID: msgID, PipelineID: backfillID, Type: m.Type, Event: name, Timestamp: m.Timestamp.UTC(),
		ReceivedAt: now, Trust: signal.TrustServer, Payload: it.Message}, nil
}

// failed logs a step's store error and backs off.
func (r *runner) failed(ctx context.Context, what string, err error) (time.Duration, bool) {
	if ctx.Err() != nil {
		return 0, true
	}
	r.attempts++
	r.b.e.log.Error("backfill: "+what, "backfill", r.id, "err", err)
	return r.b.e.cfg.Backoff.Next(r.attempts), false
}

func (r *runner) finish(ctx context.Context, status, why string) {
	if err := r.b.store.FinishBackfill(context.WithoutCancel(ctx), store.FinishBackfillParams{ID: r.id, Status: status, Now: r.b.e.now().UTC()}); err != nil {
		r.b.e.log.Error("backfill: finish", "backfill", r.id, "err", err)
		return
	}
	if status == store.BackfillFailed {
		r.b.e.log.Warn("backfill: failed", "backfill", r.id, "why", why)
	} else {
		r.b.e.log.Info("backfill: done", "backfill", r.id)
	}
}
