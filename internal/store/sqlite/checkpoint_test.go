package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/storetest"
	"github.com/signalhq/signal/internal/store/storetest/eventually"
)

// fileEvents counts the events the database file itself holds, ignoring the
// WAL (immutable=1): what checkpoints have copied.
func fileEvents(t *testing.T, path string) int {
	t.Helper()
	n, err := countRows(t, path, "immutable=1", "events")
	if err != nil {
		return 0 // not even the table has been copied yet
	}
	return n
}

// countRows counts a table's rows in the file at path, opened with params.
func countRows(t *testing.T, path, params, table string) (int, error) {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?"+params)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	err = conn.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n)
	return n, err
}

// TestCheckpointer: the writer leaves the WAL alone below 4,000 pages
// (6,000 events of ~700 bytes are past SQLite's default 1,000-page
// autocheckpoint); the checkpointer copies it.
func TestCheckpointer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, path := openWithCheckpoints(t, time.Hour)
	const n = 6000
	if err := db.AppendEvents(ctx, store.AppendEventsParams{Events: fakeEvents(n)}); err != nil {
		t.Fatal(err)
	}
	if got := fileEvents(t, LogPath(path)); got != 0 {
		t.Fatalf("the database file holds %d events before any checkpoint: the writer checkpointed", got)
	}
	if err := db.ckpt.checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if got := fileEvents(t, LogPath(path)); got != n {
		t.Fatalf("after a checkpoint the database file holds %d events, want %d", got, n)
	}
}

