package delivery_test

import (
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// The state the health page shows is the limiter the worker paces with:
// the one named by the vendor's rate-limit key, so the requests just sent
// show in it.
func TestEngineRateLimitIsTheWorkersLimiter(t *testing.T) {
	t.Parallel()
	b := newTestBundle(t, bundleOpts{window: 10 * time.Second})
	in := b.addIntegration(t, "int_a", "key-a")
	b.fake.enforce(100, 10*time.Second)
	qs := b.enqueue(t, "int_a", contacts("c", 5, signal.PriorityNormal)...)
	b.run(t)
	b.waitStatus(t, "int_a", 10*time.Second, signal.StatusDelivered, qs...)
	// Stopped first: a running worker keeps reserving slots and giving
	// them back when its claim finds nothing, and a read in between sees
	// them (under -race the gap is wide).
	b.stop(t)
	st, ok := b.engine.RateLimit(in)
	if !ok {
		t.Fatal("no rate-limit state for a registered vendor")
	}
	if st.UsedLastMinute != 5 || st.Limit != 100 {
		t.Fatalf("state %+v, want 5 used of the vendor's 100", st)
	}
}
