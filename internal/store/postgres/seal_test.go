package postgres_test

import (
	"bytes"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/signalhq/signal/internal/store/postgres"
	"github.com/signalhq/signal/internal/store/postgres/postgrestest"
	"github.com/signalhq/signal/internal/store/storetest"
)

// TestSealsSensitiveColumns writes secrets and personal data through every
// sealed column and checks that no column of any table holds them in clear.
func TestSealsSensitiveColumns(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		db  *postgres.DB
		sql *pgxpool.Pool
	}

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		url := postgrestest.NewDatabase(t).SchemaURL(t)
		db, err := postgres.Open(t.Context(), postgres.Options{URL: url, Cipher: storetest.Cipher()})
		requireNoError(t, err)
		t.Cleanup(func() { db.Close() })
		pool, err := pgxpool.New(t.Context(), url)
		requireNoError(t, err)
		t.Cleanup(pool.Close)
		return &testBundle{db: db, sql: pool}
	}

	bundle := setup(t)
	storetest.PlantSecrets(t, bundle.db)
	ctx := t.Context()

	// Every column of every table of the schema, bytea as raw bytes.
	rows, err := bundle.sql.Query(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`)
	requireNoError(t, err)
	type column struct{ table, name, typ string }
	columns, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (column, error) {
		var c column
		return c, row.Scan(&c.table, &c.name, &c.typ)
	})
	requireNoError(t, err)
	if len(columns) < 40 {
		t.Fatalf("found %d columns: is search_path set?", len(columns))
	}
	for _, c := range columns {
		expr := pgx.Identifier{c.name}.Sanitize()
		if c.typ != "bytea" {
			expr += "::text"
		}
		rows, err := bundle.sql.Query(ctx, `SELECT `+expr+` FROM `+pgx.Identifier{c.table}.Sanitize())
		requireNoError(t, err)
		values, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		requireNoError(t, err)
		for _, v := range values {
			for _, secret := range storetest.Secrets {
				if bytes.Contains(v, []byte(secret)) {
					t.Errorf("%s.%s holds %q in clear", c.table, c.name, secret)
				}
			}
		}
	}
}

func requireNoError(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}
