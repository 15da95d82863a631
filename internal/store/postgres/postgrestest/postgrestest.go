// Package postgrestest gives tests a PostgreSQL database of their own on the
// server at SIGNAL_TEST_POSTGRES_URL (default: the local server, user
// postgres), and an empty schema in it per store.
//
// Schemas are reused: one a test is done with is emptied and handed to the
// next. Migrating a new schema costs about 80ms of server time (the DDL
// creates a dozen relations), much more than a store test itself, and the
// server runs those DDLs little faster in parallel; emptying costs a few
// milliseconds. (A database per test, copied from a migrated template, is
// slower still: about 80ms to create and 120ms to drop.)
package postgrestest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultURL is the server tests use when SIGNAL_TEST_POSTGRES_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Database is a database created for one test and dropped when it ends.
type Database struct {
	url   *url.URL
	admin *pgxpool.Pool

	mu   sync.Mutex
	n    int      // schemas created
	idle []string // schemas emptied, ready for another test
}

// NewDatabase creates a uniquely named database and drops it when t ends.
// When the server cannot be reached it skips t, or fails it if the
// environment variable CI is set.
func NewDatabase(t testing.TB) *Database {
	t.Helper()
	base := os.Getenv("SIGNAL_TEST_POSTGRES_URL")
	if base == "" {
		base = DefaultURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("SIGNAL_TEST_POSTGRES_URL must be a postgres:// URL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL is unreachable at %s (set SIGNAL_TEST_POSTGRES_URL): %v", u.Redacted(), err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	defer conn.Close(ctx)

	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatal(err)
	}
	name := "signal_test_" + hex.EncodeToString(suffix)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})

	dbURL := *u
	dbURL.Path = "/" + name
	d := &Database{url: &dbURL}
	if d.admin, err = pgxpool.New(ctx, d.url.String()); err != nil {
		t.Fatalf("connect to test database: %v", err)
	}
	t.Cleanup(d.admin.Close) // runs before the drop
	return d
}

// SchemaURL returns a connection string whose search_path is a schema of
// t's own until t ends: empty of rows, but maybe migrated already (a schema
// an earlier test used). The store must be closed when t's cleanups reach
// this call's (register its Close after calling SchemaURL).
func (d *Database) SchemaURL(t testing.TB) string {
	t.Helper()
	d.mu.Lock()
	var schema string
	if n := len(d.idle); n > 0 {
		schema, d.idle = d.idle[n-1], d.idle[:n-1]
	}
	d.mu.Unlock()
	if schema == "" {
		return d.NewSchemaURL(t)
	}
	t.Cleanup(func() { d.release(t, schema) })
	return d.schemaURL(schema)
}

// NewSchemaURL is SchemaURL for a schema never used before: no tables.
func (d *Database) NewSchemaURL(t testing.TB) string {
	t.Helper()
	d.mu.Lock()
	d.n++
	schema := "s" + strconv.Itoa(d.n)
	d.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := d.admin.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() { d.release(t, schema) })
	return d.schemaURL(schema)
}

func (d *Database) schemaURL(schema string) string {
	u := *d.url
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// emptySchema (a format, the schema's name its argument) deletes the rows
// of every table but schema_migrations and restarts every sequence.
const emptySchema = `DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = '%[1]s' AND tablename <> 'schema_migrations' LOOP
		EXECUTE format('DELETE FROM %%I.%%I', '%[1]s', r.tablename);
	END LOOP;
	FOR r IN SELECT sequencename FROM pg_sequences WHERE schemaname = '%[1]s' LOOP
		EXECUTE format('ALTER SEQUENCE %%I.%%I RESTART', '%[1]s', r.sequencename);
	END LOOP;
END $$`

// release empties schema and makes it available to the next test. A schema
// that cannot be emptied is left alone (and dropped with the database).
func (d *Database) release(t testing.TB, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := d.admin.Exec(ctx, fmt.Sprintf(emptySchema, schema)); err != nil {
		t.Errorf("empty schema %s: %v", schema, err)
		return
	}
	d.mu.Lock()
	d.idle = append(d.idle, schema)
	d.mu.Unlock()
}
