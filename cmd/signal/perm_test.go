package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDataDirPermissions: the data dir is 0700, an existing looser one is
// tightened, and the database, its -wal and -shm files and the generated
// secrets are 0600 (even those an older version left 0644).
func TestDataDirPermissions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
	}{
		{"new dir", func(t *testing.T, dir string) {}},
		{"existing loose dir and files", func(t *testing.T, dir string) {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			os.Chmod(dir, 0o755)
			for _, f := range []string{"signal.db", "signal.db-wal", "signal.db-shm", "signal.events.db", "encryption.key", "jwt.secret"} {
				os.WriteFile(filepath.Join(dir, f), nil, 0o644)
				os.Chmod(filepath.Join(dir, f), 0o644)
			}
			os.WriteFile(filepath.Join(dir, "encryption.key"), []byte(testHexKey+"\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "jwt.secret"), []byte(testHexKey+"\n"), 0o644)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "data")
			tc.prepare(t, dir)
			n := start(t, dir)
			n.pipeline(t, n.login(t)) // a write, so the WAL exists
			check := func(path string, want os.FileMode) {
				st, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if got := st.Mode().Perm(); got != want {
					t.Errorf("%s is %#o, want %#o", filepath.Base(path), got, want)
				}
			}
			check(dir, 0o700)
			for _, f := range []string{"signal.db", "signal.db-wal", "signal.db-shm", "signal.events.db", "signal.events.db-wal", "signal.events.db-shm", "encryption.key", "jwt.secret"} {
				check(filepath.Join(dir, f), 0o600)
			}
		})
	}
}

// testHexKey is a fixed 32-byte key, as ENCRYPTION_KEY and JWT_SECRET hold.
const testHexKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
