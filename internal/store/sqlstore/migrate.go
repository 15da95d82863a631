package sqlstore

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/signalhq/signal/internal/store"
)

type migration struct {
	version int
	name    string
}

// migrationList returns the migrations of fsys (migration/NNN_name.up.sql)
// in version order; versions must not repeat. Gaps are allowed: numbers
// are handed out per concern and branches merge in any order; each
// migration applies once, whenever it first appears.
func migrationList(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migration/*.up.sql")
	if err != nil {
		return nil, err
	}
	var all []migration
	for _, name := range names {
		base := path.Base(name)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("bad migration name %s", base)
		}
		all = append(all, migration{v, name})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].version < all[j].version })
	for i, m := range all {
		if i > 0 && m.version == all[i-1].version {
			return nil, fmt.Errorf("migration %d duplicated", m.version)
		}
	}
	return all, nil
}

// Migrate applies the migrations of fsys not yet recorded in
// schema_migrations, all in one transaction after the dialect's migration
// lock: nodes starting at once apply them one after the other, and the
// later ones find nothing to do.
func (s *Store) Migrate(ctx context.Context, fsys fs.FS) error {
	all, err := migrationList(fsys)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	err = s.X.InTx(ctx, func(tx *Tx) error {
		if l := s.X.d.LockMigrate; l != "" {
			if _, err := tx.Exec(ctx, l); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
			return err
		}
		applied, err := appliedVersions(ctx, tx)
		if err != nil {
			return err
		}
		for _, m := range all {
			if applied[m.version] {
				continue
			}
			body, err := fs.ReadFile(fsys, m.name)
			if err != nil {
				return err
			}
			// No arguments: both drivers run it as a script of several
			// statements (pgx with the simple protocol).
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return fmt.Errorf("%s: %w", path.Base(m.name), err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.version, time.Now().UnixMilli()); err != nil {
				return fmt.Errorf("%s: %w", path.Base(m.name), err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

func appliedVersions(ctx context.Context, tx *Tx) (map[int]bool, error) {
	rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		applied[v] = true
	}
	return applied, rows.Err()
}

// Prepare migrates the database and checks the cipher's key (see Migrate
// and CheckKey): what Open does before anything else.
func (s *Store) Prepare(ctx context.Context, migrations fs.FS) error {
	if err := s.Migrate(ctx, migrations); err != nil {
		return err
	}
	return s.CheckKey(ctx)
}

// CheckKey refuses a cipher other than the one the database was written
// with, and records the key check on a new database (the first node to
// start wins, the others check against it).
func (s *Store) CheckKey(ctx context.Context) error {
	for range 2 {
		var sealed []byte
		err := s.X.WriteRow(ctx, `SELECT value FROM meta WHERE key = 'key_check'`).Scan(&sealed)
		if err != nil && !NoRows(err) {
			return fmt.Errorf("read key check: %w", err)
		}
		toStore, err := store.CheckKey(s.Cipher, sealed)
		if err != nil || toStore == nil {
			return err
		}
		n, err := s.X.Exec(ctx, `INSERT INTO meta (key, value) VALUES ('key_check', ?) ON CONFLICT (key) DO NOTHING`, toStore)
		if err != nil {
			return fmt.Errorf("store key check: %w", err)
		}
		if n == 1 {
			return nil
		}
		// Another node stored its check first: compare with it.
	}
	return nil
}
