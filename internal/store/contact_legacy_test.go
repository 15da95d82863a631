package store_test

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// TestContactEventsProcessedBeforeTheIndex: events processed before
// migration 015 carry only the Live Events keys (no anonymous id); a
// privacy request still finds them, by reading the events up to the
// contact_index cursor the migration set.
func TestContactEventsProcessedBeforeTheIndex(t *testing.T) {
	t.Parallel()
	ctx, dir, now := t.Context(), t.TempDir(), time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)
	db := openSQLite(t, dir)
	ev := func(id, body string) *signal.Event {
		return &signal.Event{MessageID: id, PipelineID: "pip_1", Type: signal.TypeTrack, Event: "Viewed",
			Timestamp: now, ReceivedAt: now, Payload: json.RawMessage(body)}
	}
	old := ev("m-01", `{"type":"track","anonymousId":"a-jane"}`)
	later := ev("m-02", `{"type":"track","anonymousId":"a-jane"}`)
	if err := db.AppendEvents(ctx, store.AppendEventsParams{Events: []*signal.Event{old}}); err != nil {
		t.Fatal(err)
	}
	// Processed the old way: no key for the anonymous id.
	if err := db.RecordProcessed(ctx, store.RecordProcessedParams{UpToSeq: old.Seq, DedupeWindow: time.Hour, Now: now}); err != nil {
		t.Fatal(err)
	}
	// The upgrade: the migration set the cursor to the processor's.
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "signal.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `UPDATE cursors SET seq = ? WHERE name = ?`, old.Seq, store.ContactIndexCursor); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendEvents(ctx, store.AppendEventsParams{Events: []*signal.Event{later}}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordProcessed(ctx, store.RecordProcessedParams{UpToSeq: later.Seq, DedupeWindow: time.Hour, Now: now,
		SearchKeys: []store.SearchKey{{EventSeq: later.Seq, Key: "A:a-jane"}}}); err != nil {
		t.Fatal(err)
	}
	c, err := db.FindContact(ctx, store.FindContactParams{ProfileKeys: []string{"A:a-jane"}, Now: now, EventKeys: func(payload []byte) []string {
		var m struct{ AnonymousID string }
		json.Unmarshal(payload, &m)
		return []string{"A:" + m.AnonymousID}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Events) != 2 || c.Events[0].Event.Seq != old.Seq || c.Events[1].Event.Seq != later.Seq {
		t.Fatalf("found %d events, want the one processed before the index and the later one", len(c.Events))
	}
}
