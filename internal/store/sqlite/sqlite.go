// Package sqlite stores Signal's data in an embedded SQLite database (pure Go,
// WAL mode, synchronous=FULL: a commit that acknowledges an event or acts on
// one is on disk when it returns). Events are appended with group commit:
// concurrent requests share one transaction and one sync. A processor pass,
// state derived from the log, commits without a sync of its own; the next
// FULL commit syncs it (checkpoint.go, inPassTx).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/groupcommit"
	"github.com/signalhq/signal/internal/store/sqlstore"
	sqlite "modernc.org/sqlite" // also registers the database/sql driver "sqlite" (Backup)
)

//go:embed migration/*.sql
var migrations embed.FS

// dialect is SQLite's spelling for the shared SQL core.
var dialect = sqlstore.Dialect{
	Greatest:   "MAX",
	Least:      "MIN",
	True:       "1",
	QueueIndex: " INDEXED BY deliveries_queue",
	JSONParam:  "?",
	IsUnique:   isUnique,
	// The event log is a file of its own (eventlog.go).
	LockLog:       lockLog,
	EraseLogFirst: true,
	// AfterErase is set per database (Open): the checkpointer's truncate.
}

// Options configure a DB.
type Options struct {
	// Path of the database file.
	Path string
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
	// CheckpointEvery is how often the background checkpointer copies the
	// WAL into the database file (default 200 ms; see checkpoint.go).
	CheckpointEvery time.Duration
	// OnDiskFailure, if set, is called once, when the disk refuses a write
	// or a sync of the main file: its writer then refuses every statement
	// (diskfail.go), and the server should stop so that a restart recovers.
	// It runs on the goroutine that met the error: it must not block or
	// use the store.
	OnDiskFailure func(error)

	// faults, if set (tests), wraps each connection of the main writer.
	faults func(sqliteConn) sqliteConn
}

// DB is the SQLite store. The cold paths are the shared SQL core's
// (store/sqlstore); this package keeps the group commit of events, the
// processor's writes and the claim.
type DB struct {
	*sqlstore.Store

	write  *sql.DB // one connection: the main file's writer (log attached)
	logW   *sql.DB // one connection: the event log's writer (group commit)
	read   *sql.DB
	ckptDB *sql.DB // one connection: the checkpointer's
	ckpt   *checkpointer
	watch  *diskWatch // the writer's and the checkpointer's (diskfail.go)
	cipher store.Cipher
	opts   Options

	appends *groupcommit.Group
	// logMu is held by the log's writers: the group commit, and the main
	// writer's transactions that write the log (sqlstore.Dialect.LogWriters).
	logMu sync.Mutex
	// snapMu keeps retention from deleting events between a backup's copy
	// of the main file and its copy of the log (Backup, Prune).
	snapMu  sync.Mutex
	closeMu sync.Once
	// nextSeq is the next event's seq; only the group-commit loop uses it.
	nextSeq int64
}

var _ store.Store = (*DB)(nil)

// privateFiles creates the database file 0600 before SQLite opens it (SQLite
// gives its -wal and -shm files the database file's mode) and tightens
// files an older version left 0644: they hold personal data.
func privateFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("chmod %s: %w", p, err)
		}
	}
	return nil
}

// dsnWait is the data source name of a connection to the database at path
// that waits up to waitMS for a lock.
func dsnWait(path string, waitMS int, extra string) string {
	return "file:" + filepath.ToSlash(path) + "?_pragma=busy_timeout(" + strconv.Itoa(waitMS) + ")&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)" + extra
}

