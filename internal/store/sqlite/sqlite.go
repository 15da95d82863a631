// Package sqlite stores Signal's data in an embedded SQLite database (pure Go,
// WAL mode, fsync on every commit). Events are appended with group commit:
// concurrent requests share one transaction and one sync.
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
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/groupcommit"
)

//go:embed migration/*.sql
var migrations embed.FS

// Options configure a DB.
type Options struct {
	// Path of the database file.
	Path string
	// Cipher seals sensitive columns; Hasher is not used by this backend
	// (callers hash ids before they reach the store).
	Cipher store.Cipher
	// OnAppend, if set, is called after every commit of new events.
	OnAppend func()
	// MaxGroupEvents caps the events of one group commit (default 4096).
	MaxGroupEvents int
}

// DB is the SQLite store.
type DB struct {
	write  *sql.DB // one connection: SQLite has one writer
	read   *sql.DB
	cipher store.Cipher
	opts   Options

	appends *groupcommit.Group
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

// Open opens (creating if needed) the database and applies migrations.
func Open(ctx context.Context, opts Options) (*DB, error) {
	if opts.Cipher == nil {
		return nil, errors.New("sqlite: a cipher is required")
	}
	if opts.MaxGroupEvents <= 0 {
		opts.MaxGroupEvents = 4096
	}
	if err := privateFiles(opts.Path); err != nil {
		return nil, err
	}
	dsn := func(extra string) string {
		return "file:" + filepath.ToSlash(opts.Path) + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
			"&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)" + extra
	}
	write, err := sql.Open("sqlite", dsn("&_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", opts.Path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s: %w", opts.Path, err)
	}
	if err := migrate(ctx, write); err != nil {
		write.Close()
		return nil, err
	}
	read, err := sql.Open("sqlite", dsn("&_pragma=query_only(1)"))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s: %w", opts.Path, err)
	}
	read.SetMaxOpenConns(4)
	read.SetMaxIdleConns(4)
	db := &DB{
		write:  write,
		read:   read,
		cipher: opts.Cipher,
		opts:   opts,
	}
	if err := db.checkKey(ctx); err != nil {
		db.closeConns()
		return nil, err
	}
	if err := write.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM events`).Scan(&db.nextSeq); err != nil {
		db.closeConns()
		return nil, fmt.Errorf("read event log head: %w", err)
	}
	db.appends = groupcommit.Start(db.cipher.Seal, db.commitGroup, opts.MaxGroupEvents)
	return db, nil
}

// Close stops the appender (after the commits under way) and closes the
// database.
func (db *DB) Close() error {
	var err error
	db.closeMu.Do(func() {
		db.appends.Stop()
		err = db.closeConns()
	})
	return err
}

func (db *DB) closeConns() error {
	return errors.Join(db.read.Close(), db.write.Close())
}

func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migration/*.up.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	type mig struct {
		version int
		name    string
	}
	var all []mig
	for _, name := range names {
		base := filepath.Base(name)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migrate: bad migration name %s", base)
		}
		all = append(all, mig{v, name})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].version < all[j].version })
	for i, m := range all {
		// Gaps are allowed (numbers are handed out per concern and
		// branches merge in any order); duplicates are not.
		if i > 0 && m.version == all[i-1].version {
			return fmt.Errorf("migrate: migration %d duplicated", m.version)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile(m.name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.version, time.Now().UnixMilli()); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	return nil
}

func (db *DB) seal(b []byte) ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	return db.cipher.Seal(b)
}

func (db *DB) open(b []byte) ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	return db.cipher.Open(b)
}

// inTx runs fn in a write transaction.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func notFound(what, id string) error {
	return signal.Errorf(signal.ENOTFOUND, "%s %q not found", what, id)
}

func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// checkKey refuses a cipher other than the one the database was written
// with (and records the key check on a new database).
func (db *DB) checkKey(ctx context.Context) error {
	var sealed []byte
	err := db.write.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'key_check'`).Scan(&sealed)
	if err != nil && err != sql.ErrNoRows {
		return fmt.Errorf("read key check: %w", err)
	}
	toStore, err := store.CheckKey(db.cipher, sealed)
	if err != nil {
		return err
	}
	if toStore != nil {
		if _, err := db.write.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('key_check', ?) ON CONFLICT (key) DO NOTHING`, toStore); err != nil {
			return fmt.Errorf("store key check: %w", err)
		}
	}
	return nil
}
