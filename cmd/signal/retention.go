package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/signalhq/signal/internal/store"
)

// pruner is the store's retention call.
type pruner interface {
	Prune(ctx context.Context, p store.PruneParams) (int, error)
}

// retain deletes, every interval, events older than keep whose deliveries are
// all finished (with their Live Events rows), and duplicate-window entries
// past their 24 hours. Events still waiting for a delivery are kept however
// old they are. keep 0 keeps events forever (the window entries still go).
// The first pass runs after first.
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
		total := 0
		for ctx.Err() == nil {
			n, err := st.Prune(ctx, store.PruneParams{Before: before, DedupeBefore: now.Add(-25 * time.Hour), Limit: 1000})
			if err != nil {
				if ctx.Err() == nil {
					log.Error("retention: prune", "err", err)
				}
				break
			}
			total += n
			if n < 1000 {
				break
			}
		}
		if total > 0 {
			log.Info("retention: deleted old events", "events", total, "older_than", before.UTC().Format(time.RFC3339))
		}
		t.Reset(interval)
	}
}
