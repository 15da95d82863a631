package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// The writer connection never checkpoints (wal_autocheckpoint(0)): with
// SQLite's default, the commit that crosses 1,000 WAL pages copies them
// into the database file before it returns, holding the single writer
// (12% of the server's CPU under a batch load, all of it inside a group
// commit or a processor pass). A checkpointer on its own connection copies
// the WAL in the background instead, PASSIVE, so it never waits for or
// blocks the writer; pages written many times between two checkpoints are
// copied once.
const (
	// checkpointEvery is how often the checkpointer copies the WAL by
	// default: pages rewritten within it are copied once.
	checkpointEvery = 200 * time.Millisecond
	// walLimitPages is the WAL size at which a checkpoint also restarts it
	// (waiting for readers), so a WAL that PASSIVE checkpoints cannot reset
	// under constant reads does not grow without bound.
	walLimitPages = 64000
)

// checkpointer runs PASSIVE checkpoints on its own connection.
type checkpointer struct {
	conn   *sql.DB
	every  time.Duration
	stop   chan struct{}
	done   sync.WaitGroup
	frames int64 // the WAL's frames after the last checkpoint
}

func startCheckpointer(conn *sql.DB, every time.Duration) *checkpointer {
	c := &checkpointer{conn: conn, every: every, stop: make(chan struct{})}
	c.done.Add(1)
	go c.loop()
	return c
}

func (c *checkpointer) loop() {
	defer c.done.Done()
	t := time.NewTicker(c.every)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		err := c.checkpoint(context.Background())
		if err != nil && !failing {
			slog.Warn("sqlite checkpoint failed; retrying", "err", err)
		}
		failing = err != nil
	}
}

// checkpoint copies the WAL into the database file, PASSIVE (what the
// readers no longer need, without waiting), and restarts a WAL grown past
// walLimitPages (waiting for readers: rare, since the writer starts the WAL
// over by itself once a checkpoint copied all of it).
func (c *checkpointer) checkpoint(ctx context.Context) error {
	var busy, frames, done int64
	mode := "PASSIVE"
	if c.frames >= walLimitPages {
		mode = "RESTART"
	}
	if err := c.conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &frames, &done); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	c.frames = frames
	return nil
}

// Stop ends the loop.
func (c *checkpointer) Stop() {
	close(c.stop)
	c.done.Wait()
}
