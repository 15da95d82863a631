package delivery

import (
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/store/postgres"
	"github.com/signalhq/signal/internal/store/postgres/postgrestest"
	"github.com/signalhq/signal/internal/store/storetest"
)

// TestSharedBudget: nodes sharing one PostgreSQL database spend one API
// key's budget together. Each node (its own store connection, its own
// local limiter, as separate processes have) runs a worker's loop against
// one vendor in virtual time: together they never ask more than the vendor
// allows (no 429) and use at least 95% of it. One node alone must do as
// well as the local limiter. Without the shared row, three nodes would each
// spend what the vendor says remains.
func TestSharedBudget(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		nodes []budget
	}
	pg := postgrestest.NewDatabase(t)
	setup := func(t *testing.T, n int) *testBundle {
		t.Helper()
		url := pg.SchemaURL(t)
		bundle := &testBundle{}
		// Virtual time; the simulation never refunds (the clock would
		// stamp a refund).
		for i := range n {
			db, err := postgres.Open(t.Context(), postgres.Options{URL: url, Cipher: storetest.Cipher()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			bundle.nodes = append(bundle.nodes, &sharedBudget{local: newKeyLimiter(400), key: "kh_shared", node: i, st: db,
				log: slog.New(slog.DiscardHandler), now: func() time.Time { return simStart }})
		}
		return bundle
	}

	tests := []struct {
		nodes   int
		vendor  simVendor
		windows int
	}{
		{1, simVendor{limit: 40, window: 10 * time.Second, phase: 3700 * time.Millisecond, whole: true}, 8},
		{3, simVendor{limit: 40, window: 10 * time.Second, phase: 3700 * time.Millisecond, whole: true}, 8},
		{3, simVendor{limit: 40, window: 10 * time.Second, phase: 3700 * time.Millisecond}, 8},
		{2, simVendor{limit: 400, window: time.Minute, phase: 17 * time.Second, whole: true}, 5},
		{3, simVendor{limit: 400, window: time.Minute, phase: 17 * time.Second}, 5},
	}
	for _, tc := range tests {
		name := strconv.Itoa(tc.nodes) + " nodes, " + strconv.Itoa(tc.vendor.limit) + " per " + tc.vendor.window.String()
		if tc.vendor.whole {
			name += ", whole-second Reset"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bundle := setup(t, tc.nodes)
			v := tc.vendor
			used, refused := simulateNodes(&v, bundle.nodes, 40*time.Millisecond, time.Duration(tc.windows)*v.window)
			t.Logf("%s: used %.1f%% of the allowed rate, %.2f%% answered 429", name, 100*used, 100*refused)
			if used < 0.95 || refused > 0.01 {
				t.Fatalf("used %.1f%% of the allowed rate with %.2f%% answered 429; want at least 95%% with at most 1%%", 100*used, 100*refused)
			}
		})
	}
}
