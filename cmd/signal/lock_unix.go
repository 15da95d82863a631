//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// errDataDirInUse: a running signal holds the data dir.
var errDataDirInUse = errors.New("a running signal server holds this data dir; stop it first")

// lockDataDir takes the data dir's lock (an flock on signal.lock, released
// by the kernel when the process dies, kill -9 included).
func lockDataDir(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, "signal.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", dir, errDataDirInUse)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
