// Package sqlitetest opens SQLite stores for tests, as postgrestest does
// PostgreSQL ones: one database file per store in the test's temporary
// directory, sealed with storetest.Cipher, closed when the test ends.
package sqlitetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/signalhq/signal/internal/store/sqlite"
	"github.com/signalhq/signal/internal/store/storetest"
)

// Open opens a new store in dir (a fresh temporary directory when dir is
// ""), closed at the end of tb.
func Open(tb testing.TB, dir string) *sqlite.DB {
	tb.Helper()
	if dir == "" {
		dir = tb.TempDir()
	}
	db, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(dir, "signal.db"), Cipher: storetest.Cipher()})
	if err != nil {
		tb.Fatalf("open sqlite: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close sqlite: %v", err)
		}
	})
	return db
}