// Open opens (creating if needed) the database and applies migrations.
func Open(ctx context.Context, opts Options) (*DB, error) {
	if opts.Cipher == nil {
		return nil, errors.New("sqlite: a cipher is required")
	}
	if opts.MaxGroupEvents <= 0 {
		opts.MaxGroupEvents = 4096
	}
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = checkpointEvery
	}
	logPath := LogPath(opts.Path)
	for _, p := range []string{opts.Path, logPath} {
		if err := privateFiles(p); err != nil {
			return nil, err
		}
	}
	dsn := func(extra string) string { return dsnWait(opts.Path, 10000, extra) }
	// The main file's migrations first, on a connection of their own that
	// does not attach the log: the log has a schema_migrations table too.
	mainLog, err := migrateMain(ctx, dsn("&_txlock=immediate&_pragma=temp_store(2)"))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", opts.Path, err)
	}
	db := &DB{cipher: opts.Cipher, opts: opts}
	fail := func(err error) (*DB, error) {
		db.closeConns()
		return nil, err
	}
	logW, err := openOne(ctx, cachingConnector{}, logDSN(logPath), 1)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", logPath, err)
	}
	db.logW = logW
	if err := checkLog(ctx, logW, mainLog, opts.Path, logPath); err != nil {
		return fail(err)
	}
	if err := migrateLog(ctx, logW); err != nil {
		return fail(err)
	}
	// secure_delete: deleted content is zeroed, so that an erased
	// contact's keyed hashes (and sealed values) do not stay in free pages.
	// The writer and the checkpointer share one watch: the checkpointer's
	// sync of the WAL is the first one after a pass, and a failure reported
	// on its descriptor is not reported again on the writer's.
	watch := &diskWatch{notify: opts.OnDiskFailure}
	db.watch = watch
	db.write, err = openOne(ctx, cachingConnector{onConnect: attacher(logPath, mainWriterPragmas...), onBegin: beginMain,
		watch: watch, faults: opts.faults},
		dsn("&_pragma=secure_delete(1)&_pragma=wal_autocheckpoint("+strconv.Itoa(writerAutocheckpoint)+")&_pragma=temp_store(2)&_pragma=journal_size_limit(67108864)"), 1)
	if err != nil {
		return fail(fmt.Errorf("open %s: %w", opts.Path, err))
	}
	db.read, err = openOne(ctx, cachingConnector{onConnect: attacher(logPath)}, dsn("&_pragma=query_only(1)"), 4)
	if err != nil {
		return fail(fmt.Errorf("open %s: %w", opts.Path, err))
	}
	// The checkpointer waits at most 1 s for the writers and the readers
	// (only its truncates wait at all): see checkpoint.go.
	db.ckptDB, err = openOne(ctx, cachingConnector{onConnect: attacher(logPath), watch: watch}, dsnWait(opts.Path, 1000, ""), 1)
	if err != nil {
		return fail(fmt.Errorf("open %s: %w", opts.Path, err))
	}
	db.ckpt = newCheckpointer(db.ckptDB, opts.CheckpointEvery, &db.logMu)
	if err := moveLog(ctx, db.write, mainLog, logPath); err != nil {
		return fail(err)
	}
	// After an erasure the WAL is checkpointed into the database file, so
	// its old page versions are overwritten by the zeroed ones
	// (secure_delete), and emptied.
	d := dialect
	d.AfterErase = db.ckpt.truncate
	d.LogWriters = &db.logMu
	db.Store = sqlstore.New(db.read, db.write, d, opts.Cipher)
	if err := db.CheckKey(ctx); err != nil {
		return fail(err)
	}
	if db.nextSeq, err = logHead(ctx, db.write); err != nil {
		return fail(err)
	}
	db.ckpt.start()
	db.appends = groupcommit.Start(db.cipher.Seal, groupcommit.Observe(db.commitGroup, opts.OnCommit), opts.MaxGroupEvents)
	return db, nil
}

// Close stops the appender (after the commits under way) and closes the
// database.
func (db *DB) Close() error {
	var err error
	db.closeMu.Do(func() {
		db.appends.Stop()
		db.ckpt.stopLoop()
		err = db.closeConns()
	})
	return err
}

func (db *DB) closeConns() error {
	conns := []*sql.DB{db.read, db.ckptDB, db.write, db.logW}
	var errs []error
	if err := db.watch.refused(); err != nil {
		// The last connection to close a database checkpoints its WAL into
		// it and deletes the WAL. After the disk failed, the WAL's pages
		// in the kernel's cache may not be what the disk holds: the main
		// file's connections are left open, so that the next start
		// recovers from the disk, as after a crash. The process is about
		// to exit. The log's own writer closes: it is not the log's last
		// connection (the others attach it), so it checkpoints nothing.
		conns = []*sql.DB{db.logW}
		errs = append(errs, err)
	}
	for _, c := range conns {
		if c != nil {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// openOne opens a pool of at most n connections of c's kind to dsn and
// checks it can connect.
func openOne(ctx context.Context, c cachingConnector, dsn string, n int) (*sql.DB, error) {
	inner, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	c.Connector = inner
	pool := sql.OpenDB(c)
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	if n == 1 {
		pool.SetConnMaxLifetime(0)
	}
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// migrateMain applies the main file's migrations on a connection of its
// own, and reports where its event log is (mainLog).
func migrateMain(ctx context.Context, dsn string) (mainLog, error) {
	c, err := openOne(ctx, cachingConnector{}, dsn, 1)
	if err != nil {
		return mainLog{}, err
	}
	defer c.Close()
	if err := sqlstore.New(c, c, dialect, nil).Migrate(ctx, migrations); err != nil {
		return mainLog{}, err
	}
	return readMainLog(ctx, c)
}

func (db *DB) seal(b []byte) ([]byte, error) { return db.Seal(b) }

func (db *DB) open(b []byte) ([]byte, error) { return db.Open(b) }

// inTx runs fn in a write transaction of the main file.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return inConnTx(ctx, db.write, fn)
}

func ms(t time.Time) int64 { return sqlstore.MS(t) }

func fromMS(v int64) time.Time { return sqlstore.FromMS(v) }

func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
