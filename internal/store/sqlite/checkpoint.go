package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The writers rarely checkpoint: with SQLite's default (wal_autocheckpoint
// 1,000 pages) the commit that crosses 1,000 WAL pages copies them into
// the database file before it returns, holding the single writer (12% of
// the server's CPU under a batch load, all of it inside a group commit or
// a processor pass). A checkpointer on its own connection copies the WAL
// in the background instead, PASSIVE, so it never waits for or blocks the
// writer or the readers; pages written many times between two checkpoints
// are copied once. Each writer keeps a checkpoint of its own at 4,000
// pages (wal_autocheckpoint(4000), one wal-index segment) as a bound: the
// WAL only starts over at a write that finds all of it copied, which,
// with writes coming all the time, is the one right after a writer's own
// checkpoint; measured, a WAL left to grow made small transactions 15%
// slower (the queue benchmark's claims) and the whole binary slower too.
// A processor pass is the exception (inPassTx). (A RESTART past some size
// would block every writer while it waits for a long reader, such as a
// backup, which it cannot get past anyway.)
const (
	// writerAutocheckpoint is the writers' wal_autocheckpoint, in pages
	// (their data source names and writerPragmas).
	writerAutocheckpoint = 4000
	// passAutocheckpoint is the main writer's inside a processor pass: a
	// pass's commit copies the WAL itself only once it holds 160 MB
	// (journal_size_limit cuts the file back to 64 MiB once it starts
	// over).
	passAutocheckpoint = 40000
	// checkpointEvery is how often the checkpointer copies the WAL by
	// default: pages rewritten within it are copied once.
	checkpointEvery = 200 * time.Millisecond
	// truncateTries bounds how often an erasure's truncate is tried while
	// readers keep the WAL busy, truncatePause apart; each try waits at
	// most the checkpoint connection's busy timeout (1 s), holding off new
	// writers meanwhile, so an erasure stalls ingestion a few seconds at
	// worst. A truncate that did not get through is left to the loop,
	// which tries it again every retryTicks ticks until it does.
	truncateTries = 4
	truncatePause = 50 * time.Millisecond
	retryTicks    = 25
)

// checkpointer runs the checkpoints of one database on its own connection
// (one: conn allows no other), so the loop's checkpoints and an erasure's
// truncate take turns; SQLite would refuse a checkpoint at once, without
// waiting, while another connection's runs.
type checkpointer struct {
	conn  *sql.DB
	every time.Duration
	stop  chan struct{}
	done  sync.WaitGroup
	// pending: an erasure's truncate has not got through yet.
	pending atomic.Bool
	// logWriters is held by the event log's writers (eventlog.go); a
	// truncate of the log holds it too, or the group commit, back within
	// microseconds of each commit, would keep it from ever starting.
	logWriters sync.Locker
}

func newCheckpointer(conn *sql.DB, every time.Duration, logWriters sync.Locker) *checkpointer {
	return &checkpointer{conn: conn, every: every, stop: make(chan struct{}), logWriters: logWriters}
}

// start runs the loop until stopLoop.
func (c *checkpointer) start() {
	c.done.Add(1)
	go c.loop()
}

func (c *checkpointer) loop() {
	defer c.done.Done()
	t := time.NewTicker(c.every)
	defer t.Stop()
	failing := false
	for tick := 1; ; tick++ {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		var err error
		if c.pending.Load() && tick%retryTicks == 0 {
			var done bool
			if done, err = c.truncateOnce(context.Background()); err == nil && done {
				c.pending.Store(false)
				slog.Info("sqlite WAL truncated after an erasure, as deferred")
			}
		} else {
			err = c.checkpoint(context.Background())
		}
		if err != nil && !failing {
			slog.Warn("sqlite checkpoint failed; retrying", "err", err)
		}
		failing = err != nil
	}
}

