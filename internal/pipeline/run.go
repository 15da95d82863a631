package pipeline

import (
	"context"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// The processor's loop: pass after pass, each as large as the gateway's
// activity allows, lingering after a pass that drained the log.

// ingestActive reports whether the gateway is appending now.
func (p *Processor) ingestActive() bool { return p.ingest != nil && p.ingest.IngestActive() }

// passSize is how many events the next pass takes.
func (p *Processor) passSize() int {
	if p.shrink {
		p.shrink = false
		return p.cfg.BusyBatch
	}
	if p.ingestActive() {
		return p.cfg.BusyBatch
	}
	return p.cfg.Batch
}

// Wake tells the processor that new events were stored. It never blocks.
func (p *Processor) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run processes the log until ctx is done. A failed pass is retried after a
// pause: the cursor only moves with a pass's results, so nothing is skipped.
func (p *Processor) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	var ready *prepared
	for {
		var (
			n    int
			full bool
			err  error
		)
		ready, n, full, err = p.step(ctx, ready)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			p.log.Error("processor: pass failed; retrying", "err", err, "retry_in", backoff)
			if !sleep(ctx, backoff) {
				return nil
			}
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		if full {
			continue // a backlog: take the next batch at once
		}
		if n > 0 {
			if p.cfg.Linger > 0 && !sleep(ctx, p.cfg.Linger) {
				return nil
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.wake:
		case <-time.After(p.cfg.Idle):
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// ProcessOnce processes the next batch of the log, one pass with no
// overlap, and returns how many events it took. Not beside Run.
func (p *Processor) ProcessOnce(ctx context.Context) (int, error) {
	n, _, err := p.pass(ctx, p.passSize())
	return n, err
}

// step is Run's pass: it records ready (a pass prepared by the step
// before), or a pass it prepares now, and while that is recorded, if the
// pass kept a profile carry (it was full, a backlog, and the gateway was
// quiet: prepare), prepares the next one over it, which it returns for the
// next step. So the processor's two halves (reading, resolving and
// building; the store's transaction) run side by side on a backlog, each
// on its own core. While the gateway appends, passes go one after the
// other, leaving it the other core (docs/benchmarks.md, "Session 7"). The
// next pass is dropped if this one is not recorded, or if preparing it
// failed (the next step prepares it again, and meets the error itself).
func (p *Processor) step(ctx context.Context, ready *prepared) (next *prepared, n int, full bool, err error) {
	cur := ready
	if cur == nil {
		if cur, err = p.prepare(ctx, p.passSize(), nil, true); err != nil || cur == nil {
			return nil, 0, false, err
		}
	}
	done := make(chan error, 1)
	go func() { done <- p.record(ctx, cur) }()
	var nextErr error
	if cur.full && cur.record.Profiles.Carry != nil {
		next, nextErr = p.prepare(ctx, p.passSize(), cur, true)
	}
	kept, err := p.recorded(cur, <-done)
	if err != nil || !kept || nextErr != nil {
		if nextErr != nil && err == nil {
			p.log.Warn("processor: preparing the next pass failed; it is prepared again", "err", nextErr)
		}
		return nil, cur.n, cur.full, err
	}
	return next, cur.n, cur.full, nil
}

// record stores a prepared pass. It touches nothing of the processor's, so
// Run calls it beside the next pass's prepare.
func (p *Processor) record(ctx context.Context, pr *prepared) error {
	return p.store.RecordProcessed(ctx, pr.record)
}

// recorded takes record's outcome and reports whether the pass was kept:
// on success the cursor moves past the pass and the notifier hears of its
// pending deliveries. A refused pass (ECONFLICT) is not an error: another
// node's processor took this batch (go on from where it left the cursor),
// or a contact was erased since the profiles were read (read the batch
// again). The next pass is a small one, which a stream of erasures is less
// likely to refuse again.
func (p *Processor) recorded(pr *prepared, err error) (kept bool, _ error) {
	if signal.ErrorCode(err) == signal.ECONFLICT {
		p.haveCursor, p.shrink = false, true
		return false, nil
	}
	if err != nil {
		p.haveCursor = false
		return false, err
	}
	p.cursor = pr.record.UpToSeq
	if p.notifier != nil {
		seen := map[string]bool{}
		for _, d := range pr.record.Deliveries {
			if d.Status == signal.StatusPending && !seen[d.IntegrationID] {
				seen[d.IntegrationID] = true
				p.notifier.Pending(d.IntegrationID)
			}
		}
	}
	return true, nil
}
