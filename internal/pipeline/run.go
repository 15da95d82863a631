package pipeline

import (
	"context"
	"time"
)

// The processor's loop: pass after pass, each as large as the gateway's
// activity allows, lingering after a pass that drained the log.

// passSize is how many events the next pass takes.
func (p *Processor) passSize() int {
	if p.shrink {
		p.shrink = false
		return p.cfg.BusyBatch
	}
	if p.ingest != nil && p.ingest.IngestActive() {
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
	for {
		n, full, err := p.processOnce(ctx)
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

// ProcessOnce processes the next batch of the log and returns how many
// events it took. One goroutine at a time (Run's).
func (p *Processor) ProcessOnce(ctx context.Context) (int, error) {
	n, _, err := p.processOnce(ctx)
	return n, err
}

// processOnce is ProcessOnce, also saying whether the pass was full (more
// events may be waiting).
func (p *Processor) processOnce(ctx context.Context) (int, bool, error) {
	return p.pass(ctx, p.passSize())
}
