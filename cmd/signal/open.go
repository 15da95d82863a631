package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/signalhq/signal/internal/crypt"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/postgres"
	"github.com/signalhq/signal/internal/store/sqlite"
	"github.com/signalhq/signal/internal/token"
)

// dbFile is the embedded database in the data dir.
const dbFile = "signal.db"

// prepareDataDir creates the data dir, private: it holds the keys and
// personal data (MkdirAll leaves an existing dir as it was, so it is
// tightened).
func prepareDataDir(cfg *config) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("SIGNAL_DATA_DIR: %w", err)
	}
	if err := os.Chmod(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("SIGNAL_DATA_DIR: %w", err)
	}
	return nil
}

// loadSecrets returns the cipher and the token signer, from the
// configuration or the data dir (generated on first start).
func loadSecrets(cfg *config) (*crypt.Box, *token.Signer, error) {
	encKey, err := secret(cfg.DataDir, "encryption.key", cfg.EncryptionKey, crypt.NewKey)
	if err != nil {
		return nil, nil, err
	}
	key, err := crypt.ParseKey(encKey)
	if err != nil {
		return nil, nil, fmt.Errorf("ENCRYPTION_KEY: %w", err)
	}
	box, err := crypt.NewBox(key)
	if err != nil {
		return nil, nil, err
	}
	jwtSecret, err := secret(cfg.DataDir, "jwt.secret", cfg.JWTSecret, crypt.NewKey)
	if err != nil {
		return nil, nil, err
	}
	signer, err := token.NewSigner([]byte(jwtSecret), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("JWT_SECRET: %w", err)
	}
	return box, signer, nil
}

// storeHooks are the store's callbacks (nil: none): onAppend after each
// commit of new events (the processor wakes), onCommit with each group
// commit's size and duration (metrics), onDiskFailure once the embedded
// database's disk refused a write or sync (the server stops).
type storeHooks struct {
	onAppend      func()
	onCommit      func(events int, took time.Duration, err error)
	onDiskFailure func(error)
}

// openStore opens the configured store, applying migrations.
func openStore(ctx context.Context, cfg *config, box store.Cipher, hooks storeHooks) (store.Store, error) {
	if cfg.DatabaseURL != "" {
		db, err := postgres.Open(ctx, postgres.Options{URL: cfg.DatabaseURL, Cipher: box, OnAppend: hooks.onAppend, OnCommit: hooks.onCommit})
		if err != nil {
			return nil, fmt.Errorf("DATABASE_URL: %w", err)
		}
		return db, nil
	}
	db, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(cfg.DataDir, dbFile), Cipher: box, OnAppend: hooks.onAppend, OnCommit: hooks.onCommit,
		OnDiskFailure: hooks.onDiskFailure})
	if err != nil {
		return nil, fmt.Errorf("open the database in %s: %w", cfg.DataDir, err)
	}
	return db, nil
}
