package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/signalhq/signal/internal/store"
)

// Backup writes a consistent copy of the database to path, one file,
// while it serves: VACUUM INTO copies the main file (one read
// transaction's snapshot: WAL mode lets writers go on meanwhile,
// compacted, with no -wal file to carry), then the event log is copied
// into it (mergeLog). An existing path is refused.
func (db *DB) Backup(ctx context.Context, path string) error {
	// Created empty and private first (VACUUM INTO accepts an empty file):
	// O_EXCL refuses an existing one, and the copy is never readable by
	// others, even for a moment.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("backup: %s already exists; choose a new file", path)
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f.Close()
	db.snapMu.Lock()
	err = db.backup(ctx, path)
	db.snapMu.Unlock()
	if err != nil {
		for _, p := range []string{path, path + "-journal"} {
			os.Remove(p)
		}
		return err
	}
	return nil
}

func (db *DB) backup(ctx context.Context, path string) error {
	// A connection of its own, opened read-only: neither a writer (its
	// writes would wait behind the copy) nor a query_only reader (which
	// refuses VACUUM INTO).
	conn, err := sql.Open("sqlite", "file:"+filepath.ToSlash(db.opts.Path)+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	if err := mergeLog(ctx, path, LogPath(db.opts.Path)); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}

// mergeLog copies the event log's tables into the backup at path, which
// so holds them as a database from before the split did: opened (signal
// restore), the store moves them out into a log file of its own (moveLog).
// The log's snapshot is taken after the main file's, so every event the
// copy's processor cursor has passed is in it; those after the cursor are
// processed once restored.
func mergeLog(ctx context.Context, path, logPath string) error {
	c, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_txlock=immediate")
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetMaxOpenConns(1)
	ro := (&url.URL{Scheme: "file", Path: filepath.ToSlash(logPath), RawQuery: "mode=ro"}).String()
	if _, err := c.ExecContext(ctx, attachLog, ro); err != nil {
		return fmt.Errorf("attach the event log: %w", err)
	}
	return inConnTx(ctx, c, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT sql FROM log.sqlite_master
			WHERE tbl_name IN ('events', 'signed_requests') AND sql IS NOT NULL ORDER BY type = 'index', name`)
		if err != nil {
			return err
		}
		var ddl []string
		for rows.Next() {
			var q string
			if err := rows.Scan(&q); err != nil {
				rows.Close()
				return err
			}
			ddl = append(ddl, q)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// Unqualified, the copies are made in the backup's main schema.
		for _, q := range ddl {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		for _, t := range logTables {
			if _, err := tx.ExecContext(ctx, `INSERT INTO main.`+t+` SELECT * FROM log.`+t); err != nil {
				return fmt.Errorf("copy %s: %w", t, err)
			}
		}
		return nil
	})
}

// Prune is the shared one, kept from running between a backup's copy of
// the main file and its copy of the log: events it deleted in between
// would be missing from the backup's log while their deliveries and
// search rows stayed in its main file, where retention, which starts from
// the events, would never find them.
func (db *DB) Prune(ctx context.Context, p store.PruneParams) (store.PruneResult, error) {
	db.snapMu.Lock()
	defer db.snapMu.Unlock()
	return db.Store.Prune(ctx, p)
}
