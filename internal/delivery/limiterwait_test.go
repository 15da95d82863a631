package delivery_test

import (
	"sync"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// TestLimiterWaitIsReported: a backlog larger than the vendor's budget
// makes the worker wait for its limiter, and the engine says so
// (Deps.LimiterWaitFunc, the metrics' hook) with the integration and the
// wait.
func TestLimiterWaitIsReported(t *testing.T) {
	t.Parallel()
	var (
		mu    sync.Mutex
		waits = map[string]time.Duration{}
	)
	b := newTestBundle(t, bundleOpts{perMinute: 600, limiterWait: func(id string, d time.Duration) {
		mu.Lock()
		waits[id] += d
		mu.Unlock()
	}})
	b.addIntegration(t, "int_a", "key-a")
	qs := b.enqueue(t, "int_a", contacts("c", 25, signal.PriorityNormal)...)
	b.run(t)
	b.waitStatus(t, "int_a", 10*time.Second, signal.StatusDelivered, qs...)
	mu.Lock()
	defer mu.Unlock()
	if waits["int_a"] <= 0 || len(waits) != 1 {
		t.Fatalf("limiter waits reported %v, want some for int_a only", waits)
	}
}
