package main

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/signalhq/signal/internal/gateway"
	"github.com/signalhq/signal/internal/store"
)

// Pass sizes on the embedded database: small passes while the gateway
// appends, large ones once it is quiet (a pass costs less per event). They
// were chosen when the processor and the gateway shared one writer (the
// commits waited less behind small passes); with the event log in a file
// of its own they share the two cores instead, and small passes still
// gave the best batches. docs/benchmarks.md, "Session 5: the pass size
// follows the gateway" and "Session 6", has the measurements.
const (
	sqliteBatch     = 1000
	sqliteBusyBatch = 150
	// ingestQuiet: the gateway counts as busy while it began or finished
	// an append less than this ago.
	ingestQuiet = 100 * time.Millisecond
)

// ingestActivity is the processor's pipeline.IngestGauge. It is marked when
// the gateway starts an append, not only when a commit ends: an append
// waiting longer than ingestQuiet for its commit (a slow disk, a long
// erasure holding the log) must still count as busy. Times are on the
// monotonic clock (since start), so a wall-clock step changes nothing.
type ingestActivity struct {
	start time.Time
	last  atomic.Int64 // time.Since(start) of the last mark, +1 (0: none yet)
}

func newIngestActivity() *ingestActivity { return &ingestActivity{start: time.Now()} }

func (a *ingestActivity) mark() { a.last.Store(int64(time.Since(a.start)) + 1) }

// IngestActive reports whether the gateway appended within ingestQuiet.
func (a *ingestActivity) IngestActive() bool { return a.activeAt(time.Since(a.start)) }

func (a *ingestActivity) activeAt(now time.Duration) bool {
	last := a.last.Load()
	return last != 0 && now-time.Duration(last-1) < ingestQuiet
}

// markingAppender is the gateway's store, marking the activity at the start
// and at the end of every append.
type markingAppender struct {
	gateway.EventAppender
	activity *ingestActivity
}

func (m markingAppender) AppendEvents(ctx context.Context, p store.AppendEventsParams) error {
	m.activity.mark()
	defer m.activity.mark()
	return m.EventAppender.AppendEvents(ctx, p)
}
