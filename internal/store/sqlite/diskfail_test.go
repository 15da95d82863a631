package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"os"
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

// faults makes a watched connection fail as a disk would, at one point:
// a transaction's commit (its sync), a statement's step, or a row read
// from a statement that writes (RETURNING) or from a second copy of a
// query whose rows are open.
type faults struct {
	at       string // "commit", "exec", "next" or "next, uncached"
	code     atomic.Int64
	connects atomic.Int64
}

func (f *faults) failing(at string) error {
	if code := f.code.Load(); code != 0 && f.at == at {
		return codedErr(code)
	}
	return nil
}

func (f *faults) wrap(c sqliteConn) sqliteConn {
	f.connects.Add(1)
	return faultyConn{sqliteConn: c, f: f}
}

type faultyConn struct {
	sqliteConn
	f *faults
}

func (c faultyConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.sqliteConn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return faultyTx{Tx: tx, f: c.f}, nil
}

func (c faultyConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return faultyStmt{stmtContext: st.(stmtContext), f: c.f}, nil
}

// QueryContext is the path of a query whose cached statement is busy.
func (c faultyConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	r, err := c.sqliteConn.QueryContext(ctx, query, args)
	if err != nil {
		return nil, err
	}
	return faultyRows{Rows: r, f: c.f, at: "next, uncached"}, nil
}

type faultyTx struct {
	driver.Tx
	f *faults
}

func (t faultyTx) Commit() error {
	if err := t.f.failing("commit"); err != nil {
		t.Tx.Rollback()
		return err
	}
	return t.Tx.Commit()
}

type faultyStmt struct {
	stmtContext
	f *faults
}

func (s faultyStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if err := s.f.failing("exec"); err != nil {
		return nil, err
	}
	return s.stmtContext.ExecContext(ctx, args)
}

func (s faultyStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	r, err := s.stmtContext.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	return faultyRows{Rows: r, f: s.f, at: "next"}, nil
}

type faultyRows struct {
	driver.Rows
	f  *faults
	at string
}

func (r faultyRows) Next(dest []driver.Value) error {
	if err := r.f.failing(r.at); err != nil {
		return err
	}
	return r.Rows.Next(dest)
}

// TestDiskFailureStopsTheWriter: an error that is not the disk's leaves the
// writer working; the first I/O error, wherever it shows, is reported once,
// every later write is refused with an error that says to restart (without
// reconnecting), reads go on, and closing leaves the WAL to the next
// start's recovery.
func TestDiskFailureStopsTheWriter(t *testing.T) {
	t.Parallel()
	for _, at := range []string{"commit", "exec", "next", "next, uncached"} {
		t.Run(at, func(t *testing.T) {
			t.Parallel()
			testDiskFailure(t, at)
		})
	}
}

func testDiskFailure(t *testing.T, at string) {
	ctx := context.Background()
	var (
		mu       sync.Mutex
		reported []error
	)
	f := &faults{at: at}
	path := filepath.Join(t.TempDir(), "signal.db")
	db, err := Open(ctx, Options{Path: path, Cipher: storetest.Cipher(),
		OnDiskFailure: func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() },
		faults:        f.wrap})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// write inserts key with a statement and key+"r" with one that returns
	// it, in one transaction.
	write := func(key string) error {
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, x'00')`, key); err != nil {
			return err
		}
		var got string
		if err := tx.QueryRowContext(ctx, `INSERT INTO meta (key, value) VALUES (? || 'r', x'00') RETURNING key`, key).Scan(&got); err != nil {
			return err
		}
		// A second copy of a query while the first one's rows are open
		// does not use the cached statement.
		const read = `SELECT key FROM meta WHERE key = ?`
		open, err := tx.QueryContext(ctx, read, key)
		if err != nil {
			return err
		}
		defer open.Close()
		if err := tx.QueryRowContext(ctx, read, key).Scan(&got); err != nil {
			return err
		}
		if err := open.Close(); err != nil {
			return err
		}
		return tx.Commit()
	}
	count := func() []error {
		mu.Lock()
		defer mu.Unlock()
		return append([]error(nil), reported...)
	}

	f.code.Store(5) // SQLITE_BUSY: not the disk's
	if err := write("a"); err == nil {
		t.Fatal("a write failing with SQLITE_BUSY succeeded")
	}
	f.code.Store(0)
	if err := write("b"); err != nil || len(count()) != 0 {
		t.Fatalf("after SQLITE_BUSY: write %v, reported %v; want the writer working and nothing reported", err, count())
	}

	f.code.Store(1034) // SQLITE_IOERR_FSYNC
	if err := write("c"); !isDiskFailure(err) {
		t.Fatalf("a write whose %s failed returned %v, want the I/O error", at, err)
	}
	f.code.Store(0) // the disk seems well again: the writer stays stopped
	connects := f.connects.Load()
	pass := func() error {
		from := int64(0)
		return db.RecordProcessed(ctx, store.RecordProcessedParams{FromSeq: &from, UpToSeq: 1, Now: time.Now()})
	}
	for _, w := range []struct {
		what string
		run  func() error
	}{
		{"a transaction", func() error { return write("d") }},
		{"a statement", func() error {
			_, err := db.write.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('e', x'00')`)
			return err
		}},
		{"a processor pass", pass},
		{"a second processor pass", pass},
	} {
		if err := w.run(); err == nil || !strings.Contains(err.Error(), "restart Signal") || !isDiskFailure(err) {
			t.Errorf("%s after the disk failed: %v, want it refused, naming the I/O error and a restart", w.what, err)
		}
	}
	if n := f.connects.Load(); n != connects {
		t.Errorf("the stopped writer opened %d new connections, want none", n-connects)
	}
	if got := count(); len(got) != 1 || !strings.Contains(got[0].Error(), "restart Signal") {
		t.Fatalf("reported %v, want one report saying to restart", got)
	}
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM meta WHERE key IN ('b', 'br', 'c', 'cr', 'd', 'dr', 'e')`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("reading after the disk failed: %d rows, %v; want the read to work and see only b and br", n, err)
	}
	// A close that checkpointed would copy the WAL, as the kernel's cache
	// holds it, into the main file and delete the WAL.
	if err := db.Close(); err == nil || !strings.Contains(err.Error(), "restart Signal") {
		t.Fatalf("closing a stopped writer: %v, want the disk's failure", err)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("after closing a stopped writer: %v; want the WAL left for the next start's recovery", err)
	}
}

// TestCloseCheckpoints: a healthy store's close checkpoints and deletes
// its WAL (the control for the last check above).
func TestCloseCheckpoints(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "signal.db")
	db, err := Open(context.Background(), Options{Path: path, Cipher: storetest.Cipher()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.Exec(`INSERT INTO meta (key, value) VALUES ('a', x'00')`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after closing a healthy store, the WAL: %v; want it gone", err)
	}
}
