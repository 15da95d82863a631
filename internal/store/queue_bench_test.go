package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/postgres"
	"github.com/signalhq/signal/internal/store/postgres/postgrestest"
	"github.com/signalhq/signal/internal/store/sqlite"
	"github.com/signalhq/signal/internal/store/storetest"
)

// The queue workload, shared with bench/queuecompare (River on the same
// databases): queueJobs deliveries to one integration, enqueued in batches
// of queueBatch, then drained by workers whose "send" does no I/O.
const (
	queueJobs  = 20_000
	queueBatch = 500
)

// queuePayload is an Omnisend event as the vendor builds it (about 300
// bytes); bench/queuecompare uses the same bytes.
const queuePayload = `{"eventName":"placed order","origin":"api","eventID":"0b9a3f5e-6a51-4c1e-9b59-2f7f3f8c2b10",` +
	`"eventTime":"2025-01-01T12:00:00Z","contact":{"email":"someone@example.com","phone":"+37060000000"},` +
	`"properties":{"order_id":"o-1","revenue":12.5,"currency":"EUR","items":[{"sku":"sku-1","quantity":1,"price":12.5}]}}`

// queueProcessed is a processed event as the processor keeps it beside
// each event (about 150 bytes).
const queueProcessed = `{"user_id":"user-1","anonymous_id":"a-0b9a3f5e-6a51","traits":{"email":"someone@example.com",` +
	`"phone":"+37060000000","first_name":"Some"},"consent":"subscribed"}`

// BenchmarkQueue measures the purpose-built delivery queue through the
// store calls the processor and the delivery engine make, on SQLite and on
// PostgreSQL (skipped when no server answers; see postgrestest):
//
//   - Enqueue: RecordProcessed of 40 batches of 500 deliveries (payloads
//     sealed, 24 h dedupe on as the processor runs it; NoDedupe without),
//     each event with two Live Events search keys and its processed event
//     (sealed), as the processor records them.
//   - Drain/Claim32: one worker per integration, as the engine runs it:
//     ClaimDeliveries (limit 32, the default MaxInFlight), mark delivered,
//     FinishDeliveries (keeping the attempt), until the queue is empty.
//   - Drain/Claim32x4: four such workers on the one integration at once
//     (several nodes sharing a database).
//   - Drain/Claim500: one worker claiming 500 at a time.
//   - Drain/Claim32Contacts2000: Claim32 with the 20,000 deliveries spread
//     over 2,000 contacts (10 each), so the per-contact rule bites.
//
// Each reports jobs/s over the 20,000 deliveries; every iteration starts
// from an empty store. On PostgreSQL the table is analyzed after enqueueing
// (untimed), as autovacuum would have done: without statistics the planner
// may check the per-contact rule through the wrong index and scan the whole
// backlog for every claimed row (about 1,000 jobs/s here instead of 10,000
// to 20,000). SIGNAL_BENCH_NOANALYZE=1 adds Drain/Claim32NoAnalyze, which
// shows it (about 20 s).
//
// Run: go test -bench Queue -run XXX ./internal/store/
func BenchmarkQueue(b *testing.B) {
	b.Run("SQLite", func(b *testing.B) {
		benchQueue(b, func(b *testing.B) *queueStore {
			db, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(b.TempDir(), "signal.db"), Cipher: storetest.Cipher()})
			if err != nil {
				b.Fatal(err)
			}
			return &queueStore{Store: db}
		})
	})
	b.Run("Postgres", func(b *testing.B) {
		pg := postgrestest.NewDatabase(b)
		benchQueue(b, func(b *testing.B) *queueStore {
			url := pg.NewSchemaURL(b)
			db, err := postgres.Open(context.Background(), postgres.Options{URL: url, Cipher: storetest.Cipher()})
			if err != nil {
				b.Fatal(err)
			}
			return &queueStore{Store: db, analyze: func() {
				conn, err := pgx.Connect(context.Background(), url)
				if err != nil {
					b.Fatal(err)
				}
				defer conn.Close(context.Background())
				if _, err := conn.Exec(context.Background(), `ANALYZE deliveries`); err != nil {
					b.Fatal(err)
				}
			}}
		})
	})
}

// queueStore is a store under benchmark; analyze, if set, refreshes the
// planner's statistics of the deliveries table.
type queueStore struct {
	store.Store
	analyze func()
}

