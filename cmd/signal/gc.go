package main

import "runtime/debug"

// signal serve runs its garbage collector less often than Go's default
// (GOGC 100), under a soft memory limit (docs/decisions.md, "The garbage
// collector of signal serve"). Its live heap is small (tens of MB: bounded
// caches, a processor pass, group commits) while it allocates fast, so at
// GOGC 100 the collector ran several times a second under load and marking
// took 5–7% of the server's CPU, more with its write barriers and assists.
// GOGC 400 collects a quarter as often; the memory limit makes it collect
// sooner whenever the heap nears serveMemLimit, so a flood of hostile
// requests still finds a process well under 200 MB.
const (
	serveGOGC     = 400
	serveMemLimit = 160 << 20
)

// gcSettings returns the GC percent and memory limit signal serve sets,
// each -1 where the operator set it (GOGC, GOMEMLIMIT) and Go's own
// reading of it stands.
func gcSettings(getenv func(string) string) (percent int, limit int64) {
	percent, limit = serveGOGC, serveMemLimit
	if getenv("GOGC") != "" {
		percent = -1
	}
	if getenv("GOMEMLIMIT") != "" {
		limit = -1
	}
	return percent, limit
}

// tuneGC applies gcSettings to this process.
func tuneGC(getenv func(string) string) {
	percent, limit := gcSettings(getenv)
	if percent >= 0 {
		debug.SetGCPercent(percent)
	}
	if limit >= 0 {
		debug.SetMemoryLimit(limit)
	}
}
