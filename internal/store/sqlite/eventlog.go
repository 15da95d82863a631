package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"

	"strconv"
	"strings"
	"time"

	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/sqlstore"
)

// The event log (events, and the signed requests written in their
// transactions) is a SQLite file of its own beside the main one: SQLite
// has one writer per file, and with one file the gateway's group commits
// waited behind every processor pass (and the passes behind the commits).
// Now the log's writer (logW) takes only the log's lock and the main
// writer only main's, so the two commit side by side, one core each.
//
// The main writer, the readers and the checkpointer attach the log as
// "log": SQLite looks an unqualified table name up in main first, then in
// the attached files, so the shared SQL core's queries name `events` as
// before, joins across the two files included.
//
// The main writer begins its transactions deferred and takes main's write
// lock at once (beginMain): BEGIN IMMEDIATE would take the write lock of
// every attached file, the log's included. The two kinds of transactions
// that write the log from the main writer, retention and erasure, take
// the log's lock first (lockLog, sqlstore.Dialect.LockLog), waiting for a
// group commit like any writer; a transaction that read the log first
// could not take it later. SQLite commits the attached file after main and
// not atomically with it: retention's deletions are found and made again
// after a crash between the two, and erasure blanks the log's payloads in
// a transaction of its own first (sqlstore.Dialect.EraseLogFirst).
//
// The log keeps SQLite's 4 KiB pages: 64 KiB ones (fewer WAL frames, so
// fewer pwrite calls, per group commit) measured the same within the noise
// (docs/decisions.md).

//go:embed eventlog/migration/*.sql
var logMigrations embed.FS

const (
	// attachLog attaches the log file (a bound filename) as "log".
	attachLog = `ATTACH DATABASE ? AS log`
	// beginMain takes main's write lock in a transaction the driver began
	// deferred, changing nothing: a statement that writes main, run first.
	beginMain = `DELETE FROM main.meta WHERE 0`
	// lockLog takes the log's write lock the same way.
	lockLog = `DELETE FROM log.signed_requests WHERE 0`
)

// logTables are the tables the log file holds (log_meta aside): moved out
// of the main file, and merged back into a backup.
var logTables = []string{"events", "signed_requests"}

// LogPath is the event log's file of the database at path: signal.db's is
// signal.events.db.
func LogPath(path string) string {
	return strings.TrimSuffix(path, ".db") + ".events.db"
}

// logDSN is the log writer's data source name: the main writer's
// settings (sqlite.go), for the log alone.
func logDSN(path string) string {
	return dsnWait(path, 10000, "&_txlock=immediate&_pragma=secure_delete(1)&_pragma=wal_autocheckpoint("+strconv.Itoa(writerAutocheckpoint)+")&_pragma=journal_size_limit(67108864)")
}

// attacher returns a connection hook that attaches the log at path and
// runs pragmas on it.
func attacher(path string, pragmas ...string) func(ctx context.Context, c sqliteConn) error {
	return func(ctx context.Context, c sqliteConn) error {
		if _, err := c.ExecContext(ctx, attachLog, []driver.NamedValue{{Ordinal: 1, Value: path}}); err != nil {
			return fmt.Errorf("attach the event log %s: %w", path, err)
		}
		for _, p := range pragmas {
			if _, err := c.ExecContext(ctx, p, nil); err != nil {
				return fmt.Errorf("event log %s: %s: %w", path, p, err)
			}
		}
		return nil
	}
}

// mainWriterPragmas are the attached log's settings on the main writer,
// which writes it in retention and erasure.
var mainWriterPragmas = []string{`PRAGMA log.synchronous = FULL`, `PRAGMA log.secure_delete = 1`, `PRAGMA log.journal_size_limit = 67108864`}

// mainLog is where the main file says its event log is.
type mainLog struct {
	// inMain: the log's tables are still in the main file (a database
	// from before the split, a backup, a new database), to be moved;
	// mainEvents: they hold events.
	inMain, mainEvents bool
	// id pairs the main file with its log file (meta.event_log).
	id string
}

