package store_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// BenchmarkLiveCounts: the Live Events counts, which the page asks for when
// it opens and at most once a second while it streams, over a log of
// 200,000 events with a delivery each (SIGNAL_BENCH_LIVE_ROWS sets another
// size; the log holds SIGNAL_RETENTION_DAYS, 30 by default, of a store's
// events).
//
// Run: go test -bench LiveCounts -run XXX ./internal/store/
func BenchmarkLiveCounts(b *testing.B) { benchBothStores(b, benchLiveCounts) }

func benchLiveCounts(b *testing.B, db store.Store) {
	rows := 200_000
	if v, err := strconv.Atoi(os.Getenv("SIGNAL_BENCH_LIVE_ROWS")); err == nil && v > 0 {
		rows = v
	}
	ctx := context.Background()
	now := time.Now().UTC()
	for start := 0; start < rows; start += 1000 {
		evs := make([]*signal.Event, 0, 1000)
		for i := start; i < min(start+1000, rows); i++ {
			evs = append(evs, &signal.Event{MessageID: "m-" + strconv.Itoa(i+1), PipelineID: "pip_1", Type: signal.TypeTrack,
				Event: "Order Completed", AnonymousID: "a-" + strconv.Itoa(i), Timestamp: now, ReceivedAt: now, Payload: []byte(`{"type":"track"}`)})
		}
		if err := db.AppendEvents(ctx, store.AppendEventsParams{Events: evs}); err != nil {
			b.Fatal(err)
		}
	}
	ds := queueDeliveries(now, rows)
	for i, d := range ds {
		d.Status = []signal.DeliveryStatus{signal.StatusDelivered, signal.StatusFiltered, signal.StatusDelivered, signal.StatusFailed}[i%4]
	}
	enqueue(b, db, ds, 0, now)
	for _, bc := range []struct {
		name string
		p    store.ListLiveEventsParams
		want int // delivered
	}{
		// What the counts read before they had a window: every row.
		{"All", store.ListLiveEventsParams{}, rows / 2},
		// What the Management API asks for: the newest 10,000 rows.
		{"Window", store.ListLiveEventsParams{Limit: 10_000}, min(rows, 10_000) / 2},
		{"WindowByIntegration", store.ListLiveEventsParams{IntegrationID: "int_a", Limit: 10_000}, min(rows, 10_000) / 2},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				c, err := db.CountLiveEvents(ctx, bc.p)
				if err != nil || c.Delivered != bc.want {
					b.Fatalf("counts %+v, %v; want %d delivered", c, err, bc.want)
				}
			}
		})
	}
}