// checkpoint copies into the database file what of the WAL the readers no
// longer need (PASSIVE: without waiting for anyone).
func (c *checkpointer) checkpoint(ctx context.Context) error {
	if _, _, err := c.run(ctx, "PASSIVE"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// truncate copies the whole WAL into the database file and empties it,
// so that after an erasure no old page version stays in the WAL. It tries
// truncateTries times; if readers still hold the WAL (a backup, say), the
// loop goes on trying in the background and truncate returns nil: the
// erasure itself is done.
func (c *checkpointer) truncate(ctx context.Context) error {
	for try := 1; ; try++ {
		done, err := c.truncateOnce(ctx)
		if err != nil {
			return fmt.Errorf("truncate the WAL: %w", err)
		}
		if done {
			return nil
		}
		if try == truncateTries {
			c.pending.Store(true)
			slog.Warn("sqlite WAL truncate after an erasure deferred: readers hold the WAL; retrying in the background")
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("truncate the WAL: %w", ctx.Err())
		case <-time.After(truncatePause):
		}
	}
}

// truncateOnce tries one truncating checkpoint: done when the WAL is empty.
func (c *checkpointer) truncateOnce(ctx context.Context) (bool, error) {
	busy, frames, err := c.run(ctx, "TRUNCATE")
	return err == nil && busy == 0 && frames == 0, err
}

// run runs one checkpoint of each file (the main one and the attached
// event log) and returns SQLite's answers summed: whether one was kept from
// finishing (busy) and the frames left in the WALs.
func (c *checkpointer) run(ctx context.Context, mode string) (busy, frames int64, err error) {
	for _, schema := range []string{"main", "log"} {
		b, f, err := c.runOne(ctx, schema, mode)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", schema, err)
		}
		busy, frames = busy+b, frames+max(f, 0)
	}
	return busy, frames, nil
}

// runOne runs one checkpoint of one file.
func (c *checkpointer) runOne(ctx context.Context, schema, mode string) (busy, frames int64, err error) {
	if schema == "log" && mode == "TRUNCATE" && c.logWriters != nil {
		c.logWriters.Lock()
		defer c.logWriters.Unlock()
	}
	var done int64
	err = c.conn.QueryRowContext(ctx, `PRAGMA `+schema+`.wal_checkpoint(`+mode+`)`).Scan(&busy, &frames, &done)
	return busy, frames, err
}

// inPassTx runs fn in a transaction of the main writer, as inTx, with the
// pass's settings (passPragmas), set back after the commit (writerPragmas).
//
// Its commit checkpoints only past passAutocheckpoint pages. A pass on a
// backlog writes ~1,400 pages (its new visitors' profile_keys rows land on
// random pages), and the next pass's prepare keeps a reader in the WAL, so
// the WAL often cannot start over for a while; past 4,000 pages every pass
// then checkpointed inside its transaction, fsync included (0.7 s of every
// 3 s of the pass's writer in a trace of the drain). The small
// transactions that follow (delivery claims) keep the writer's bound: with
// 40,000 pages for all of them the queue benchmark's claims ran 10-20%
// slower.
//
// Its commit does not fsync (synchronous=NORMAL). A pass is derived state:
// its events are in the log, synced at every append, and the cursor moves
// in the same transaction, so a pass that a power cut takes back (a
// process crash cannot: its pages are in the WAL file) is processed again
// from the log. Nothing irreversible acts on a pass before a FULL commit
// that writes the main file on this writer, whose fsync of the WAL makes
// every pass before it durable too: a delivery is sent only after its
// claim, an erasure commits FULL, and a checkpoint syncs the WAL before it
// copies any of it.
func (db *DB) inPassTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return err
	}
	// Set back whatever becomes of the pass (an error, ctx done, a panic
	// in fn), after the rollback deferred below; a connection that cannot
	// be set back is closed (the pool opens a new one with the writer's
	// settings).
	defer func() {
		if db.watch.refused() != nil {
			// The writer stopped for good (diskfail.go): a new connection
			// would be refused too.
			conn.Close()
			return
		}
		if err := execAll(context.WithoutCancel(ctx), conn, writerPragmas); err != nil {
			slog.Warn("sqlite: the writer's settings were not set back after a pass; reconnecting", "err", err)
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}()
	if err := execAll(ctx, conn, passPragmas); err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // after a commit: sql.ErrTxDone, nothing undone
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// passPragmas are the main writer's settings inside a processor pass
// (inPassTx), writerPragmas the writer's own (its data source name's).
var (
	passPragmas   = []string{`PRAGMA wal_autocheckpoint = ` + strconv.Itoa(passAutocheckpoint), `PRAGMA main.synchronous = NORMAL`}
	writerPragmas = []string{`PRAGMA wal_autocheckpoint = ` + strconv.Itoa(writerAutocheckpoint), `PRAGMA main.synchronous = FULL`}
)

func execAll(ctx context.Context, conn *sql.Conn, stmts []string) error {
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// stopLoop ends the loop and waits for it.
func (c *checkpointer) stopLoop() {
	close(c.stop)
	c.done.Wait()
}
