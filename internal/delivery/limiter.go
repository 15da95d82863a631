package delivery

import (
	"sync"
	"time"

	"github.com/signalhq/signal/internal/integration"
)

// keyLimiter paces the requests of one vendor API key by what the vendor's
// rate-limit headers say: the requests Remaining in its window, spread over
// the time until the window Resets. Nothing assumes a minute: the window's
// length is learned from the answers (the longest Reset seen, unless the
// vendor states it), so a budget of 40 per 10 s is spent at 4/s, not at
// 40/min. Until the vendor has said anything, the catalog's per-minute rate
// applies. While the vendor says the window is spent (or answered 429) every
// request waits.
//
// A keyLimiter is this node's account of the budget. Nodes that share a
// database share one budget per key through a sharedBudget
// (limiter_shared.go), which keeps a keyLimiter as the local pacer.
type keyLimiter struct {
	mu sync.Mutex
	// interval between two requests before the vendor said anything (the
	// catalog's per-minute rate).
	interval time.Duration
	// next is the earliest time the next request may start.
	next time.Time
	// blockedUntil holds every request (window spent, or 429).
	blockedUntil time.Time
	// remaining is the vendor's count of requests left in its window, less
	// what was reserved since (-1 when unknown), and windowEnd when that
	// window resets.
	remaining int
	windowEnd time.Time
	// assumed: windowEnd was extrapolated (the last window's end plus the
	// window's length), not yet confirmed by an answer about it.
	assumed bool
	// confirmedEnd is the end of the last window an answer described, to
	// learn the window's length from two in a row.
	confirmedEnd time.Time
	// limit is the vendor's requests per window (0 until it says), and
	// window that window's length: stated by the vendor, else learned.
	limit  int
	window time.Duration
	// stated: the vendor states its window's length (RateLimit.Window);
	// otherwise window is the longest Reset seen.
	stated bool
	// used counts the slots taken per second (health's used_last_minute).
	used usage
	// share is how many nodes spend the key's budget (a sharedBudget's
	// row says; 0 or 1: this node alone): each paces by its share of it.
	share int
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

// pace is the interval to the slot after l.next: what remains of the
// window spread evenly over the time left in it (so the last request of a
// window goes just before it resets), else the vendor's limit over its
// window, else the configured rate. Catching up on a window left unspent
// goes at most twice the vendor's average rate: a vendor may also limit
// bursts without saying so (Klaviyo's one-second window), and 3,000 left
// in a 5 s tail would be 600 requests a second.
func (l *keyLimiter) pace() time.Duration {
	share := time.Duration(max(l.share, 1))
	switch {
	case l.remaining > 0 && l.next.Before(l.windowEnd):
		d := l.windowEnd.Sub(l.next) / time.Duration(l.remaining)
		if l.limit > 0 && l.window > 0 {
			d = max(d, l.window/time.Duration(2*l.limit))
		}
		return d * share
	case l.limit > 0 && l.window > 0:
		return l.window / time.Duration(l.limit) * share
	}
	return l.interval * share
}

// reserve takes up to n request slots starting from now and returns how
// many it took and, when it took none, how long to wait before asking
// again. Slots are spread by pace; a burst never goes beyond what the
// vendor said remains in its window.
func (l *keyLimiter) reserve(now time.Time, n int) (int, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.blockedUntil) {
		return 0, l.blockedUntil.Sub(now)
	}
	if l.remaining >= 0 && !now.Before(l.windowEnd) {
		if l.limit > 0 && l.window > 0 && now.Before(l.windowEnd.Add(l.window)) {
			// The next window: a full budget, counted from its start, so
			// that the vendor's answers about it (which miss the requests
			// still in flight) only ever lower the count.
			l.remaining, l.windowEnd, l.assumed = l.limit, l.windowEnd.Add(l.window), true
		} else {
			l.remaining = -1 // the vendor's count is stale
		}
	}
	if l.next.Before(now) {
		l.next = now
	}
	// Slots due within the burst allowance (n intervals, at most a
	// second) may start now; the rest wait. Not in a window only assumed:
	// if it began earlier here than at the vendor (the end read from
	// answers is early by a request's way there), a burst would land in
	// the old window; one request at a time until an answer confirms it.
	horizon := now.Add(min(l.pace()*time.Duration(n), time.Second))
	if l.assumed {
		horizon = now
	}
	took := 0
	for took < n && (!l.next.After(now) || l.next.Before(horizon)) {
		if l.remaining == 0 {
			break
		}
		step := l.pace()
		if l.remaining > 0 {
			l.remaining--
		}
		l.next = l.next.Add(step)
		took++
	}
	if took > 0 {
		return took, 0
	}
	if l.remaining == 0 {
		return 0, max(l.windowEnd.Sub(now), 10*time.Millisecond)
	}
	return 0, l.next.Sub(now)
}

