// Package sqlstore is the part of Signal's storage written once for both
// SQL backends: pipelines, users, audit, integrations, the migration runner
// and the row codecs, over database/sql and a Dialect naming what the
// engines spell differently. Each backend (store/sqlite, store/postgres)
// embeds a *Store and keeps only what truly differs: the group commit of
// events, RecordProcessed and ClaimDeliveries (see docs/decisions.md, "One
// SQL core for both stores").
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// Dialect is what the engines spell differently. Queries are written once
// with ? placeholders; the executor numbers them ($1, $2…) when Numbered.
type Dialect struct {
	// Numbered: placeholders are $n (PostgreSQL), not ? (SQLite).
	Numbered bool
	// JSONParam binds a JSON column's value, given as text.
	JSONParam string
	// JSONText follows a JSON column's name to read it as text.
	JSONText string
	// True is the boolean true literal.
	True string
	// QueueIndex follows "FROM deliveries" to read the integration's
	// pending deliveries through the queue index (SQLite's planner needs
	// telling: INDEXED BY).
	QueueIndex string
	// Greatest is the scalar maximum of its arguments (MAX on SQLite).
	Greatest string
	// Least is the scalar minimum of its arguments (MIN on SQLite).
	Least string
	// SkipLocked follows a SELECT to lock its rows, skipping those another
	// transaction holds (SQLite has one writer: empty).
	SkipLocked string
	// ForUpdate follows a SELECT to lock its rows until the transaction
	// ends (SQLite has one writer: empty).
	ForUpdate string
	// IsUnique reports a unique-constraint violation.
	IsUnique func(error) bool
	// LockAdmins, if set, runs first in a transaction that could remove
	// the last admin, so that two such transactions on two nodes cannot
	// both count the other's admin (SQLite has one writer: not needed).
	LockAdmins string
	// LockMigrate, if set, runs first in the migration transaction, so
	// that nodes starting at once migrate one after the other.
	LockMigrate string
	// LockLog, if set, runs first in a transaction that writes the event
	// log beside other tables (retention, erasure): SQLite keeps the log in
	// a file of its own, whose write lock such a transaction must take
	// before it reads the log, or it could not take it later.
	LockLog string
	// LogWriters, if set, is held around such a transaction: the log's
	// other writer (the group commit) holds it too, so that the two take
	// turns in order instead of racing for the file's lock, where the
	// group commit, back within microseconds, could starve the other
	// past its busy timeout.
	LogWriters sync.Locker
	// EraseLogFirst: an erasure blanks the payloads of the person's events
	// in a transaction of its own before the main one. SQLite commits the
	// log's file after the main file, not atomically with it; with the
	// log first, a crash between the two leaves the person findable, and
	// the erasure can be run again.
	EraseLogFirst bool
	// AfterErase, if set, runs after a contact's erasure so that freed
	// space keeps no clear text of it (SQLite: truncating the WAL, freed
	// pages being zeroed by secure_delete).
	AfterErase func(ctx context.Context) error
}

// Executor runs statements: reads on Read, writes and transactions on Write
// (one *sql.DB for both on PostgreSQL; SQLite has one writer connection and
// a read-only pool).
type Executor struct {
	read, write *sql.DB
	d           Dialect
}

// Store implements the backends' shared methods.
type Store struct {
	X      *Executor
	Cipher store.Cipher
}

// New returns the shared store over read and write.
func New(read, write *sql.DB, d Dialect, c store.Cipher) *Store {
	return &Store{X: &Executor{read: read, write: write, d: d}, Cipher: c}
}

// Q numbers q's placeholders for the dialect.
func (x *Executor) Q(q string) string {
	if !x.d.Numbered || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Dialect is the executor's dialect.
func (x *Executor) Dialect() Dialect { return x.d }

// Exec runs a write and returns how many rows it changed.
func (x *Executor) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	return execOn(ctx, x, x.write, q, args)
}

// QueryRow reads one row.
func (x *Executor) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return x.read.QueryRowContext(ctx, x.Q(q), args...)
}

// Query reads rows.
func (x *Executor) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return x.read.QueryContext(ctx, x.Q(q), args...)
}

// WriteRow runs a write returning one row (RETURNING), or reads on the
// writer what a write just changed.
func (x *Executor) WriteRow(ctx context.Context, q string, args ...any) *sql.Row {
	return x.write.QueryRowContext(ctx, x.Q(q), args...)
}

// InTx runs fn in a write transaction, committed if fn returns nil.
func (x *Executor) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	t, err := x.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(&Tx{tx: t, x: x}); err != nil {
		t.Rollback()
		return err
	}
	return t.Commit()
}

// Tx is a write transaction of an Executor.
type Tx struct {
	tx *sql.Tx
	x  *Executor
}

// InLogTx runs fn in a write transaction that writes the event log beside
// other tables: it takes the log's write lock first (Dialect.LockLog,
// LogWriters). The transaction begins first, and LogWriters is held from
// then until it has committed: taken before, it would hold the group
// commit up while this waited for the writer (behind a processor pass).
func (x *Executor) InLogTx(ctx context.Context, fn func(tx *Tx) error) error {
	t, err := x.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if x.d.LogWriters != nil {
		x.d.LogWriters.Lock()
		defer x.d.LogWriters.Unlock()
	}
	tx := &Tx{tx: t, x: x}
	if x.d.LockLog != "" {
		if _, err := tx.Exec(ctx, x.d.LockLog); err != nil {
			t.Rollback()
			return fmt.Errorf("lock the event log: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		t.Rollback()
		return err
	}
	return t.Commit()
}

// Exec runs a statement and returns how many rows it changed.
func (t *Tx) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	return execOn(ctx, t.x, t.tx, q, args)
}

// QueryRow reads one row.
func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.x.Q(q), args...)
}

// Query reads rows.
func (t *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.x.Q(q), args...)
}

func execOn(ctx context.Context, x *Executor, on interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, q string, args []any) (int64, error) {
	res, err := on.ExecContext(ctx, x.Q(q), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// MS is how times are stored: Unix milliseconds, 0 for the zero time.
func MS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// FromMS reads a time stored by MS.
func FromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// NotFound is the ENOTFOUND error for a missing row.
func NotFound(what, id string) error {
	return signal.Errorf(signal.ENOTFOUND, "%s %q not found", what, id)
}

// NoRows reports whether err means no row matched.
func NoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// Limit is a list's page size: 50 by default, at most 1000.
func Limit(n int) int {
	if n <= 0 || n > 1000 {
		return 50
	}
	return n
}

// Seal seals a sensitive column's value (nil stays nil).
func (s *Store) Seal(b []byte) ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	return s.Cipher.Seal(b)
}

// Open opens a value Seal sealed.
func (s *Store) Open(b []byte) ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	return s.Cipher.Open(b)
}
