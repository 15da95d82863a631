package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Backup writes a consistent copy of the database to path with VACUUM INTO,
// while it serves: the copy is one read transaction's snapshot (WAL mode
// lets writers go on meanwhile), compacted, with no -wal file to carry.
// An existing path is refused.
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
	// A connection of its own, opened read-only: neither the single
	// writer (appends would wait behind the copy) nor a query_only reader
	// (which refuses VACUUM INTO).
	conn, err := sql.Open("sqlite", "file:"+filepath.ToSlash(db.opts.Path)+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		os.Remove(path)
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}
