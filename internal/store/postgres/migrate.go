package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

//go:embed migration/*.sql
var migrations embed.FS

type migration struct {
	version int
	name    string
}

// migrationList returns the embedded migrations in version order; versions
// must not repeat. Gaps are allowed: numbers are handed out per concern
// (see PLAN) and branches merge in any order; each migration applies once,
// whenever it first appears.
func migrationList() ([]migration, error) {
	names, err := fs.Glob(migrations, "migration/*.up.sql")
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

// migrate applies the migrations not yet recorded in schema_migrations, all
// in one transaction under the migration advisory lock: nodes starting at
// once apply them one after the other, and the later ones find nothing to
// do.
func (db *DB) migrate(ctx context.Context) error {
	all, err := migrationList()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, db.lockSQL(lockMigrate)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
			return err
		}
		applied := map[int]bool{}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return err
		}
		versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			return err
		}
		for _, v := range versions {
			applied[v] = true
		}
		for _, m := range all {
			if applied[m.version] {
				continue
			}
			body, err := migrations.ReadFile(m.name)
			if err != nil {
				return err
			}
			// No arguments: pgx sends it with the simple protocol, which
			// runs a script of several statements.
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return fmt.Errorf("%s: %w", path.Base(m.name), err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, m.version, time.Now().UnixMilli()); err != nil {
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
