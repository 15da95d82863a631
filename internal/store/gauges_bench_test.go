package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/postgres"
	"github.com/signalhq/signal/internal/store/postgres/postgrestest"
	"github.com/signalhq/signal/internal/store/sqlite"
	"github.com/signalhq/signal/internal/store/storetest"
)

// BenchmarkGauges: what the metrics refresher (every 5 s) and the alert
// evaluator (every 10 s) read per integration, on a store holding a busy
// day: gaugeFinished deliveries finished in the last 24 h and gaugePending
// waiting. Health is the Management UI's full read (the day's outcomes by
// minute, then the backlog); Backlog is the backlog alone, which is all
// the refresher and the evaluator use.
//
// Run: go test -bench Gauges -run XXX ./internal/store/
func BenchmarkGauges(b *testing.B) { benchBothStores(b, benchGauges) }

// benchBothStores runs fn on a new SQLite store and on a new PostgreSQL
// one (skipped when no server answers; see postgrestest).
func benchBothStores(b *testing.B, fn func(*testing.B, store.Store)) {
	b.Run("SQLite", func(b *testing.B) {
		db, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(b.TempDir(), "signal.db"), Cipher: storetest.Cipher()})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		fn(b, db)
	})
	b.Run("Postgres", func(b *testing.B) {
		pg := postgrestest.NewDatabase(b)
		db, err := postgres.Open(context.Background(), postgres.Options{URL: pg.NewSchemaURL(b), Cipher: storetest.Cipher()})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		fn(b, db)
	})
}

const (
	gaugeFinished = 100_000
	gaugePending  = 1_000
)

func benchGauges(b *testing.B, st store.Store) {
	ctx := context.Background()
	now := time.Now().UTC()
	ds := queueDeliveries(now, gaugeFinished+gaugePending)
	for _, d := range ds[:gaugeFinished] {
		d.Status = signal.StatusDelivered
	}
	enqueue(b, st, ds, 0, now)
	b.Run("Health", func(b *testing.B) {
		for range b.N {
			h, err := st.IntegrationHealth(ctx, store.IntegrationHealthParams{IntegrationID: "int_a", Now: now})
			if err != nil || h.Backlog != gaugePending || h.LastDay.Delivered != gaugeFinished {
				b.Fatalf("health %+v, %v; want %d waiting and %d delivered", h, err, gaugePending, gaugeFinished)
			}
		}
	})
	b.Run("Backlog", func(b *testing.B) {
		for range b.N {
			bl, err := st.IntegrationBacklog(ctx, store.IntegrationBacklogParams{IntegrationID: "int_a"})
			if err != nil || bl.Backlog != gaugePending || bl.OldestPending.IsZero() {
				b.Fatalf("backlog %+v, %v; want %d waiting", bl, err, gaugePending)
			}
		}
	})
}
