package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/storetest"
)

// fileEvents counts the events the database file itself holds, ignoring the
// WAL (immutable=1): what checkpoints have copied.
func fileEvents(t *testing.T, path string) int {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?immutable=1")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRow(`SELECT COUNT(*) FROM events`).Scan(&n); err != nil {
		return 0 // not even the table has been copied yet
	}
	return n
}

func TestCheckpointer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		events int
		frames int64 // the checkpointer's reading of the WAL before its turn
	}{
		// 20,000 events of ~700 bytes are far past SQLite's 1,000-page
		// autocheckpoint: the writer must not have copied them itself.
		{name: "passive", events: 20000},
		{name: "restart past the limit", events: 500, frames: walLimitPages},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "signal.db")
			db, err := Open(ctx, Options{Path: path, Cipher: storetest.Cipher(), CheckpointEvery: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			evs := make([]*signal.Event, tt.events)
			for i := range evs {
				evs[i] = &signal.Event{MessageID: fmt.Sprintf("m-%d", i), PipelineID: "pip_1", Type: "track", Event: "Product Viewed",
					AnonymousID: fmt.Sprintf("a-%d", i), Timestamp: time.Now(), ReceivedAt: time.Now(), Payload: []byte(`{"properties":{"p":"` + fmt.Sprint(make([]byte, 200)) + `"}}`)}
			}
			if err := db.AppendEvents(ctx, store.AppendEventsParams{Events: evs}); err != nil {
				t.Fatal(err)
			}
			if n := fileEvents(t, path); n != 0 {
				t.Fatalf("the database file holds %d events before any checkpoint: the writer checkpointed", n)
			}
			db.ckpt.frames = tt.frames
			if err := db.ckpt.checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			if n := fileEvents(t, path); n != tt.events {
				t.Fatalf("after a checkpoint the database file holds %d events, want %d", n, tt.events)
			}
		})
	}
}

// TestCheckpointerStops: Close ends the loop (a leaked loop would checkpoint
// a closed database and log every 200 ms).
func TestCheckpointerStops(t *testing.T) {
	t.Parallel()
	db, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "signal.db"), Cipher: storetest.Cipher(), CheckpointEvery: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-db.ckpt.stop:
	default:
		t.Fatal("the checkpointer was not stopped by Close")
	}
}

// TestWriterPragmas pins the writer connection's settings: durability (WAL,
// a sync on every commit) and the two the throughput depends on (no
// checkpoint inside a commit, statement journals in memory).
func TestWriterPragmas(t *testing.T) {
	t.Parallel()
	db, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "signal.db"), Cipher: storetest.Cipher()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tests := []struct {
		pragma string
		want   string
	}{
		{pragma: "journal_mode", want: "wal"},
		{pragma: "synchronous", want: "2"}, // FULL: an acknowledged event survives power loss
		{pragma: "wal_autocheckpoint", want: "0"},
		{pragma: "temp_store", want: "2"}, // MEMORY
		{pragma: "secure_delete", want: "1"},
		{pragma: "foreign_keys", want: "1"},
	}
	for _, tt := range tests {
		var got string
		if err := db.write.QueryRow(`PRAGMA ` + tt.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tt.pragma, err)
		}
		if got != tt.want {
			t.Errorf("PRAGMA %s = %s, want %s", tt.pragma, got, tt.want)
		}
	}
}
