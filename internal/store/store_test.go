package store_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/crypt"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/postgres"
	"github.com/signalhq/signal/internal/store/postgres/postgrestest"
	"github.com/signalhq/signal/internal/store/sqlite"
	"github.com/signalhq/signal/internal/store/sqlite/sqlitetest"
	"github.com/signalhq/signal/internal/store/storetest"
)

// TestStoreSQLite runs the conformance suite against SQLite, one database
// file per subtest (no shared database: SQLite has one writer).
func TestStoreSQLite(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		newStore func(t *testing.T) store.Store
	}

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		return &testBundle{newStore: func(t *testing.T) store.Store { return openSQLite(t, t.TempDir()) }}
	}

	storetest.Exercise(t, setup(t).newStore)
}

// TestStorePostgres runs the conformance suite against PostgreSQL: one
// database for the run (created, then dropped), one schema per store, each
// migrated by Open. It is skipped when no server answers, unless CI is set.
func TestStorePostgres(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		newStore func(t *testing.T) store.Store
	}

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		pg := postgrestest.NewDatabase(t)
		return &testBundle{newStore: func(t *testing.T) store.Store { return openPostgres(t, pg.SchemaURL(t)) }}
	}

	storetest.Exercise(t, setup(t).newStore)
}

func openPostgres(t *testing.T, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), postgres.Options{URL: url, Cipher: storetest.Cipher()})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close postgres: %v", err)
		}
	})
	return db
}

func openSQLite(t *testing.T, dir string) *sqlite.DB {
	t.Helper()
	return sqlitetest.Open(t, dir)
}

// TestSQLiteSealsSensitiveColumns writes secrets and personal data through
// every sealed column and checks that none of them reaches the database
// files (the main file, the WAL and its index) in clear.
func TestSQLiteSealsSensitiveColumns(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		dir string
		db  *sqlite.DB
	}

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		dir := t.TempDir()
		return &testBundle{dir: dir, db: openSQLite(t, dir)}
	}

	// requireNoPlaintext reads every file of the database directory.
	requireNoPlaintext := func(t *testing.T, bundle *testBundle, when string) {
		t.Helper()
		files, err := os.ReadDir(bundle.dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatalf("%s: no database files in %s", when, bundle.dir)
		}
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(bundle.dir, f.Name()))
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range storetest.Secrets {
				if bytes.Contains(b, []byte(secret)) {
					t.Errorf("%s: %s holds %q in clear", when, f.Name(), secret)
				}
			}
		}
	}

	bundle := setup(t)
	storetest.PlantSecrets(t, bundle.db)

	requireNoPlaintext(t, bundle, "open")
	requireNoError(t, bundle.db.Close())
	requireNoPlaintext(t, bundle, "closed")
}

func requireNoError(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func newOtherCipher(t *testing.T) store.Cipher {
	t.Helper()
	key, _ := crypt.NewKey()
	kb, _ := crypt.ParseKey(key)
	box, err := crypt.NewBox(kb)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// TestWrongKeyIsRefused: a database written with one ENCRYPTION_KEY is not
// opened with another, by either backend.
func TestWrongKeyIsRefused(t *testing.T) {
	t.Parallel()
	t.Run("SQLite", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		openSQLite(t, dir).Close()
		reopened := openSQLite(t, dir) // the same key opens it again
		reopened.Close()
		_, err := sqlite.Open(t.Context(), sqlite.Options{Path: filepath.Join(dir, "signal.db"), Cipher: newOtherCipher(t)})
		if !errors.Is(err, store.ErrWrongKey) {
			t.Fatalf("open with another key: %v, want ErrWrongKey", err)
		}
	})
	t.Run("Postgres", func(t *testing.T) {
		t.Parallel()
		url := postgrestest.NewDatabase(t).NewSchemaURL(t)
		openPostgres(t, url).Close()
		_, err := postgres.Open(t.Context(), postgres.Options{URL: url, Cipher: newOtherCipher(t)})
		if !errors.Is(err, store.ErrWrongKey) {
			t.Fatalf("open with another key: %v, want ErrWrongKey", err)
		}
	})
}

// TestSQLiteEraseLeavesNoKeysOnDisk: after an erasure, the keyed hashes of
// the person's ids (the only values stored in clear; everything else is
// sealed) are in no database file: freed pages are zeroed and the WAL is
// checkpointed.
func TestSQLiteEraseLeavesNoKeysOnDisk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := openSQLite(t, dir)
	ctx, now := t.Context(), time.Now().UTC()
	userKey, searchKey := "u-hash-5f1e0c2b9a7d", "e-hash-8c3d2a1f0e9b"
	ev := &signal.Event{MessageID: "m1", PipelineID: "pip_1", Type: signal.TypeTrack, Event: "Order Completed", Timestamp: now, ReceivedAt: now,
		Payload: []byte(`{"type":"track","userId":"u1"}`)}
	requireNoError(t, db.AppendEvents(ctx, store.AppendEventsParams{Events: []*signal.Event{ev}}))
	_, err := db.ResolveProfiles(ctx, store.ResolveProfilesParams{Now: now, Items: []store.ProfileUpdate{{Keys: []string{userKey}, Traits: map[string]any{"plan": "gold"}}}})
	requireNoError(t, err)
	requireNoError(t, db.RecordProcessed(ctx, store.RecordProcessedParams{UpToSeq: ev.Seq, Now: now, SearchKeys: []store.SearchKey{{EventSeq: ev.Seq, Key: searchKey}}}))

	onDisk := func() []string {
		var found []string
		files, err := os.ReadDir(dir)
		requireNoError(t, err)
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(dir, f.Name()))
			requireNoError(t, err)
			for _, k := range []string{userKey, searchKey} {
				if bytes.Contains(b, []byte(k)) {
					found = append(found, f.Name()+": "+k)
				}
			}
		}
		return found
	}
	if len(onDisk()) == 0 {
		t.Fatal("the keys are not on disk before the erasure: the test proves nothing")
	}
	res, err := db.EraseContact(ctx, store.FindContactParams{ProfileKeys: []string{userKey}, SearchKeys: []string{searchKey}, Now: now})
	requireNoError(t, err)
	if res.Profiles != 1 || res.Events != 1 {
		t.Fatalf("erased %+v", res)
	}
	if found := onDisk(); len(found) > 0 {
		t.Fatalf("after the erasure the data dir still holds %v", found)
	}
}
