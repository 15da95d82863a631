package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/signalhq/signal/internal/store/postgres/postgrestest"
	"github.com/signalhq/signal/internal/store/storetest"
)

// BenchmarkColdPath compares the two ways the store can reach PostgreSQL on
// its cold paths (pipelines, users, integrations CRUD): the pgx pool it
// uses for the hot paths, and database/sql over pgx's stdlib adapter on the
// same pool (what the shared SQL core in store/sqlstore uses). Each op is
// one round trip: a primary-key read of a pipeline row, and an
// insert+delete pair. The figures are in docs/decisions.md.
func BenchmarkColdPath(b *testing.B) {
	pg := postgrestest.NewDatabase(b)
	db, err := Open(b.Context(), Options{URL: pg.SchemaURL(b), Cipher: storetest.Cipher()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	sqldb := stdlib.OpenDBFromPool(db.pool)
	b.Cleanup(func() { sqldb.Close() })
	ctx := context.Background()
	if _, err := db.pool.Exec(ctx, `INSERT INTO pipelines (id, name, key, signing_secret, created_at, updated_at) VALUES ('pip_b', 'b', 'key_b', '\x00', 1, 1)`); err != nil {
		b.Fatal(err)
	}
	const get = `SELECT id, name, key, signing_secret, created_at, updated_at FROM pipelines WHERE id = $1`
	type row struct {
		id, name, key    string
		secret           []byte
		created, updated int64
	}
	b.Run("Get/pgxpool", func(b *testing.B) {
		for b.Loop() {
			var r row
			if err := db.pool.QueryRow(ctx, get, "pip_b").Scan(&r.id, &r.name, &r.key, &r.secret, &r.created, &r.updated); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Get/database-sql", func(b *testing.B) {
		for b.Loop() {
			var r row
			if err := sqldb.QueryRowContext(ctx, get, "pip_b").Scan(&r.id, &r.name, &r.key, &r.secret, &r.created, &r.updated); err != nil {
				b.Fatal(err)
			}
		}
	})
	const ins = `INSERT INTO pipelines (id, name, key, signing_secret, created_at, updated_at) VALUES ($1, $2, $3, '\x00', 1, 1)`
	const del = `DELETE FROM pipelines WHERE id = $1`
	b.Run("InsertDelete/pgxpool", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			id := fmt.Sprintf("p%d", i)
			if _, err := db.pool.Exec(ctx, ins, id, id, "k"+id); err != nil {
				b.Fatal(err)
			}
			if _, err := db.pool.Exec(ctx, del, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("InsertDelete/database-sql", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			id := fmt.Sprintf("q%d", i)
			if _, err := sqldb.ExecContext(ctx, ins, id, id, "k"+id); err != nil {
				b.Fatal(err)
			}
			if _, err := sqldb.ExecContext(ctx, del, id); err != nil {
				b.Fatal(err)
			}
		}
	})
}
