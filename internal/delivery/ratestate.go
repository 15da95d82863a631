package delivery

import (
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// usage counts the requests sent with a key per second over the last
// minute (a ring of 60 one-second buckets): what an integration's health
// page shows as used_last_minute.
type usage struct {
	sec [60]int64
	n   [60]int
}

func (u *usage) add(now time.Time, n int) {
	s := now.Unix()
	i := s % 60
	if u.sec[i] != s {
		u.sec[i], u.n[i] = s, 0
	}
	u.n[i] += n
}

func (u *usage) lastMinute(now time.Time) int {
	s, total := now.Unix(), 0
	for i := range u.sec {
		if u.sec[i] > s-60 && u.sec[i] <= s {
			total += u.n[i]
		}
	}
	return total
}

// state reports the limiter as Live Events shows it: the vendor's limit
// and remaining count when it said them, else the configured rate and what
// this node's use leaves of it.
func (l *keyLimiter) state(now time.Time) signal.RateLimitState {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := signal.RateLimitState{UsedLastMinute: l.used.lastMinute(now)}
	if l.limit > 0 && l.window > 0 {
		// A learned window is the longest Reset seen: a whole second
		// less a request's latency.
		st.Limit, st.WindowSeconds = l.limit, int(l.window.Round(time.Second)/time.Second)
	} else {
		st.Limit, st.WindowSeconds = int(time.Minute/l.interval), 60
	}
	switch {
	case l.remaining >= 0 && now.Before(l.windowEnd):
		st.Remaining = l.remaining
	default:
		st.Remaining = max(st.Limit-st.UsedLastMinute, 0)
	}
	if now.Before(l.blockedUntil) {
		st.Remaining = 0
	}
	return st
}

// RateLimit reports the rate-limit state of the API key in's requests go
// out with, as this node's limiter knows it (false when the vendor is not
// known). Every integration with the same key shares it.
func (e *Engine) RateLimit(in *signal.Integration) (signal.RateLimitState, bool) {
	vendor, ok := e.vendors.Vendor(in.CatalogKey)
	if !ok {
		return signal.RateLimitState{}, false
	}
	return e.limiter(in, vendor).state(e.now()), true
}
