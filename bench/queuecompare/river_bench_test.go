package queuecompare

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// The workload of internal/store's BenchmarkQueue: queueJobs jobs enqueued in
// batches of queueBatch, then drained by workers that do no I/O.
const (
	queueJobs  = 20_000
	queueBatch = 500
)

// queuePayload is the Omnisend event internal/store's benchmark stores as
// each delivery's payload.
const queuePayload = `{"eventName":"placed order","origin":"api","eventID":"0b9a3f5e-6a51-4c1e-9b59-2f7f3f8c2b10",` +
	`"eventTime":"2025-01-01T12:00:00Z","contact":{"email":"someone@example.com","phone":"+37060000000"},` +
	`"properties":{"order_id":"o-1","revenue":12.5,"currency":"EUR","items":[{"sku":"sku-1","quantity":1,"price":12.5}]}}`

// DeliverArgs is a delivery as a River job: what the engine needs to send it.
type DeliverArgs struct {
	IntegrationID string          `json:"integration_id"`
	ContactKey    string          `json:"contact_key"`
	MessageID     string          `json:"message_id"`
	Payload       json.RawMessage `json:"payload"`
}

func (DeliverArgs) Kind() string { return "deliver" }

// noopWorker "sends" a delivery without I/O.
type noopWorker struct {
	river.WorkerDefaults[DeliverArgs]
}

func (noopWorker) Work(context.Context, *river.Job[DeliverArgs]) error { return nil }

// backend opens an empty, migrated River database of its own for one
// benchmark iteration or test.
type backend struct {
	name string
	open func(tb testing.TB) riverDB
}

// riverDB is one empty River database: newClient makes a client on it.
type riverDB interface {
	newClient(tb testing.TB, cfg *river.Config) insertClient
}

// insertClient is what the benchmarks use of a *river.Client (its type
// parameter differs by driver).
type insertClient interface {
	InsertMany(ctx context.Context, params []river.InsertManyParams) (int, error)
	InsertManyFast(ctx context.Context, params []river.InsertManyParams) (int, error)
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	SubscribeConfig(cfg *river.SubscribeConfig) (<-chan *river.Event, func())
}

type clientAdapter[TTx any] struct{ *river.Client[TTx] }

func (c clientAdapter[TTx]) InsertMany(ctx context.Context, params []river.InsertManyParams) (int, error) {
	res, err := c.Client.InsertMany(ctx, params)
	return len(res), err
}

var backends = []backend{
	{name: "SQLite", open: openSQLite},
	{name: "Postgres", open: openPostgres},
}

type sqliteDB struct{ db *sql.DB }

// openSQLite opens a database file with the pragmas of Signal's SQLite store
// (WAL, fsync on every commit) on one connection, as riversqlite's package
// documentation advises.
func openSQLite(tb testing.TB) riverDB {
	path := filepath.Join(tb.TempDir(), "river.db")
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	tb.Cleanup(func() { db.Close() })
	migrate(tb, riversqlite.New(db))
	return &sqliteDB{db: db}
}

func (s *sqliteDB) newClient(tb testing.TB, cfg *river.Config) insertClient {
	c, err := river.NewClient(riversqlite.New(s.db), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return clientAdapter[*sql.Tx]{c}
}

type pgDB struct{ pool *pgxpool.Pool }

// postgresURL is the server: SIGNAL_TEST_POSTGRES_URL, as in the main module,
// or the local one.
func postgresURL() string {
	if u := os.Getenv("SIGNAL_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// openPostgres creates a database of its own (dropped when tb ends); it skips
// tb when no server answers.
func openPostgres(tb testing.TB) riverDB {
	ctx := context.Background()
	base := postgresURL()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Skipf("PostgreSQL is unreachable (set SIGNAL_TEST_POSTGRES_URL): %v", err)
	}
	defer admin.Close(ctx)
	suffix := make([]byte, 6)
	rand.Read(suffix)
	name := "queuecompare_" + hex.EncodeToString(suffix)
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		admin, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop database %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
	})
	cfg, err := pgxpool.ParseConfig(base)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.ConnConfig.Database = name
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close) // runs before the drop
	migrate(tb, riverpgxv5.New(pool))
	return &pgDB{pool: pool}
}

