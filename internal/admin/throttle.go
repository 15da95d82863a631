package admin

import (
	"container/list"
	"context"
	"crypto/sha256"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Login throttling. The login route is public, so everything here is sized
// by what an attacker can send, not by how many users there are:
//
//   - a login body over maxLoginBody (8 KB) is refused (413) before it is
//     decoded, and an email longer than maxEmailLen is refused (400) before
//     any lookup, hashing or counting (RFC 5321 caps a forward path at 256
//     octets with its brackets, so 254);
//   - counters are keyed by a SHA-256 of the lower-cased email (and of the
//     email plus the source address), a fixed 32 bytes whatever was sent;
//   - each counter table holds at most loginTracked entries (about 100 bytes
//     each: ~1 MB per table); when one is full its oldest entry is evicted,
//     never the whole table, so flooding made-up emails cannot reset the
//     counter of someone guessing the real admin's password;
//   - wrong passwords are counted per email and source address
//     (loginMaxFails per loginWindow): a guesser locks out only its own
//     address, and the owner can still sign in from elsewhere;
//   - a looser cap per email across all sources (loginMaxFailsPerEmail per
//     loginWindow) bounds a guesser spread over many addresses, at the cost
//     that such a guesser can lock that email out everywhere until the
//     window passes;
//   - at most loginHashers bcrypt comparisons run at once (half the CPUs,
//     at least one): a login waits up to loginHashWait for a slot, else is
//     answered 503 with Retry-After, so a flood of logins cannot take the
//     CPU from the gateway.
const (
	maxLoginBody          = 8 << 10
	maxEmailLen           = 254
	loginMaxFails         = 10
	loginMaxFailsPerEmail = 100
	loginWindow           = 15 * time.Minute
	loginTracked          = 10000
	loginHashWait         = time.Second
)

var loginHashers = max(1, runtime.GOMAXPROCS(0)/2)

// loginThrottle slows password guessing; see the constants above. The zero
// value is ready to use.
type loginThrottle struct {
	mu     sync.Mutex
	pairs  failTable // per email and source address
	emails failTable // per email, any source
	once   sync.Once
	slots  chan struct{}
}

// blocked reports whether email may not try now from source, and for how
// long.
func (l *loginThrottle) blocked(email, source string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	wait, ok := l.pairs.blocked(pairKey(email, source), loginMaxFails, now)
	if w, o := l.emails.blocked(emailKey(email), loginMaxFailsPerEmail, now); o && w > wait {
		wait, ok = w, true
	}
	return wait, ok
}

// failed counts a wrong password for email from source.
func (l *loginThrottle) failed(email, source string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pairs.add(pairKey(email, source), now)
	l.emails.add(emailKey(email), now)
}

// succeeded forgets the failures of email from source. The per-email count
// stays: a right password from one place says nothing about guesses from
// others.
func (l *loginThrottle) succeeded(email, source string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pairs.remove(pairKey(email, source))
}

// acquire takes one of the loginHashers password-hashing slots, waiting at
// most loginHashWait (or until ctx ends). It reports whether it got one;
// the caller then calls release.
func (l *loginThrottle) acquire(ctx context.Context) bool {
	l.once.Do(func() { l.slots = make(chan struct{}, loginHashers) })
	select {
	case l.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(loginHashWait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

func (l *loginThrottle) release() { <-l.slots }

// tracked returns how many counters each table holds (for tests).
func (l *loginThrottle) tracked() (pairs, emails int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pairs.m), len(l.emails.m)
}

func normEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func emailKey(email string) [32]byte { return sha256.Sum256([]byte("e\x00" + normEmail(email))) }

func pairKey(email, source string) [32]byte {
	return sha256.Sum256([]byte("p\x00" + normEmail(email) + "\x00" + source))
}

// failTable counts failures per key within loginWindow, at most
// loginTracked keys, evicting the oldest (by first failure) when full.
type failTable struct {
	m     map[[32]byte]*list.Element
	order list.List // of *failures, oldest first
}

type failures struct {
	key   [32]byte
	n     int
	first time.Time
}

func (t *failTable) blocked(key [32]byte, max int, now time.Time) (time.Duration, bool) {
	e := t.m[key]
	if e == nil {
		return 0, false
	}
	f := e.Value.(*failures)
	if now.Sub(f.first) >= loginWindow || f.n < max {
		return 0, false
	}
	return loginWindow - now.Sub(f.first), true
}

func (t *failTable) add(key [32]byte, now time.Time) {
	if t.m == nil {
		t.m = map[[32]byte]*list.Element{}
	}
	if e := t.m[key]; e != nil {
		f := e.Value.(*failures)
		if now.Sub(f.first) < loginWindow {
			f.n++
			return
		}
		t.remove(key) // a new window: it becomes the newest entry
	}
	for len(t.m) >= loginTracked {
		t.remove(t.order.Front().Value.(*failures).key)
	}
	t.m[key] = t.order.PushBack(&failures{key: key, n: 1, first: now})
}

func (t *failTable) remove(key [32]byte) {
	if e := t.m[key]; e != nil {
		t.order.Remove(e)
		delete(t.m, key)
	}
}

// sourceAddr is the address a login came from: the connection's peer. No
// forwarding header is trusted, since anyone can set one.
func sourceAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
