package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/sqlite"
	"github.com/signalhq/signal/internal/store/storetest"
)

// BenchmarkGetBackfill measures a backfill's progress read (the API's GET,
// each row of the list, the sender's end check) on SQLite, for a backfill
// of 20,000 lines all logged and built, half of them delivered, beside
// 20,000 live deliveries; running (counted from its rows) and done (its
// counts kept when it ended).
func BenchmarkGetBackfill(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(b.TempDir(), "signal.db"), Cipher: storetest.Cipher()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const n = 20_000
	now := time.Now().UTC()
	items := make([]store.BackfillItem, n)
	for i := range items {
		items[i] = store.BackfillItem{Line: i + 1, Message: []byte(`{}`)}
	}
	if err := db.CreateBackfill(ctx, store.CreateBackfillParams{ID: "bf_bench", IntegrationID: "int_1", Items: items, Now: now}); err != nil {
		b.Fatal(err)
	}
	for _, pipeline := range []string{"bf_bench", "pip_1"} {
		for start := 0; start < n; start += 500 {
			evs := make([]*signal.Event, 500)
			for i := range evs {
				id := fmt.Sprintf("%s-%d", pipeline, start+i)
				evs[i] = &signal.Event{MessageID: id, PipelineID: pipeline, Type: signal.TypeTrack, Event: "Order Completed",
					Timestamp: now, ReceivedAt: now, Payload: json.RawMessage(`{}`)}
			}
			if err := db.AppendEvents(ctx, store.AppendEventsParams{Events: evs}); err != nil {
				b.Fatal(err)
			}
			ds := make([]*signal.Delivery, len(evs))
			for i, e := range evs {
				ds[i] = &signal.Delivery{EventSeq: e.Seq, MessageID: e.MessageID, PipelineID: pipeline, IntegrationID: "int_1", Type: e.Type,
					Event: e.Event, Status: signal.StatusPending, ContactKey: e.MessageID, NextAttemptAt: now, ReceivedAt: now,
					Payload: json.RawMessage(`{"eventName":"placed order"}`)}
				if pipeline == "bf_bench" {
					ds[i].BackfillID = pipeline
					if i%2 == 0 {
						ds[i].Status = signal.StatusDelivered
					}
				}
			}
			if err := db.RecordProcessed(ctx, store.RecordProcessedParams{UpToSeq: evs[len(evs)-1].Seq, Deliveries: ds, Now: now}); err != nil {
				b.Fatal(err)
			}
		}
	}
	get := func(b *testing.B) {
		for b.Loop() {
			bf, err := db.GetBackfill(ctx, store.GetBackfillParams{ID: "bf_bench"})
			if err != nil || bf.Delivered != n/2 {
				b.Fatalf("GetBackfill = %+v, %v", bf, err)
			}
		}
	}
	b.Run("Running", get)
	if err := db.FinishBackfill(ctx, store.FinishBackfillParams{ID: "bf_bench", Status: store.BackfillDone, Now: now}); err != nil {
		b.Fatal(err)
	}
	b.Run("Done", get)
}
