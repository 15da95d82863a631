package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/signalhq/signal/internal/store"
)

// pruner is the store's retention call.
type pruner interface {
	Prune(ctx context.Context, p store.PruneParams) (store.PruneResult, error)
}

// retain deletes, every interval, the events older than keep that the
// processor has passed, wherever they lie in the log (with their Live
// Events rows; deliveries still waiting, a paused or disabled integration's
// included, end filtered, expired), and duplicate-window entries past their
// 24 hours. keep 0 keeps events forever (the window entries still go). The
// first pass runs after first.
func retain(ctx context.Context, st pruner, keep, first, interval time.Duration, log *slog.Logger) error {
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		now := time.Now()
		before := now.Add(-keep)
		if keep == 0 {
			before = time.Time{}
		}
		total, expired := 0, 0
		for ctx.Err() == nil {
			n, err := st.Prune(ctx, store.PruneParams{Before: before, DedupeBefore: now.Add(-25 * time.Hour), Limit: 1000, Now: now})
			if err != nil {
				if ctx.Err() == nil {
					log.Error("retention: prune", "err", err)
				}
				break
			}
			total, expired = total+n.Events, expired+n.Expired
			if n.Events < 1000 {
				break
			}
		}
		if total > 0 {
			log.Info("retention: deleted old events", "events", total, "older_than", before.UTC().Format(time.RFC3339))
		}
		if expired > 0 {
			// Deliveries that never happened: worth a warning (an
			// integration paused or disabled for longer than retention).
			log.Warn("retention: deliveries still waiting past the retention age ended filtered, expired", "deliveries", expired)
		}
		t.Reset(interval)
	}
}
