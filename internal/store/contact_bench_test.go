package store_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/sqlite/sqlitetest"
)

// BenchmarkFindContact measures a privacy request (FindContact by user id)
// on SQLite against logs of 1,000 and 20,000 processed events of other
// people, the person's 3 events among them: with the index the cost does
// not grow with the log (the payloads read are counted in the conformance
// suite's ReadsOnlyUnprocessedEventsWhole).
func BenchmarkFindContact(b *testing.B) {
	for _, others := range []int{1_000, 20_000} {
		b.Run(fmt.Sprintf("Others%d", others), func(b *testing.B) {
			ctx, now := b.Context(), time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)
			db := sqlitetest.Open(b, "")
			var (
				events []*signal.Event
				keys   []store.SearchKey
			)
			for i := range others + 3 {
				user := fmt.Sprintf("u-%d", i)
				if i%(others/3) == 0 && len(events) > 0 {
					user = "u-jane"
				}
				events = append(events, &signal.Event{MessageID: fmt.Sprintf("m-%d", i), PipelineID: "pip_1", Type: signal.TypeTrack, Event: "Viewed",
					Timestamp: now, ReceivedAt: now, Payload: json.RawMessage(`{"type":"track","event":"Viewed","userId":"` + user + `"}`)})
			}
			for start := 0; start < len(events); start += 1000 {
				chunk := events[start:min(start+1000, len(events))]
				if err := db.AppendEvents(ctx, store.AppendEventsParams{Events: chunk}); err != nil {
					b.Fatal(err)
				}
			}
			for _, e := range events {
				var m struct{ UserID string }
				json.Unmarshal(e.Payload, &m)
				keys = append(keys, store.SearchKey{EventSeq: e.Seq, Key: "U:" + m.UserID})
			}
			if err := db.RecordProcessed(ctx, store.RecordProcessedParams{UpToSeq: events[len(events)-1].Seq, DedupeWindow: time.Hour, Now: now, SearchKeys: keys}); err != nil {
				b.Fatal(err)
			}
			p := store.FindContactParams{ProfileKeys: []string{"U:u-jane"}, SearchKeys: []string{"U:u-jane"}, Now: now,
				EventKeys: func(payload []byte) []string {
					var m struct{ UserID string }
					json.Unmarshal(payload, &m)
					return []string{"U:" + m.UserID}
				}}
			b.ResetTimer()
			for b.Loop() {
				c, err := db.FindContact(ctx, p)
				if err != nil || len(c.Events) != 3 {
					b.Fatalf("found %v, %v; want Jane's 3 events", c, err)
				}
			}
		})
	}
}
