package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/sqlite"
)

const pgDumpAdvice = "with DATABASE_URL the data is in PostgreSQL: back it up with pg_dump " +
	"(pg_dump --format=custom \"$DATABASE_URL\" > signal.dump) and restore with pg_restore; keep ENCRYPTION_KEY and JWT_SECRET with it"

// backupCommand copies the embedded database to file while a server may
// be using it.
func backupCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: signal backup <file>")
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL != "" {
		return errors.New(pgDumpAdvice)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, dbFile)); err != nil {
		return fmt.Errorf("no database to back up in %s: %w", cfg.DataDir, err)
	}
	_, db, err := openForCommand(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	target, err := filepath.Abs(args[0])
	if err != nil {
		return err
	}
	start := time.Now()
	if err := db.(*sqlite.DB).Backup(ctx, target); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s in %s\nKeep ENCRYPTION_KEY (or %s) with it: the backup cannot be read without it.\n",
		target, time.Since(start).Round(time.Millisecond), filepath.Join(cfg.DataDir, "encryption.key"))
	return nil
}

// restoreCommand puts a backup in place as the data dir's database, after
// checking it is a Signal database sealed with this ENCRYPTION_KEY, and
// never under a running server.
func restoreCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("signal restore", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	force := fs.Bool("force", false, "replace an existing database (kept aside as signal.db.before-restore-<time> and signal.events.db.before-restore-<time>)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		return fmt.Errorf("usage: signal restore [--force] <file>")
	}
	src := fs.Arg(0)
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL != "" {
		return errors.New(pgDumpAdvice)
	}
	if err := prepareDataDir(cfg); err != nil {
		return err
	}
	unlock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer unlock()
	if cfg.EncryptionKey == "" {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "encryption.key")); err != nil {
			return fmt.Errorf("set ENCRYPTION_KEY (or put the backed-up encryption.key in %s): the backup is sealed with it", cfg.DataDir)
		}
	}
	box, _, err := loadSecrets(cfg)
	if err != nil {
		return err
	}
	if err := checkBackup(ctx, src, box); err != nil {
		return err
	}
	dst := filepath.Join(cfg.DataDir, dbFile)
	logDst := sqlite.LogPath(dst)
	_, err = os.Stat(dst)
	_, logErr := os.Stat(logDst)
	if err == nil || logErr == nil {
		if !*force {
			return fmt.Errorf("%s already holds a database; restore into an empty data dir, or pass --force to keep it aside and replace it", cfg.DataDir)
		}
		// The database is two files (the main one and its event log),
		// each with its WAL: all kept aside together, openable again by
		// renaming them back.
		stamp := ".before-restore-" + time.Now().UTC().Format("20060102T150405.000000000Z") // two restores in one second keep both
		for _, f := range []string{dst, logDst} {
			for _, side := range []string{"", "-wal", "-shm", "-journal"} {
				if err := os.Rename(f+side, f+stamp+side); err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
			}
		}
		fmt.Fprintf(stdout, "the database it replaces is kept as %s and %s\n", dst+stamp, logDst+stamp)
	}
	// Left over without their database (none was there): a stray WAL would
	// be applied to the restored file.
	for _, f := range []string{dst, logDst} {
		for _, side := range []string{"-wal", "-shm", "-journal"} {
			if err := os.Remove(f + side); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	if err := copyFileDurably(src, dst); err != nil {
		return fmt.Errorf("write %s: %w", dst, err)
	}
	// Opened once through the store: migrations a newer binary brings are
	// applied, and the key is checked again on the file in place.
	db, err := openStore(ctx, cfg, box, storeHooks{})
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s into %s\n", src, dst)
	return nil
}

// checkBackup opens the file read-only: it must hold Signal's key check,
// and the key check must open with this key.
func checkBackup(ctx context.Context, path string, c store.Cipher) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	conn, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?mode=ro&_pragma=query_only(1)")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer conn.Close()
	var sealed []byte
	if err := conn.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'key_check'`).Scan(&sealed); err != nil {
		return fmt.Errorf("restore: %s is not a Signal database (%v)", path, err)
	}
	if _, err := store.CheckKey(c, sealed); err != nil {
		return fmt.Errorf("restore: %s was written with another ENCRYPTION_KEY: set the key it was taken with", path)
	}
	// A backup holds the event log; a copy of signal.db alone does not
	// (the log is signal.events.db beside it).
	var logTables int
	if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'`).Scan(&logTables); err != nil {
		return fmt.Errorf("restore: %s: %w", path, err)
	}
	if logTables == 0 {
		return fmt.Errorf("restore: %s holds no event log: it is a copy of %s without %s beside it; restore a file written by signal backup",
			path, dbFile, filepath.Base(sqlite.LogPath(dbFile)))
	}
	return nil
}

// copyFileDurably copies src to dst (0600) through a temporary file,
// synced and renamed into place: after a crash dst is absent or whole.
func copyFileDurably(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	dir, err := os.Open(filepath.Dir(dst))
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}
