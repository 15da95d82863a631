package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/store"
)

type fakePruner struct {
	mu    sync.Mutex
	calls []store.PruneParams
	left  int // events left to delete
}

func (f *fakePruner) Prune(ctx context.Context, p store.PruneParams) (store.PruneResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, p)
	n := min(f.left, p.Limit)
	f.left -= n
	return store.PruneResult{Events: n}, nil
}

func TestRetainPrunesUntilDone(t *testing.T) {
	t.Parallel()
	f := &fakePruner{left: 2500}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		retain(ctx, f, 30*24*time.Hour, 0, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.mu.Lock()
		n := len(f.calls)
		f.mu.Unlock()
		if n >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	f.mu.Lock()
	defer f.mu.Unlock()
	// 2,500 events in batches of 1,000: three calls, then it waits.
	if len(f.calls) != 3 || f.left != 0 {
		t.Fatalf("%d calls, %d events left", len(f.calls), f.left)
	}
	age := time.Since(f.calls[0].Before)
	if age < 30*24*time.Hour-time.Minute || age > 30*24*time.Hour+time.Minute {
		t.Fatalf("pruned events older than %s, want 30 days", age)
	}
	if d := time.Since(f.calls[0].DedupeBefore); d < 24*time.Hour {
		t.Fatalf("dedupe entries younger than a day (%s) would be pruned", d)
	}
}
