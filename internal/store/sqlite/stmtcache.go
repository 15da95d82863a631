package sqlite

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
)

// stmtCacheSize is how many prepared statements each connection keeps. The
// hot statements are a few dozen texts; multi-row inserts add one text per
// row count, whose rarer sizes fall out first.
const stmtCacheSize = 128

// stmtCacheText bounds the summed length of the cached statements' text,
// and so the memory of their compiled programs (a multi-row insert of 128
// deliveries is 6 KB of text): at most a few megabytes per connection.
const stmtCacheText = 256 << 10

// cachingConnector opens connections that keep their prepared statements:
// the driver prepares a statement for every Exec and Query and finalizes it
// after, so a statement run on every request or processor pass was
// compiled again each time (_sqlite3Prepare was 7–9% of the server's CPU
// under load). database/sql calls a connection from one goroutine at a
// time, so a connection's cache needs no lock.
type cachingConnector struct {
	driver.Connector
	// onConnect, if set, runs on each new connection (attaching the log).
	onConnect func(ctx context.Context, c sqliteConn) error
	// onBegin, if set, runs first in each transaction (taking main's
	// write lock: see eventlog.go).
	onBegin string
	// watch, if set, stops the connection's writes after an I/O error
	// (diskfail.go); faults, if set (tests), wraps each connection.
	watch  *diskWatch
	faults func(sqliteConn) sqliteConn
}

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, ok := dc.(sqliteConn)
	if !ok {
		dc.Close()
		return nil, errors.New("sqlite: the driver's connection lacks a context method this store uses")
	}
	if c.onConnect != nil {
		if err := c.onConnect(ctx, inner); err != nil {
			dc.Close()
			return nil, err
		}
	}
	if c.faults != nil {
		inner = c.faults(inner)
	}
	return &cachingConn{sqliteConn: inner, onBegin: c.onBegin, watch: c.watch, byQuery: map[string]*list.Element{}, lru: list.New()}, nil
}

// sqliteConn is what the driver's connections implement and cachingConn
// forwards (see sqlite.NewConnector's notes on wrappers).
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// stmtContext is what the driver's statements implement.
type stmtContext interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

type cachedStmt struct {
	query string
	stmt  stmtContext
	// busy: rows read from it are open (a second query of the same text
	// meanwhile gets a statement of its own); closeAfter: evicted while
	// busy, closed when its rows are.
	busy, closeAfter bool
}

type cachingConn struct {
	sqliteConn
	onBegin string
	watch   *diskWatch
	byQuery map[string]*list.Element // of *cachedStmt
	lru     *list.List               // front: most recently used
	text    int                      // summed len of the cached queries
}

// Unwrap lets the driver's helpers (sqlite.Limit) reach its connection.
func (c *cachingConn) Unwrap() driver.Conn { return c.sqliteConn }

// cached returns query's prepared statement, preparing it if needed, or
// nil when the cached one is busy.
func (c *cachingConn) cached(ctx context.Context, query string) (*cachedStmt, error) {
	if e, ok := c.byQuery[query]; ok {
		cs := e.Value.(*cachedStmt)
		if cs.busy {
			return nil, nil
		}
		c.lru.MoveToFront(e)
		return cs, nil
	}
	ds, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := ds.(stmtContext)
	if !ok {
		ds.Close()
		return nil, errors.New("sqlite: the driver's statement lacks a context method this store uses")
	}
	cs := &cachedStmt{query: query, stmt: st}
	c.byQuery[query] = c.lru.PushFront(cs)
	c.text += len(query)
	for c.lru.Len() > 1 && (c.lru.Len() > stmtCacheSize || c.text > stmtCacheText) {
		old := c.lru.Back()
		c.lru.Remove(old)
		ocs := old.Value.(*cachedStmt)
		delete(c.byQuery, ocs.query)
		c.text -= len(ocs.query)
		if ocs.busy {
			ocs.closeAfter = true
		} else {
			ocs.stmt.Close()
		}
	}
	return cs, nil
}

// BeginTx begins a transaction, then runs onBegin in it.
func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := c.watch.refused(); err != nil {
		return nil, err
	}
	tx, err := c.sqliteConn.BeginTx(ctx, opts)
	if err != nil {
		return nil, c.watch.check(err)
	}
	if c.onBegin != "" {
		if _, err := c.ExecContext(ctx, c.onBegin, nil); err != nil {
			return nil, errors.Join(err, tx.Rollback())
		}
	}
	if c.watch != nil {
		return watchedTx{Tx: tx, watch: c.watch}, nil
	}
	return tx, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if err := c.watch.refused(); err != nil {
		return nil, err
	}
	cs, err := c.cached(ctx, query)
	if err != nil {
		return nil, c.watch.check(err)
	}
	var res driver.Result
	if cs == nil {
		res, err = c.sqliteConn.ExecContext(ctx, query, args)
	} else {
		res, err = cs.stmt.ExecContext(ctx, args)
	}
	return res, c.watch.check(err)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.watch.refused(); err != nil {
		return nil, err
	}
	cs, err := c.cached(ctx, query)
	if err != nil {
		return nil, c.watch.check(err)
	}
	if cs == nil {
		r, err := c.sqliteConn.QueryContext(ctx, query, args)
		if err != nil || c.watch == nil {
			return r, c.watch.check(err)
		}
		return watchedRows{Rows: r, watch: c.watch}, nil
	}
	r, err := cs.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, c.watch.check(err)
	}
	cs.busy = true
	return &cachedRows{Rows: r, cs: cs, watch: c.watch}, nil
}

// Close finalizes the cached statements, then closes the connection.
func (c *cachingConn) Close() error {
	var errs []error
	for e := c.lru.Front(); e != nil; e = e.Next() {
		cs := e.Value.(*cachedStmt)
		if !cs.busy {
			errs = append(errs, cs.stmt.Close())
		}
	}
	c.lru.Init()
	clear(c.byQuery)
	c.text = 0
	return errors.Join(append(errs, c.sqliteConn.Close())...)
}

// watchedRows are a watched connection's: a statement steps as its rows
// are read, so a write (RETURNING) or a sync may fail in Next.
type watchedRows struct {
	driver.Rows
	watch *diskWatch
}

func (r watchedRows) Next(dest []driver.Value) error { return r.watch.check(r.Rows.Next(dest)) }

// cachedRows frees its statement for the next query when closed.
type cachedRows struct {
	driver.Rows
	cs     *cachedStmt
	watch  *diskWatch
	closed bool
}

func (r *cachedRows) Next(dest []driver.Value) error { return r.watch.check(r.Rows.Next(dest)) }

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if !r.closed {
		r.closed = true
		r.cs.busy = false
		if r.cs.closeAfter {
			err = errors.Join(err, r.cs.stmt.Close())
		}
	}
	return err
}