func benchQueue(b *testing.B, open func(b *testing.B) *queueStore) {
	now := time.Now().UTC()
	for _, tt := range []struct {
		name   string
		dedupe time.Duration
	}{{"Enqueue", 24 * time.Hour}, {"EnqueueNoDedupe", 0}} {
		b.Run(tt.name, func(b *testing.B) {
			var elapsed time.Duration
			for range b.N {
				b.StopTimer()
				st := open(b)
				ds := queueDeliveries(now, queueJobs)
				b.StartTimer()
				start := time.Now()
				enqueue(b, st, ds, tt.dedupe, now)
				elapsed += time.Since(start)
				b.StopTimer()
				st.Close()
			}
			b.ReportMetric(float64(queueJobs*b.N)/elapsed.Seconds(), "jobs/s")
		})
	}
	for _, tt := range []struct {
		name      string
		workers   int
		limit     int
		contacts  int  // 0: one per delivery
		noAnalyze bool // PostgreSQL: drain without planner statistics
	}{
		{name: "Drain/Claim32", workers: 1, limit: 32},
		{name: "Drain/Claim32x4", workers: 4, limit: 32},
		{name: "Drain/Claim500", workers: 1, limit: 500},
		{name: "Drain/Claim32Contacts2000", workers: 1, limit: 32, contacts: 2000},
		{name: "Drain/Claim32NoAnalyze", workers: 1, limit: 32, noAnalyze: true},
	} {
		b.Run(tt.name, func(b *testing.B) {
			var elapsed time.Duration
			for range b.N {
				b.StopTimer()
				st := open(b)
				if tt.noAnalyze && (st.analyze == nil || os.Getenv("SIGNAL_BENCH_NOANALYZE") == "") {
					st.Close()
					b.Skip("PostgreSQL only, and only with SIGNAL_BENCH_NOANALYZE=1")
				}
				ds := queueDeliveries(now, queueJobs)
				if tt.contacts > 0 {
					for i, d := range ds {
						d.ContactKey = fmt.Sprintf("contact-%d", i%tt.contacts)
					}
				}
				enqueue(b, st, ds, 24*time.Hour, now)
				if st.analyze != nil && !tt.noAnalyze {
					st.analyze()
				}
				b.StartTimer()
				start := time.Now()
				if n := drain(b, st, tt.workers, tt.limit); n != queueJobs {
					b.Fatalf("drained %d deliveries, want %d", n, queueJobs)
				}
				elapsed += time.Since(start)
				b.StopTimer()
				st.Close()
			}
			b.ReportMetric(float64(queueJobs*b.N)/elapsed.Seconds(), "jobs/s")
		})
	}
}

// queueDeliveries returns n pending deliveries to int_a, each of a contact
// of its own, with event seqs 1…n.
func queueDeliveries(now time.Time, n int) []*signal.Delivery {
	ds := make([]*signal.Delivery, n)
	for i := range ds {
		id := fmt.Sprintf("m-%d", i+1)
		ds[i] = &signal.Delivery{
			EventSeq: int64(i + 1), MessageID: id, PipelineID: "pip_1", IntegrationID: "int_a", Type: signal.TypeTrack,
			Event: "Order Completed", Status: signal.StatusPending, VendorEventName: "placed order", Priority: signal.PriorityNormal,
			ContactKey: "contact-" + id, NextAttemptAt: now, ExpiresAt: now.Add(24 * time.Hour), Payload: []byte(queuePayload), ReceivedAt: now,
		}
	}
	return ds
}

// enqueue records ds in batches of queueBatch, as the processor does.
func enqueue(b *testing.B, st store.Store, ds []*signal.Delivery, dedupe time.Duration, now time.Time) {
	for start := 0; start < len(ds); start += queueBatch {
		batch := ds[start:min(start+queueBatch, len(ds))]
		from := batch[0].EventSeq - 1
		// What the processor records beside each event: its Live Events
		// search keys (a user id and an order id) and the processed event.
		keys := make([]store.SearchKey, 0, 2*len(batch))
		processed := make([]store.ProcessedEvent, 0, len(batch))
		for _, d := range batch {
			keys = append(keys, store.SearchKey{EventSeq: d.EventSeq, Key: fmt.Sprintf("u-%064d", d.EventSeq)},
				store.SearchKey{EventSeq: d.EventSeq, Key: fmt.Sprintf("o-%064d", d.EventSeq)})
			processed = append(processed, store.ProcessedEvent{EventSeq: d.EventSeq, Body: []byte(queueProcessed)})
		}
		if err := st.RecordProcessed(context.Background(), store.RecordProcessedParams{
			FromSeq: &from, UpToSeq: batch[len(batch)-1].EventSeq, Deliveries: batch, DedupeWindow: dedupe, Now: now,
			SearchKeys: keys, Processed: processed,
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// drain runs workers that claim up to limit deliveries, "send" them (no
// I/O), and record them delivered, until a claim comes back empty. It
// returns how many were delivered.
func drain(b *testing.B, st store.Store, workers, limit int) int {
	var (
		wg        sync.WaitGroup
		delivered atomic.Int64
	)
	for range workers {
		wg.Go(func() {
			ctx := context.Background()
			for {
				now := time.Now()
				ds, err := st.ClaimDeliveries(ctx, store.ClaimDeliveriesParams{IntegrationID: "int_a", Limit: limit, Now: now, LeaseUntil: now.Add(time.Minute)})
				if err != nil {
					b.Error(err)
					return
				}
				if len(ds) == 0 {
					return
				}
				for _, d := range ds {
					d.Attempts++
					d.Status, d.Reason, d.VendorStatus, d.VendorResponse = signal.StatusDelivered, "", 202, `{"eventID":"e"}`
					d.Attempt = &signal.Attempt{At: time.Now(), VendorStatus: 202, VendorResponse: `{"eventID":"e"}`, DurationMS: 40}
				}
				if err := st.FinishDeliveries(ctx, store.FinishDeliveriesParams{Deliveries: ds, Now: time.Now()}); err != nil {
					b.Error(err)
					return
				}
				delivered.Add(int64(len(ds)))
			}
		})
	}
	wg.Wait()
	return int(delivered.Load())
}
