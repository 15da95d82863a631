package delivery

import (
	"sync"
	"time"

	"github.com/signalhq/signal/internal/integration"
)

// keyLimiter paces the requests of one vendor API key: evenly spread at the
// key's rate (so a fixed window on the vendor's side is never overrun), and
// stopped outright while the vendor says the window is spent.
type keyLimiter struct {
	mu sync.Mutex
	// interval between two requests, from the per-minute limit.
	interval time.Duration
	// next is the earliest time the next request may start.
	next time.Time
	// blockedUntil holds every request (window spent, or 429).
	blockedUntil time.Time
	// remaining is the vendor's count of requests left in its window
	// (-1 when unknown), and windowEnd when that window resets.
	remaining int
	windowEnd time.Time
	// limit is the vendor's requests per window (0 until it says), and
	// window that window's length.
	limit  int
	window time.Duration
	// used counts the slots taken per second (health's used_last_minute).
	used usage
}

func newKeyLimiter(perMinute int) *keyLimiter {
	l := &keyLimiter{remaining: -1}
	l.setRate(perMinute)
	return l
}

func (l *keyLimiter) setRate(perMinute int) {
	if perMinute <= 0 {
		perMinute = 400
	}
	l.interval = time.Minute / time.Duration(perMinute)
}

// reserve takes up to n request slots starting from now and returns how
// many it took and, when it took none, how long to wait before asking
// again. Slots are spread interval apart; a burst never goes beyond what
// the vendor said remains in its window.
func (l *keyLimiter) reserve(now time.Time, n int) (int, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.blockedUntil) {
		return 0, l.blockedUntil.Sub(now)
	}
	if l.remaining >= 0 && now.After(l.windowEnd) {
		if l.limit > 0 && now.Before(l.windowEnd.Add(l.window)) {
			// The next window: a full budget, counted from its start, so
			// that the vendor's answers about it (which miss the requests
			// still in flight) only ever lower the count.
			l.remaining, l.windowEnd = l.limit, l.windowEnd.Add(l.window)
		} else {
			l.remaining = -1 // the vendor's count is stale
		}
	}
	if l.next.Before(now) {
		l.next = now
	}
	// Slots due within the burst allowance (n intervals, at most a
	// second) may start now; the rest wait.
	horizon := now.Add(min(l.interval*time.Duration(n), time.Second))
	took := 0
	for took < n && (!l.next.After(now) || l.next.Before(horizon)) {
		if l.remaining == 0 {
			break
		}
		if l.remaining > 0 {
			l.remaining--
		}
		l.next = l.next.Add(l.interval)
		took++
	}
	if took > 0 {
		l.used.add(now, took)
		return took, 0
	}
	if l.remaining == 0 {
		return 0, max(l.windowEnd.Sub(now), 10*time.Millisecond)
	}
	return 0, l.next.Sub(now)
}

// observe learns from the vendor's rate-limit headers.
func (l *keyLimiter) observe(now time.Time, rl *integration.RateLimit) {
	if rl == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	window := rl.Window
	if window <= 0 {
		window = time.Minute
	}
	if rl.Limit > 0 {
		l.interval = window / time.Duration(rl.Limit)
		l.limit, l.window = rl.Limit, window
	}
	if rl.Reset > 0 {
		end := now.Add(rl.Reset)
		switch d := end.Sub(l.windowEnd); {
		case l.remaining < 0 || !now.Before(l.windowEnd) || d >= window/2:
			// A new window: believe the vendor.
			l.remaining, l.windowEnd = rl.Remaining, end
		case d > -window/2:
			// The window already known: keep the lower count. Answers come
			// back out of order, and requests reserved since (in flight in
			// other rounds, or by other integrations with the key) are not
			// in the vendor's count yet.
			l.remaining = min(l.remaining, rl.Remaining)
			if end.After(l.windowEnd) {
				l.windowEnd = end
			}
		default:
			// A late answer about a window already over: stale.
			return
		}
		if rl.Remaining <= 0 {
			l.blockedUntil = l.windowEnd
		}
	}
}

// block holds every request until now+d (a 429).
func (l *keyLimiter) block(now time.Time, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := now.Add(d); until.After(l.blockedUntil) {
		l.blockedUntil = until
	}
}

// limiters keeps one keyLimiter per API key (by keyed hash), shared by every
// integration using the key: the vendor counts per key. Bound: one entry per
// API key an installed integration has used since start (keys are set by
// admins, never by gateway input), ~200 bytes each.
type limiters struct {
	mu sync.Mutex
	m  map[string]*keyLimiter
}

func (ls *limiters) get(key string, perMinute int) *keyLimiter {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.m == nil {
		ls.m = map[string]*keyLimiter{}
	}
	l, ok := ls.m[key]
	if !ok {
		l = newKeyLimiter(perMinute)
		ls.m[key] = l
	}
	return l
}

// refund gives back n slots reserved but not used.
func (l *keyLimiter) refund(n int) {
	if n <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.next = l.next.Add(-l.interval * time.Duration(n))
	l.used.undo(n)
	if l.remaining >= 0 {
		l.remaining += n
		if l.limit > 0 {
			// Reserved in a window that has reset since.
			l.remaining = min(l.remaining, l.limit)
		}
	}
}