func readMainLog(ctx context.Context, c *sql.DB) (mainLog, error) {
	var m mainLog
	var n int
	if err := c.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'`).Scan(&n); err != nil {
		return m, fmt.Errorf("event log: %w", err)
	}
	m.inMain = n > 0
	if m.inMain {
		if err := c.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM events)`).Scan(&m.mainEvents); err != nil {
			return m, fmt.Errorf("event log: %w", err)
		}
	}
	err := c.QueryRowContext(ctx, `SELECT CAST(value AS TEXT) FROM meta WHERE key = 'event_log'`).Scan(&m.id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("event log: %w", err)
	}
	return m, nil
}

// checkLog refuses, before the log file is written to, a log file that is
// not the main file's: missing (new and empty) or another database's; and
// a log that holds events beside a main file that is new (signal.db lost
// or moved away), which moving the main file's empty tables would wipe. A
// log still in a main file that has events replaces the file's: a
// database from before the split, a restored backup, a move cut short.
func checkLog(ctx context.Context, logW *sql.DB, m mainLog, mainPath, logPath string) error {
	var n int
	if err := logW.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE name = 'log_meta'`).Scan(&n); err != nil {
		return fmt.Errorf("event log %s: %w", logPath, err)
	}
	if m.inMain {
		if m.mainEvents || n == 0 {
			return nil
		}
		var logEvents bool
		if err := logW.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM events)`).Scan(&logEvents); err != nil {
			return fmt.Errorf("event log %s: %w", logPath, err)
		}
		if logEvents {
			return fmt.Errorf("%s is new, but the event log %s beside it holds a database's events: "+
				"move the database's own %s back, or restore both files from the same backup (signal restore)", mainPath, logPath, filepath.Base(mainPath))
		}
		return nil
	}
	if n == 0 {
		return fmt.Errorf("the event log %s is missing, and %s has no events of its own: "+
			"restore both files from the same backup (signal restore), or move the missing file back", logPath, mainPath)
	}
	var id string
	err := logW.QueryRowContext(ctx, `SELECT value FROM log_meta WHERE key = 'log_id'`).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("event log %s: %w", logPath, err)
	}
	if id == "" || id != m.id {
		return fmt.Errorf("the event log %s belongs to another database than %s: "+
			"restore both files from the same backup (signal restore), or move this database's own log back", logPath, mainPath)
	}
	return nil
}

// migrateLog applies the log's migrations on its writer.
func migrateLog(ctx context.Context, logW *sql.DB) error {
	sub, err := fs.Sub(logMigrations, "eventlog")
	if err != nil {
		return err
	}
	if err := sqlstore.New(logW, logW, dialect, nil).Migrate(ctx, sub); err != nil {
		return fmt.Errorf("event log: %w", err)
	}
	return nil
}

// moveLog moves the log's tables out of the main file (a database from
// before the split, a restored backup, a new database whose migrations
// made them there) into the log file, replacing what the log file held:
// the main file's copy is the one in force until it is dropped. Two
// transactions, the copy then the drop, so that a crash between the two
// leaves the main file's tables in place to be moved again. Each records a
// new id pairing the two files. c is a connection to the main file with
// the log attached.
func moveLog(ctx context.Context, c *sql.DB, m mainLog, logPath string) error {
	if !m.inMain {
		return nil
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("event log id: %w", err)
	}
	id := hex.EncodeToString(b[:])
	start := time.Now()
	var moved int64
	err := inConnTx(ctx, c, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, lockLog); err != nil {
			return err
		}
		for _, t := range logTables {
			cols, err := columns(ctx, tx, "main", t)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM log.`+t); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO log.`+t+` (`+cols+`) SELECT `+cols+` FROM main.`+t)
			if err != nil {
				return fmt.Errorf("copy %s: %w", t, err)
			}
			if t == "events" {
				moved, _ = res.RowsAffected()
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO log.log_meta (key, value) VALUES ('log_id', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("move the event log into %s: %w", logPath, err)
	}
	err = inConnTx(ctx, c, func(tx *sql.Tx) error {
		for _, t := range logTables {
			if _, err := tx.ExecContext(ctx, `DROP TABLE main.`+t); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO main.meta (key, value) VALUES ('event_log', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("move the event log into %s: drop the old tables: %w", logPath, err)
	}
	if moved > 0 {
		slog.Info("sqlite: the event log moved into its own file", "file", logPath, "events", moved, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// columns lists a table's columns, comma-separated.
func columns(ctx context.Context, tx *sql.Tx, schema, table string) (string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM pragma_table_info(?, ?)`, table, schema)
	if err != nil {
		return "", fmt.Errorf("columns of %s.%s: %w", schema, table, err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return "", err
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if len(cols) == 0 {
		return "", fmt.Errorf("columns of %s.%s: no such table", schema, table)
	}
	return strings.Join(cols, ", "), nil
}

// logHead is the next event's seq: past the log's last event and past the
// processor's cursor, which retention can leave beyond the last event
// kept (a seq below the cursor would never be processed).
func logHead(ctx context.Context, c *sql.DB) (int64, error) {
	var next int64
	err := c.QueryRowContext(ctx, `SELECT MAX(COALESCE((SELECT MAX(seq) FROM events), 0),
		COALESCE((SELECT seq FROM cursors WHERE name = ?), 0)) + 1`, store.ProcessorCursor).Scan(&next)
	if err != nil {
		return 0, fmt.Errorf("read the event log's head: %w", err)
	}
	return next, nil
}

// inConnTx runs fn in a transaction of c.
func inConnTx(ctx context.Context, c *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