// observe learns from the vendor's rate-limit headers in the answer to a
// request that started at sent. The vendor computed Reset when the request
// reached it, so sent+Reset is the last moment a request may start and
// still count in that window: reading it from when the answer came back
// would be late by the round trip, and the requests sent in that gap land
// in the next window uncounted.
func (l *keyLimiter) observe(sent time.Time, rl *integration.RateLimit) {
	now := sent
	if rl == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case rl.Window > 0:
		l.window, l.stated = rl.Window, true
	case !l.stated && rl.Reset > l.window:
		// The window is at least as long as any Reset the vendor gave:
		// the first answer of a window says (about) its whole length.
		l.window = rl.Reset
	}
	if rl.Limit > 0 {
		l.limit = rl.Limit
	}
	if rl.Reset <= 0 {
		return
	}
	window := l.window
	end := now.Add(rl.Reset)
	switch d := end.Sub(l.windowEnd); {
	case l.remaining < 0 || !now.Before(l.windowEnd) || d >= window/2 || (l.assumed && d > -window/2):
		// A new window, or the first answer about one assumed: believe
		// the vendor's end (an assumed one is the last end plus a learned
		// length). The slots reserved since an assumed window began were
		// sent in the vendor's new window, some still in flight and not
		// in its count: keep the lower count.
		if l.assumed {
			l.remaining = min(l.remaining, rl.Remaining)
		} else {
			l.remaining = rl.Remaining
		}
		l.learn(end)
		l.windowEnd, l.assumed = end, false
	case d > -window/2:
		// The window already known: keep the lower count, and the
		// earlier end. Answers come back out of order, and requests
		// reserved since (in flight in other rounds, or by other
		// integrations with the key) are not in the vendor's count yet.
		// Each answer's now+Reset is late by its own latency (and by the
		// rounding of a whole-second Reset): the earliest is the closest.
		l.remaining = min(l.remaining, rl.Remaining)
		if end.Before(l.windowEnd) {
			l.windowEnd = end
		}
	default:
		// A late answer about a window already over: stale.
		return
	}
	if rl.Remaining <= 0 && l.windowEnd.After(l.blockedUntil) {
		// Only ever later: a spent window's end must not cut short a
		// longer wait a 429 asked for.
		l.blockedUntil = l.windowEnd
	}
}

// learn notes that an answer described a window ending at end; two windows
// in a row give the window's length (more exactly than the longest Reset,
// which misses the first answer's latency) when the vendor does not say it.
func (l *keyLimiter) learn(end time.Time) {
	if gap := end.Sub(l.confirmedEnd); !l.stated && l.window > 0 && gap > l.window/2 && gap < l.window*3/2 {
		l.window = max(l.window, gap)
	}
	l.confirmedEnd = end
}

// block holds every request until now+d (a 429).
func (l *keyLimiter) block(now time.Time, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := now.Add(d); until.After(l.blockedUntil) {
		l.blockedUntil = until
	}
}

func (l *keyLimiter) held(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return max(l.blockedUntil.Sub(now), 0)
}

// limiters keeps one keyLimiter per API key (by keyed hash), shared by every
// integration using the key: the vendor counts per key. Bound: one entry per
// API key an installed integration has used since start (keys are set by
// admins, never by gateway input), ~200 bytes each.
type limiters struct {
	mu sync.Mutex
	m  map[string]*keyLimiter
	// budgets: the shared budgets over them, when nodes share the store.
	budgets map[string]*sharedBudget
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

// sent counts n requests going out now, for the health page's
// used_last_minute. Counted when sent, not when reserved: reservations are
// refunded later, by rounds that overlap, and a refund could not tell which
// second's count to take back.
func (l *keyLimiter) sent(now time.Time, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.used.add(now, n)
}

// refund gives back n slots reserved but not used.
func (l *keyLimiter) refund(n int) {
	if n <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.remaining >= 0 {
		l.remaining += n
		if l.limit > 0 {
			// Reserved in a window that has reset since.
			l.remaining = min(l.remaining, l.limit)
		}
	}
	l.next = l.next.Add(-l.pace() * time.Duration(n))
}
