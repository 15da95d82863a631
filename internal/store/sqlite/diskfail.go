package sqlite

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"

	sqlite3 "modernc.org/sqlite/lib"
)

// A disk that refuses a write or a sync of the main file stops its writer
// for good.
//
// A processor pass commits without a sync of its own (inPassTx): the next
// FULL commit's sync covers it. If that sync fails, the kernel may already
// have dropped the pass's pages, while SQLite, which counts the pass as
// committed, goes on appending after it; a later sync that succeeds would
// then make a WAL with a hole durable, and recovery stops at the hole,
// losing every commit after it, FULL ones included. PostgreSQL stops on a
// failed fsync for the same reason. So the first I/O error on the main
// writer or the checkpointer refuses every later statement on them (the
// read pool goes on) and is reported (Options.OnDiskFailure; signal serve
// stops): a restart recovers from what the disk holds, and the event log, a file of its own synced on every
// commit, still has every event acknowledged, which the processor reads
// again from the last pass the disk kept.
//
// One sync is not seen here: the checkpoint SQLite runs by itself inside a
// commit past the writer's bound ignores its own error. Linux reports a
// failed writeback once to every descriptor open on the file, so the
// checkpointer's next sync of the WAL, on a descriptor of its own, fails
// and stops the writer, within its period (200 ms). Until then the
// writer's commits sync on a descriptor that has had its report: a delivery
// claimed then may be sent again after the restart, and an admin write may
// be lost; no acknowledged event can be, as the log is another file. After
// a failure, closing leaves the main file's connections open (closeConns):
// the last one to close would checkpoint the WAL as the kernel's cache
// holds it.

// diskWatch is the main writer's and the checkpointer's: the first I/O
// error either saw.
type diskWatch struct {
	mu     sync.Mutex
	err    error
	notify func(error)
}

// isDiskFailure reports whether err is an SQLite I/O error (SQLITE_IOERR
// and its extended codes: a failed read, write, sync or truncate).
func isDiskFailure(err error) bool {
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == sqlite3.SQLITE_IOERR
}

// check records err if it is the first I/O error, and returns it.
func (w *diskWatch) check(err error) error {
	if w == nil || err == nil || !isDiskFailure(err) {
		return err
	}
	w.mu.Lock()
	first := w.err == nil
	if first {
		w.err = err
	}
	w.mu.Unlock()
	if first && w.notify != nil {
		w.notify(fmt.Errorf("the disk refused a write or sync of the main database (%w): restart Signal so that it recovers from what the disk holds", err))
	}
	return err
}

// refused is the error every write gets once the disk failed.
func (w *diskWatch) refused() error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		return nil
	}
	return fmt.Errorf("sqlite: the main database's writer stopped after the disk failed (%w); restart Signal", w.err)
}

// watchedTx is a transaction of the watched writer: its commit's sync is
// where a failure shows.
type watchedTx struct {
	driver.Tx
	watch *diskWatch
}

func (t watchedTx) Commit() error { return t.watch.check(t.Tx.Commit()) }
