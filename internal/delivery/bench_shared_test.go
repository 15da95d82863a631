package delivery_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/postgres"
	"github.com/signalhq/signal/internal/store/postgres/postgrestest"
	"github.com/signalhq/signal/internal/store/storetest"
)

// BenchmarkRateLimitShared is BenchmarkRateLimitWindow on PostgreSQL, with
// one node and with three (three engines, each with its own connection
// pool, on one database; one integration; one vendor fake counting every
// node's requests against one window): nodes sharing the database share
// one budget per API key. Reports the share of the allowed rate the nodes
// used together over whole windows after the first, and the share of 429s
// over those windows and over the whole run, and the statements spent on the
// shared budget per request sent. The "local" cases run three
// nodes each pacing alone, as before the shared budget.
func BenchmarkRateLimitShared(b *testing.B) {
	cases := []struct {
		name    string
		limit   int
		window  time.Duration
		whole   bool
		measure int64
	}{
		{name: "40per10s", limit: 40, window: 10 * time.Second, whole: true, measure: 6},
		{name: "400per60s-x10", limit: 400, window: 6 * time.Second, measure: 8},
		{name: "400per60s", limit: 400, window: time.Minute, whole: true, measure: 3},
	}
	runs := []struct {
		nodes  int
		shared bool
	}{{1, true}, {3, true}, {3, false}}
	pg := postgrestest.NewDatabase(b)
	for _, c := range cases {
		for _, r := range runs {
			name := c.name + "/nodes=" + strconv.Itoa(r.nodes)
			if !r.shared {
				name += "-local"
			}
			b.Run(name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					url := pg.NewSchemaURL(b)
					nodes := make([]store.Store, r.nodes)
					var calls atomic.Int64
					for n := range nodes {
						db, err := postgres.Open(context.Background(), postgres.Options{URL: url, Cipher: storetest.Cipher()})
						if err != nil {
							b.Fatal(err)
						}
						b.Cleanup(func() { db.Close() })
						nodes[n] = countedBudgets{Store: db, calls: &calls}
					}
					f := newWindowFake(b, c.limit, c.window, c.whole)
					stop := runBacklogNodes(b, f, c.limit*int(c.measure+3), nodes, r.shared)
					time.Sleep(time.Until(f.start.Add(time.Duration(c.measure+1) * c.window)))
					stop()
					a, refused := f.counts(1, 1+c.measure)
					all, allRefused := f.counts(0, 1+c.measure)
					b.ReportMetric(100*float64(a)/float64(c.limit*int(c.measure)), "%used")
					b.ReportMetric(100*float64(refused)/float64(max(a+refused, 1)), "%429-measured")
					b.ReportMetric(100*float64(allRefused)/float64(max(all+allRefused, 1)), "%429-all")
					b.ReportMetric(float64(calls.Load())/float64(max(all+allRefused, 1)), "budget-stmts/req")
				}
			})
		}
	}
}

// countedBudgets counts the statements spent on the shared budget.
type countedBudgets struct {
	store.Store
	calls *atomic.Int64
}

func (c countedBudgets) TakeRateBudget(ctx context.Context, p store.TakeRateBudgetParams) (*store.RateBudget, error) {
	c.calls.Add(1)
	return c.Store.TakeRateBudget(ctx, p)
}

func (c countedBudgets) GiveBackRateBudget(ctx context.Context, p store.GiveBackRateBudgetParams) error {
	c.calls.Add(1)
	return c.Store.GiveBackRateBudget(ctx, p)
}

func (c countedBudgets) ObserveRateBudget(ctx context.Context, p store.ObserveRateBudgetParams) (*store.RateBudget, error) {
	c.calls.Add(1)
	return c.Store.ObserveRateBudget(ctx, p)
}
