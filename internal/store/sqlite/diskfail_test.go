package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/storetest"
)

// codedErr is an error with an SQLite result code, as the driver's are.
type codedErr int

func (e codedErr) Error() string { return fmt.Sprintf("sqlite error %d", int(e)) }
func (e codedErr) Code() int     { return int(e) }

func TestIsDiskFailure(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"SQLITE_IOERR", codedErr(10), true},
		{"SQLITE_IOERR_FSYNC", codedErr(1034), true},
		{"SQLITE_IOERR_WRITE, wrapped", fmt.Errorf("commit: %w", codedErr(778)), true},
		{"SQLITE_CONSTRAINT_UNIQUE", codedErr(2067), false},
		{"SQLITE_BUSY", codedErr(5), false},
		{"SQLITE_FULL", codedErr(13), false},
		{"no code", errors.New("i/o"), false},
		{"nil", nil, false},
	} {
		if got := isDiskFailure(tt.err); got != tt.want {
			t.Errorf("%s: isDiskFailure = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// faultyConn fails commits with code once fail is set, as a sync the disk
// refused would.
type faultyConn struct {
	sqliteConn
	fail *atomic.Int64
}

func (c faultyConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.sqliteConn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return faultyTx{Tx: tx, fail: c.fail}, nil
}

type faultyTx struct {
	driver.Tx
	fail *atomic.Int64
}

func (t faultyTx) Commit() error {
	if code := t.fail.Load(); code != 0 {
		t.Tx.Rollback()
		return codedErr(code)
	}
	return t.Tx.Commit()
}

// TestDiskFailureStopsTheWriter: an error that is not the disk's leaves the
// writer working; the first I/O error is reported once, and every later
// write is refused with an error that says to restart, while reads go on.
func TestDiskFailureStopsTheWriter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var (
		fail     atomic.Int64
		mu       sync.Mutex
		reported []error
	)
	db, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "signal.db"), Cipher: storetest.Cipher(),
		OnDiskFailure: func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() },
		faults:        func(c sqliteConn) sqliteConn { return faultyConn{sqliteConn: c, fail: &fail} }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	write := func(key string) error {
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, x'00')`, key); err != nil {
			return err
		}
		return tx.Commit()
	}
	count := func() []error {
		mu.Lock()
		defer mu.Unlock()
		return append([]error(nil), reported...)
	}

	fail.Store(5) // SQLITE_BUSY: not the disk's
	if err := write("a"); err == nil {
		t.Fatal("a commit failing with SQLITE_BUSY succeeded")
	}
	fail.Store(0)
	if err := write("b"); err != nil || len(count()) != 0 {
		t.Fatalf("after SQLITE_BUSY: write %v, reported %v; want the writer working and nothing reported", err, count())
	}

	fail.Store(1034) // SQLITE_IOERR_FSYNC
	if err := write("c"); !isDiskFailure(err) {
		t.Fatalf("a commit whose sync failed returned %v, want the I/O error", err)
	}
	fail.Store(0) // the disk seems well again: the writer stays stopped
	for _, w := range []struct {
		what string
		run  func() error
	}{
		{"a transaction", func() error { return write("d") }},
		{"a statement", func() error {
			_, err := db.write.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('e', x'00')`)
			return err
		}},
		{"a processor pass", func() error {
			from := int64(0)
			return db.RecordProcessed(ctx, store.RecordProcessedParams{FromSeq: &from, UpToSeq: 1, Now: time.Now()})
		}},
	} {
		if err := w.run(); err == nil || !strings.Contains(err.Error(), "restart Signal") || !isDiskFailure(err) {
			t.Errorf("%s after the disk failed: %v, want it refused, naming the I/O error and a restart", w.what, err)
		}
	}
	if got := count(); len(got) != 1 || !strings.Contains(got[0].Error(), "restart Signal") {
		t.Fatalf("reported %v, want one report saying to restart", got)
	}
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM meta WHERE key IN ('b', 'c', 'd', 'e')`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("reading after the disk failed: %d rows, %v; want the read to work and see only b", n, err)
	}
}