func (p *pgDB) newClient(tb testing.TB, cfg *river.Config) insertClient {
	c, err := river.NewClient(riverpgxv5.New(p.pool), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return clientAdapter[pgx.Tx]{c}
}

// analyze refreshes the planner's statistics of river_job, as autovacuum
// would have (the main module's benchmark does the same for its table).
func (p *pgDB) analyze(tb testing.TB) {
	if _, err := p.pool.Exec(context.Background(), `ANALYZE river_job`); err != nil {
		tb.Fatal(err)
	}
}

func migrate[TTx any](tb testing.TB, driver riverdriver.Driver[TTx]) {
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := m.Migrate(context.Background(), rivermigrate.DirectionUp, nil); err != nil {
		tb.Fatal(err)
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// drainConfig is a client that works the default queue with maxWorkers
// workers, fetching at most every cooldown (0: River's default, 100 ms).
func drainConfig(maxWorkers int, cooldown time.Duration) *river.Config {
	workers := river.NewWorkers()
	river.AddWorker(workers, noopWorker{})
	return &river.Config{
		Logger:        quiet,
		Workers:       workers,
		FetchCooldown: cooldown,
		Queues:        map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: maxWorkers}},
	}
}

// jobs returns the workload as insert params, each delivery of a contact of
// its own, priority 2 (River's 1–4; Signal's normal).
func jobs() []river.InsertManyParams {
	params := make([]river.InsertManyParams, queueJobs)
	for i := range params {
		id := fmt.Sprintf("m-%d", i+1)
		params[i] = river.InsertManyParams{
			Args:       DeliverArgs{IntegrationID: "int_a", ContactKey: "contact-" + id, MessageID: id, Payload: json.RawMessage(queuePayload)},
			InsertOpts: &river.InsertOpts{Priority: 2},
		}
	}
	return params
}

func enqueue(tb testing.TB, insert func(context.Context, []river.InsertManyParams) (int, error), params []river.InsertManyParams) {
	for start := 0; start < len(params); start += queueBatch {
		n, err := insert(context.Background(), params[start:min(start+queueBatch, len(params))])
		if err != nil {
			tb.Fatal(err)
		}
		if n != min(queueBatch, len(params)-start) {
			tb.Fatalf("inserted %d jobs, want %d", n, min(queueBatch, len(params)-start))
		}
	}
}

// BenchmarkRiver measures River on the workload of internal/store's
// BenchmarkQueue, on SQLite (riversqlite, database/sql, modernc.org/sqlite)
// and PostgreSQL (riverpgxv5; skipped when no server answers):
//
//   - Enqueue: InsertMany (returns the rows) of 40 batches of 500 jobs.
//   - EnqueueFast: InsertManyFast (returns a count; COPY on PostgreSQL).
//   - Drain/WorkersW[CooldownC]: a client with W workers (and a fetch
//     cooldown of C; River's default is 100 ms) started on the 20,000 jobs,
//     timed until every job's completion is written (the completer's
//     events are sent after its writes). A producer fetches at most W jobs
//     per cooldown, so with the default cooldown throughput is capped at
//     W×10 jobs/s: Workers32 and Workers100 (20-60 s each) run only with
//     QUEUECOMPARE_SLOW=1.
//
// Each reports jobs/s; every iteration starts from an empty database.
//
// Run: go test -bench . -run XXX
func BenchmarkRiver(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			b.Run("Enqueue", func(b *testing.B) {
				var elapsed time.Duration
				for range b.N {
					b.StopTimer()
					c := be.open(b).newClient(b, &river.Config{Logger: quiet})
					params := jobs()
					b.StartTimer()
					start := time.Now()
					enqueue(b, c.InsertMany, params)
					elapsed += time.Since(start)
				}
				b.ReportMetric(float64(queueJobs*b.N)/elapsed.Seconds(), "jobs/s")
			})
			b.Run("EnqueueFast", func(b *testing.B) {
				var elapsed time.Duration
				for range b.N {
					b.StopTimer()
					c := be.open(b).newClient(b, &river.Config{Logger: quiet})
					params := jobs()
					b.StartTimer()
					start := time.Now()
					enqueue(b, c.InsertManyFast, params)
					elapsed += time.Since(start)
				}
				b.ReportMetric(float64(queueJobs*b.N)/elapsed.Seconds(), "jobs/s")
			})
			for _, tt := range []struct {
				workers  int
				cooldown time.Duration
				slow     bool
			}{{32, time.Millisecond, false}, {500, time.Millisecond, false}, {32, 0, true}, {100, 0, true}} {
				name := fmt.Sprintf("Drain/Workers%d", tt.workers)
				if tt.cooldown > 0 {
					name += "Cooldown" + tt.cooldown.String()
				}
				b.Run(name, func(b *testing.B) {
					if tt.slow && os.Getenv("QUEUECOMPARE_SLOW") == "" {
						b.Skip("River's default fetch cooldown: about 20-60 s; set QUEUECOMPARE_SLOW=1")
					}
					var elapsed time.Duration
					for range b.N {
						b.StopTimer()
						db := be.open(b)
						c := db.newClient(b, drainConfig(tt.workers, tt.cooldown))
						enqueue(b, c.InsertManyFast, jobs())
						if pg, ok := db.(*pgDB); ok {
							pg.analyze(b)
						}
						events, cancel := c.SubscribeConfig(&river.SubscribeConfig{ChanSize: queueJobs, Kinds: []river.EventKind{river.EventKindJobCompleted}})
						b.StartTimer()
						start := time.Now()
						if err := c.Start(context.Background()); err != nil {
							b.Fatal(err)
						}
						timeout := time.After(2 * time.Minute)
						for done := 0; done < queueJobs; {
							select {
							case <-events:
								done++
							case <-timeout:
								b.Fatalf("%d of %d jobs completed after 2 minutes", done, queueJobs)
							}
						}
						elapsed += time.Since(start)
						b.StopTimer()
						cancel()
						if err := c.Stop(context.Background()); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(queueJobs*b.N)/elapsed.Seconds(), "jobs/s")
				})
			}
		})
	}
}
