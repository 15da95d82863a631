package admin

import (
	"strings"
	"sync"
	"time"
)

// loginThrottle slows password guessing: after maxFails wrong passwords for
// one email within window, that email's logins are refused (429) until the
// window has passed since the first failure. It is per process and bounded.
type loginThrottle struct {
	mu    sync.Mutex
	fails map[string]*failures
}

type failures struct {
	n     int
	first time.Time
}

const (
	loginMaxFails = 10
	loginWindow   = 15 * time.Minute
	loginTracked  = 10000
)

// blocked reports whether email may not try now, and for how long.
func (l *loginThrottle) blocked(email string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.fails[strings.ToLower(strings.TrimSpace(email))]
	if f == nil || now.Sub(f.first) >= loginWindow || f.n < loginMaxFails {
		return 0, false
	}
	return loginWindow - now.Sub(f.first), true
}

func (l *loginThrottle) failed(email string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fails == nil || len(l.fails) >= loginTracked {
		l.fails = map[string]*failures{}
	}
	key := strings.ToLower(strings.TrimSpace(email))
	f := l.fails[key]
	if f == nil || now.Sub(f.first) >= loginWindow {
		f = &failures{first: now}
		l.fails[key] = f
	}
	f.n++
}

func (l *loginThrottle) succeeded(email string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, strings.ToLower(strings.TrimSpace(email)))
}
