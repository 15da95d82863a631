// Package postgres stores Signal's data in PostgreSQL so that several nodes
// share the work. It keeps the semantics of store/sqlite (pinned by
// store/storetest) with what several writers need on top:
//
//   - Events are appended with group commit, one transaction per group, and
//     every append transaction takes the event-log advisory lock before it
//     draws seqs, so seqs become visible in increasing order across nodes
//     (see event.go).
//   - Deliveries are claimed with FOR UPDATE SKIP LOCKED: concurrent
//     claimers on any node never lease one delivery twice (see delivery.go).
//   - Profile resolution takes the profile advisory lock: merges on two
//     nodes never interleave (see profile.go).
//
// Advisory locks are keyed by the schema the connection creates tables in,
// so two installations in two schemas of one database do not contend.
//
// Durability: AppendEvents returns after COMMIT, which PostgreSQL syncs
// unless synchronous_commit is off; Open refuses a session where it is.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/groupcommit"
	"github.com/signalhq/signal/internal/store/sqlstore"
)

// Options configure a DB.
type Options struct {
	// URL is the connection string (postgres://…); pgxpool settings such as
	// pool_max_conns and runtime parameters such as search_path may be
	// given in it.
	URL string
	// Cipher seals sensitive columns.
	Cipher store.Cipher
	// OnAppend, if set, is called after every commit of new events.
	OnAppend func()
	// OnCommit, if set, is called after every group commit of events (one
	// transaction and sync shared by concurrent appends) with its size, its
	// duration and its error (metrics).
	OnCommit func(events int, took time.Duration, err error)
	// MaxGroupEvents caps the events of one group commit (default 4096).
	MaxGroupEvents int
}

// DB is the PostgreSQL store. The cold paths are the shared SQL core's
// (store/sqlstore, over database/sql on the same pool); this package keeps
// the group commit of events, the processor's writes and the claim, over
// pgx.
type DB struct {
	*sqlstore.Store

	pool   *pgxpool.Pool
	sqlDB  *sql.DB
	cipher store.Cipher
	opts   Options
	// schemaKey keys this installation's advisory locks (see lockKey).
	schemaKey int32

	appends *groupcommit.Group
	closeMu sync.Once

	// stats keeps the planner's statistics of the queue fresh.
	stats statsKeeper
}

var _ store.Store = (*DB)(nil)

// Open connects, applies migrations and starts the appender.
func Open(ctx context.Context, opts Options) (*DB, error) {
	if opts.Cipher == nil {
		return nil, errors.New("postgres: a cipher is required")
	}
	if opts.MaxGroupEvents <= 0 {
		opts.MaxGroupEvents = 4096
	}
	cfg, err := pgxpool.ParseConfig(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open pool: %w", err)
	}
	db := &DB{
		pool:   pool,
		cipher: opts.Cipher,
		opts:   opts,
	}
	if err := db.check(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	db.sqlDB = stdlib.OpenDBFromPool(pool)
	db.Store = sqlstore.New(db.sqlDB, db.sqlDB, db.dialect(), opts.Cipher)
	if err := db.Prepare(ctx, migrations); err != nil {
		db.closeConns()
		return nil, err
	}
	db.appends = groupcommit.Start(db.cipher.Seal, groupcommit.Observe(db.commitGroup, opts.OnCommit), opts.MaxGroupEvents)
	return db, nil
}

// check reads the schema the session creates tables in (it keys the
// advisory locks) and refuses a session that would not sync commits.
func (db *DB) check(ctx context.Context) error {
	var (
		schema     *string
		syncCommit string
	)
	if err := db.pool.QueryRow(ctx, `SELECT current_schema(), current_setting('synchronous_commit')`).Scan(&schema, &syncCommit); err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	if schema == nil {
		return errors.New("postgres: no schema of search_path exists: nowhere to create tables")
	}
	if syncCommit == "off" {
		return errors.New("postgres: synchronous_commit is off: appended events would not be durable when AppendEvents returns")
	}
	h := fnv.New32a()
	h.Write([]byte(*schema))
	db.schemaKey = int32(h.Sum32())
	return nil
}

// Close stops the appender (after the commits under way) and closes the
// pool.
func (db *DB) Close() error {
	db.closeMu.Do(func() {
		db.appends.Stop()
		db.stats.wait()
		db.closeConns()
	})
	return nil
}

func (db *DB) closeConns() {
	db.sqlDB.Close()
	db.pool.Close()
}

//go:embed migration/*.sql
var migrations embed.FS

// dialect is PostgreSQL's spelling for the shared SQL core.
func (db *DB) dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Numbered:    true,
		Greatest:    "GREATEST",
		Least:       "LEAST",
		True:        "TRUE",
		SkipLocked:  " FOR UPDATE SKIP LOCKED",
		ForUpdate:   " FOR UPDATE",
		JSONParam:   "?::text::jsonb",
		JSONText:    "::text",
		IsUnique:    isUnique,
		LockAdmins:  db.lockSQL(lockAdmins),
		LockMigrate: db.lockSQL(lockMigrate),
	}
}

// Advisory lock classes: the first key of pg_advisory_xact_lock(int, int);
// the second is the schema's key.
const (
	lockMigrate  int32 = 0x5367_0001
	lockEvents   int32 = 0x5367_0002
	lockProfiles int32 = 0x5367_0003
	// lockAdmins serialises changes that could remove the last admin.
	lockAdmins int32 = 0x5367_0004
)

// lockSQL is the statement that takes this schema's transaction-level
// advisory lock of class. Its keys are inlined (they are integers) so that
// it can lead a batch whose other statements have arguments of their own.
func (db *DB) lockSQL(class int32) string {
	return fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d, %d)`, class, db.schemaKey)
}

func (db *DB) seal(b []byte) ([]byte, error) { return db.Seal(b) }

func (db *DB) open(b []byte) ([]byte, error) { return db.Open(b) }

// inTx runs fn in a transaction.
func (db *DB) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, fn)
}

func ms(t time.Time) int64 { return sqlstore.MS(t) }

func fromMS(v int64) time.Time { return sqlstore.FromMS(v) }

func isUnique(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}
