package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/storetest"
)

// setupLog opens a store in a new directory, closed at the end of the
// test, and returns it with its main file's path.
func setupLog(t *testing.T) (*DB, string) {
	t.Helper()
	return openWithCheckpoints(t, 0) // the default checkpoints
}

// closedWithEvents makes a store holding n events, closes it, and returns
// its main file's path.
func closedWithEvents(t *testing.T, n int) string {
	t.Helper()
	db, path := setupLog(t)
	if err := db.AppendEvents(context.Background(), store.AppendEventsParams{Events: fakeEvents(n)}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// copyFile writes a copy of the file from to to.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// removeDB removes a database file and its WAL files.
func removeDB(path string) {
	for _, side := range []string{"", "-wal", "-shm"} {
		os.Remove(path + side)
	}
}

// TestGroupCommitBesideMainWriter: the point of the log's own file. While
// the main writer holds a transaction (a processor pass, say), events are
// still committed; and the main writer's transaction does hold main's
// write lock from its start, though it began deferred.
func TestGroupCommitBesideMainWriter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, path := setupLog(t)
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	// Before the transaction has written anything: beginMain's lock.
	other, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?_pragma=busy_timeout(0)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	otx, err := other.Begin()
	if err == nil {
		otx.Rollback()
		t.Fatal("another connection began a write on main while the main writer's transaction was open: beginMain took no lock")
	}
	if !strings.Contains(err.Error(), "locked") && !strings.Contains(err.Error(), "busy") {
		t.Fatalf("another writer on main: %v, want busy", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO cursors (name, seq) VALUES ('test', 1)`); err != nil {
		t.Fatal(err)
	}
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.AppendEvents(actx, store.AppendEventsParams{Events: fakeEvents(10)}); err != nil {
		t.Fatalf("append while the main writer holds a transaction: %v", err)
	}
}

// TestLogTransactionsLockTheLogFirst: retention's transaction takes the
// log's lock before it reads it, so it waits for a group commit instead of
// failing on a snapshot the commit made stale.
func TestLogTransactionsLockTheLogFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := setupLog(t)
	if err := db.AppendEvents(ctx, store.AppendEventsParams{Events: fakeEvents(50)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `INSERT INTO cursors (name, seq) VALUES (?, 50)`, store.ProcessorCursor); err != nil {
		t.Fatal(err)
	}
	// The log's writer holds its lock for a moment, as a group commit does.
	ltx, err := db.logW.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		res, err := db.Prune(ctx, store.PruneParams{Before: time.Now().Add(time.Hour), DedupeBefore: time.Now(), Limit: 100})
		if err == nil && res.Events != 50 {
			err = fmt.Errorf("pruned %d events, want 50", res.Events)
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("retention finished while the log's writer held its lock: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := ltx.ExecContext(ctx, `DELETE FROM signed_requests WHERE expires_at < 0`); err != nil {
		t.Fatal(err)
	}
	if err := ltx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("retention after the log's commit: %v", err)
	}
}

// TestBackupMovesBackIn: a backup is one file holding the log's tables, as
// a database from before the split did; opened, its events move out into
// the log file, replacing what a log file left there held, and the log
// goes on after them.
func TestBackupMovesBackIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := setupLog(t)
	if err := db.AppendEvents(ctx, store.AppendEventsParams{Events: fakeEvents(30)}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	backup := filepath.Join(dir, "signal.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if n, err := countRows(t, backup, "mode=ro", "events"); err != nil || n != 30 {
		t.Fatalf("the backup holds %d events (%v), want 30", n, err)
	}
	// A stale log beside it, from another database.
	copyFile(t, LogPath(closedWithEvents(t, 7)), LogPath(backup))

	restored, err := Open(ctx, Options{Path: backup, Cipher: storetest.Cipher()})
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	evs, err := restored.ListEvents(ctx, store.ListEventsParams{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 30 || evs[0].MessageID != "m-0" || evs[29].Seq != 30 {
		t.Fatalf("restored log: %d events, want the backup's 30", len(evs))
	}
	var inMain int
	if err := restored.write.QueryRow(`SELECT COUNT(*) FROM main.sqlite_master WHERE name IN ('events', 'signed_requests')`).Scan(&inMain); err != nil || inMain != 0 {
		t.Fatalf("the main file keeps %d of the log's tables (%v), want 0", inMain, err)
	}
	more := fakeEvents(1)
	if err := restored.AppendEvents(ctx, store.AppendEventsParams{Events: more}); err != nil {
		t.Fatal(err)
	}
	if more[0].Seq != 31 {
		t.Fatalf("the next event after a restore got seq %d, want 31", more[0].Seq)
	}
}

// TestMissingLogRefused: a main file whose log was split off and is gone
// is refused with the file named, rather than started with an empty log.
func TestMissingLogRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := closedWithEvents(t, 3)
	removeDB(LogPath(path))
	// Twice: the first refusal must not leave a log the second accepts.
	for try := 1; try <= 2; try++ {
		_, err := Open(ctx, Options{Path: path, Cipher: storetest.Cipher()})
		if err == nil || !strings.Contains(err.Error(), "event log") || !strings.Contains(err.Error(), "missing") {
			t.Fatalf("open %d without the log: %v, want the missing event log named", try, err)
		}
	}
}

// TestLogOfAnotherDatabaseRefused: a log file from another database (a
// copy mixed up with another data dir) is refused, not read as this one's.
func TestLogOfAnotherDatabaseRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := closedWithEvents(t, 3)
	copyFile(t, LogPath(closedWithEvents(t, 3)), LogPath(path))
	_, err := Open(ctx, Options{Path: path, Cipher: storetest.Cipher()})
	if err == nil || !strings.Contains(err.Error(), "belongs to another database") {
		t.Fatalf("open with another database's log: %v, want it refused", err)
	}
}

// TestHeadPastTheCursor: once retention has deleted every event up to the
// processor's cursor, new events are numbered after the cursor, not from
// 1 again, where the processor would never read them.
func TestHeadPastTheCursor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, path := setupLog(t)
	if err := db.AppendEvents(ctx, store.AppendEventsParams{Events: fakeEvents(5)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `INSERT INTO cursors (name, seq) VALUES (?, 5)`, store.ProcessorCursor); err != nil {
		t.Fatal(err)
	}
	res, err := db.Prune(ctx, store.PruneParams{Before: time.Now().Add(time.Hour), DedupeBefore: time.Now(), Limit: 100})
	if err != nil || res.Events != 5 {
		t.Fatalf("prune: %+v, %v; want 5 events", res, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(ctx, Options{Path: path, Cipher: storetest.Cipher()})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	evs := fakeEvents(1)
	if err := again.AppendEvents(ctx, store.AppendEventsParams{Events: evs}); err != nil {
		t.Fatal(err)
	}
	if evs[0].Seq != 6 {
		t.Fatalf("after retention emptied the log, the next event got seq %d, want 6 (past the cursor)", evs[0].Seq)
	}
}

// TestNewMainBesideALogRefused: a new main file (signal.db lost or moved
// away) beside a log holding events is refused, and the log is left as it
// was, not replaced by the new file's empty tables.
func TestNewMainBesideALogRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := closedWithEvents(t, 4)
	removeDB(path)
	_, err := Open(ctx, Options{Path: path, Cipher: storetest.Cipher()})
	if err == nil || !strings.Contains(err.Error(), "holds a database's events") {
		t.Fatalf("open a new main file beside a log with events: %v, want it refused", err)
	}
	if n, err := countRows(t, LogPath(path), "mode=ro", "events"); err != nil || n != 4 {
		t.Fatalf("the log holds %d events (%v) after the refusal, want its 4", n, err)
	}
}

// TestRetentionQueuesWithoutHoldingTheLog: retention waiting for the main
// writer (behind a processor pass, here an open transaction) does not hold
// the log writers' turn meanwhile: events are still committed.
func TestRetentionQueuesWithoutHoldingTheLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := setupLog(t)
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() // on a failure too: retention, then the append, go on
	pruned := make(chan error, 1)
	go func() {
		_, err := db.Prune(ctx, store.PruneParams{Before: time.Now(), DedupeBefore: time.Now(), Limit: 10})
		pruned <- err
	}()
	// Retention is queued for the main writer once the mutex it takes
	// first is free again; give it the moment to get there.
	time.Sleep(50 * time.Millisecond)
	appended := make(chan error, 1)
	go func() { appended <- db.AppendEvents(ctx, store.AppendEventsParams{Events: fakeEvents(3)}) }()
	select {
	case err := <-appended:
		if err != nil {
			t.Fatalf("append while retention waits for the main writer: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the append waited for retention, which waited for the main writer")
	}
	tx.Rollback()
	if err := <-pruned; err != nil {
		t.Fatal(err)
	}
}

// TestRetentionWaitsForABackup: retention does not run between a backup's
// copy of the main file and its copy of the log.
func TestRetentionWaitsForABackup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := setupLog(t)
	db.snapMu.Lock() // as Backup holds it across its two copies
	pruned := make(chan error, 1)
	go func() {
		_, err := db.Prune(ctx, store.PruneParams{Before: time.Now(), DedupeBefore: time.Now(), Limit: 10})
		pruned <- err
	}()
	select {
	case err := <-pruned:
		t.Fatalf("retention ran during a backup: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	db.snapMu.Unlock()
	if err := <-pruned; err != nil {
		t.Fatal(err)
	}
}
