package main

import (
	"sync/atomic"
	"time"
)

// Pass sizes on the embedded database, where the processor and the gateway
// share one writer: small passes while the gateway commits (its commits
// wait less behind them), large ones once it is quiet (a pass costs less
// per event). docs/benchmarks.md, "Pass size", has the measurements.
const (
	sqliteBatch     = 1000
	sqliteBusyBatch = 150
	// ingestQuiet: the gateway counts as committing while its last group
	// commit ended less than this ago.
	ingestQuiet = 100 * time.Millisecond
)

// ingestActivity is the processor's pipeline.IngestGauge, fed by the
// store's group commits.
type ingestActivity struct {
	last atomic.Int64 // unix nanoseconds of the last commit's end
}

func (a *ingestActivity) committed() { a.last.Store(time.Now().UnixNano()) }

// IngestActive reports whether a group commit ended within ingestQuiet.
func (a *ingestActivity) IngestActive() bool {
	return time.Since(time.Unix(0, a.last.Load())) < ingestQuiet
}