// TestPassSettings: a processor pass past 4,000 WAL pages does not
// checkpoint inside its transaction (inPassTx), pass after pass, and the
// writer's settings are back after each pass, recorded or refused: its
// bound of 4,000 pages (the next small transaction checkpoints) and
// synchronous=FULL.
func TestPassSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, path := openWithCheckpoints(t, time.Hour)
	fileDeliveries := func() int {
		t.Helper()
		n, err := countRows(t, path, "immutable=1", "deliveries")
		if err != nil && strings.Contains(err.Error(), "no such table") {
			return 0 // not even the table has been copied yet
		}
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	requireBound := func(when string) {
		t.Helper()
		var bound, sync int
		if err := db.write.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&bound); err != nil {
			t.Fatal(err)
		}
		if bound != writerAutocheckpoint {
			t.Fatalf("the writer's wal_autocheckpoint is %d %s, want %d", bound, when, writerAutocheckpoint)
		}
		if err := db.write.QueryRowContext(ctx, `PRAGMA main.synchronous`).Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if sync != 2 {
			t.Fatalf("the writer's synchronous is %d %s, want 2 (FULL)", sync, when)
		}
	}
	smallWrite := func(key string) {
		t.Helper()
		if _, err := db.write.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, x'00')`, key); err != nil {
			t.Fatal(err)
		}
	}
	const n = 6000 // of ~4 KB each: past 4,000 pages
	payload := json.RawMessage(`{"p":"` + strings.Repeat("x", 4000) + `"}`)
	pass := func(from int64) store.RecordProcessedParams {
		ds := make([]*signal.Delivery, n)
		for i := range ds {
			seq := from + int64(i) + 1
			ds[i] = &signal.Delivery{EventSeq: seq, MessageID: fmt.Sprintf("m-%d", seq), PipelineID: "pip_1", IntegrationID: "int_1",
				Type: "track", Event: "Product Viewed", Status: signal.StatusDelivered, Payload: payload}
		}
		return store.RecordProcessedParams{FromSeq: &from, UpToSeq: from + n, Deliveries: ds, Now: time.Now()}
	}
	for i, want := range []int{0, n} {
		if err := db.RecordProcessed(ctx, pass(int64(i*n))); err != nil {
			t.Fatal(err)
		}
		if got := fileDeliveries(); got != want {
			t.Fatalf("pass %d: the database file holds %d deliveries after it, want %d: it checkpointed inside its transaction", i+1, got, want)
		}
		requireBound(fmt.Sprintf("after pass %d", i+1))
		smallWrite(fmt.Sprintf("checkpoint-test-%d", i))
		if got := fileDeliveries(); got != want+n {
			t.Fatalf("pass %d: after a small transaction the database file holds %d deliveries, want %d: the writer did not checkpoint", i+1, got, want+n)
		}
	}
	// A refused pass (the cursor moved) sets the bound back too.
	if err := db.RecordProcessed(ctx, pass(0)); signal.ErrorCode(err) != signal.ECONFLICT {
		t.Fatalf("a pass from a cursor that moved: %v, want ECONFLICT", err)
	}
	requireBound("after a refused pass")

	// Inside a pass: the raised bound, and no sync of its own; and a pass
	// that fails sets both back.
	failed := errors.New("the pass failed")
	err := db.inPassTx(ctx, func(tx *sql.Tx) error {
		var bound, sync int
		if err := tx.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&bound); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `PRAGMA main.synchronous`).Scan(&sync); err != nil {
			return err
		}
		if bound != passAutocheckpoint || sync != 1 {
			t.Errorf("inside a pass: wal_autocheckpoint %d, synchronous %d; want %d and 1 (NORMAL)", bound, sync, passAutocheckpoint)
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("a failing pass returned %v, want its own error", err)
	}
	requireBound("after a failed pass")
}

// TestTruncateBesideTheLoop: an erasure's truncate and the background
// checkpoints take turns on the checkpointer's connection (SQLite refuses
// a checkpoint at once while another connection's runs, which would leave
// the erased person's old pages in the WAL): every truncate empties the
// WAL while checkpoints run back to back and events keep coming.
func TestTruncateBesideTheLoop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openWithCheckpoints(t, time.Hour)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	repeat := func(fn func()) {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				fn()
			}
		}
	}
	go repeat(func() { db.ckpt.checkpoint(ctx) })                                                 // the loop's checkpoints, back to back
	go repeat(func() { db.AppendEvents(ctx, store.AppendEventsParams{Events: fakeEvents(500)}) }) // traffic that keeps the WAL growing
	defer func() { close(stop); wg.Wait() }()
	for i := range 20 {
		time.Sleep(5 * time.Millisecond)
		if err := db.ckpt.truncate(ctx); err != nil {
			t.Fatalf("truncate %d: %v", i, err)
		}
	}
}

func fakeEvents(n int) []*signal.Event {
	evs := make([]*signal.Event, n)
	for i := range evs {
		evs[i] = &signal.Event{MessageID: fmt.Sprintf("m-%d", i), PipelineID: "pip_1", Type: "track", Event: "Product Viewed",
			AnonymousID: fmt.Sprintf("a-%d", i), Timestamp: time.Now(), ReceivedAt: time.Now(), Payload: []byte(`{"properties":{"p":"` + fmt.Sprint(make([]byte, 200)) + `"}}`)}
	}
	return evs
}

// openWithCheckpoints opens a database whose checkpointer runs every
// every, closed at the end of the test.
func openWithCheckpoints(t *testing.T, every time.Duration) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "signal.db")
	db, err := Open(context.Background(), Options{Path: path, Cipher: storetest.Cipher(), CheckpointEvery: every})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
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
	// The main writer's settings, then the event log's: its writer's, and
	// the main writer's for the attached log (retention and erasure write it).
	tests := []struct {
		conn   *sql.DB
		pragma string
		want   string
	}{
		{conn: db.write, pragma: "journal_mode", want: "wal"},
		{conn: db.write, pragma: "synchronous", want: "2"},           // FULL: an acknowledged event survives power loss
		{conn: db.write, pragma: "wal_autocheckpoint", want: "4000"}, // the checkpointer's backstop
		{conn: db.write, pragma: "temp_store", want: "2"},            // MEMORY
		{conn: db.write, pragma: "journal_size_limit", want: "67108864"},
		{conn: db.write, pragma: "secure_delete", want: "1"},
		{conn: db.write, pragma: "foreign_keys", want: "1"},
		{conn: db.logW, pragma: "journal_mode", want: "wal"},
		{conn: db.logW, pragma: "synchronous", want: "2"},
		{conn: db.logW, pragma: "wal_autocheckpoint", want: "4000"},
		{conn: db.logW, pragma: "foreign_keys", want: "1"},
		{conn: db.logW, pragma: "journal_size_limit", want: "67108864"},
		{conn: db.logW, pragma: "secure_delete", want: "1"},
		{conn: db.write, pragma: "log.journal_mode", want: "wal"},
		{conn: db.write, pragma: "log.synchronous", want: "2"},
		{conn: db.write, pragma: "log.secure_delete", want: "1"},
		{conn: db.write, pragma: "log.journal_size_limit", want: "67108864"},
	}
	var wait string
	if err := db.ckptDB.QueryRow(`PRAGMA busy_timeout`).Scan(&wait); err != nil || wait != "1000" {
		t.Errorf("the checkpointer's busy_timeout = %s (%v), want 1000: its truncates hold off writers while they wait", wait, err)
	}
	for _, tt := range tests {
		var got string
		if err := tt.conn.QueryRow(`PRAGMA ` + tt.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tt.pragma, err)
		}
		if got != tt.want {
			t.Errorf("PRAGMA %s = %s, want %s", tt.pragma, got, tt.want)
		}
	}
}

// TestTruncateDeferredWhileAReaderHoldsTheWAL: a reader that holds the WAL
// (a backup, a long export) keeps an erasure's truncate from getting
// through; the erasure does not fail or wait for it, and the loop
// truncates once the reader is gone.
func TestTruncateDeferredWhileAReaderHoldsTheWAL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, path := openWithCheckpoints(t, time.Millisecond)
	if err := db.AppendEvents(ctx, store.AppendEventsParams{Events: fakeEvents(100)}); err != nil {
		t.Fatal(err)
	}
	reader, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := reader.QueryRow(`SELECT COUNT(*) FROM events`).Scan(&n); err != nil { // the read snapshot is taken
		t.Fatal(err)
	}
	if err := db.AppendEvents(ctx, store.AppendEventsParams{Events: fakeEvents(100)}); err != nil { // past the reader's snapshot
		t.Fatal(err)
	}
	if err := db.ckpt.truncate(ctx); err != nil {
		t.Fatalf("truncate with a reader open: %v, want nil (deferred)", err)
	}
	if !db.ckpt.pending.Load() {
		t.Fatal("the truncate got through with a reader holding the WAL; the test proves nothing")
	}
	reader.Rollback()
	eventually.True(t, 10*time.Second, "the loop truncates the WAL once the reader is gone", func() bool {
		fi, err := os.Stat(path + "-wal")
		li, lerr := os.Stat(LogPath(path) + "-wal")
		return !db.ckpt.pending.Load() && err == nil && fi.Size() == 0 && lerr == nil && li.Size() == 0
	})
}
