package admin

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/signalhq/signal/internal/crypt"
	"github.com/signalhq/signal/internal/store/sqlite"
	"github.com/signalhq/signal/internal/token"
)

// throttleBundle drives the login handler directly, so each request can
// come from its own source address.
type throttleBundle struct {
	api *Server
	now *time.Time
}

func setupThrottle(t *testing.T) *throttleBundle {
	t.Helper()
	key, _ := crypt.NewKey()
	kb, _ := crypt.ParseKey(key)
	box, _ := crypt.NewBox(kb)
	db, err := sqlite.Open(context.Background(), sqlite.Options{Path: t.TempDir() + "/signal.db", Cipher: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	b := &throttleBundle{now: &now}
	clock := func() time.Time { return *b.now }
	signer, _ := token.NewSigner([]byte(strings.Repeat("s", 32)), clock)
	if _, err := Bootstrap(context.Background(), db, BootstrapParams{Email: "admin@example.com", Password: testPassword, Now: clock, Cost: bcrypt.MinCost}); err != nil {
		t.Fatal(err)
	}
	b.api = New(Config{}, Deps{Store: db, Signer: signer, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clock})
	return b
}

// login posts a login from source and returns the answer.
func (b *throttleBundle) login(t *testing.T, source, email, password string) *httptest.ResponseRecorder {
	t.Helper()
	body := `{"email":"` + email + `","password":"` + password + `"}`
	req := httptest.NewRequest("POST", "/v1/admin/auth/login", strings.NewReader(body))
	req.RemoteAddr = source + ":40000"
	w := httptest.NewRecorder()
	b.api.ServeHTTP(w, req)
	return w
}

func TestLoginThrottlePerSource(t *testing.T) {
	t.Parallel()
	const attacker, owner = "203.0.113.7", "198.51.100.20"
	tests := []struct {
		name         string
		wrongFrom    []string // one wrong password from each
		source       string   // then the right password from here
		want         int
		wantRetryHdr bool
	}{
		{name: "the guesser's own address is locked out", wrongFrom: repeat(attacker, loginMaxFails), source: attacker, want: http.StatusTooManyRequests, wantRetryHdr: true},
		{name: "the owner still signs in from elsewhere", wrongFrom: repeat(attacker, loginMaxFails), source: owner, want: http.StatusOK},
		{name: "nine wrong passwords do not lock", wrongFrom: repeat(attacker, loginMaxFails-1), source: attacker, want: http.StatusOK},
		{name: "a guesser spread over many addresses hits the per-email cap", wrongFrom: spread(loginMaxFailsPerEmail), source: owner, want: http.StatusTooManyRequests, wantRetryHdr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupThrottle(t)
			for i, src := range tt.wrongFrom {
				if w := b.login(t, src, "admin@example.com", "wrong-password"); w.Code != http.StatusUnauthorized {
					t.Fatalf("wrong password %d from %s: %d %s", i, src, w.Code, w.Body)
				}
			}
			w := b.login(t, tt.source, "Admin@Example.com", testPassword)
			if w.Code != tt.want || (w.Header().Get("Retry-After") != "") != tt.wantRetryHdr {
				t.Fatalf("right password from %s: %d (Retry-After %q) %s, want %d", tt.source, w.Code, w.Header().Get("Retry-After"), w.Body, tt.want)
			}
			*b.now = b.now.Add(loginWindow)
			if w := b.login(t, tt.source, "admin@example.com", testPassword); w.Code != http.StatusOK {
				t.Fatalf("after the window: %d", w.Code)
			}
		})
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// spread gives n addresses that each stay under the per-source limit.
func spread(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "192.0.2." + strconv.Itoa(i/(loginMaxFails-1)+1)
	}
	return out
}

func TestLoginRefusesOverlongEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		email string
		want  int
	}{
		{name: "254 bytes is an email", email: strings.Repeat("a", 242) + "@example.com", want: http.StatusUnauthorized},
		{name: "255 bytes is not", email: strings.Repeat("a", 243) + "@example.com", want: http.StatusBadRequest},
		{name: "a megabyte is refused before decoding", email: strings.Repeat("a", 1<<20-100), want: http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupThrottle(t)
			w := b.login(t, "203.0.113.7", tt.email, "wrong-password")
			if w.Code != tt.want {
				t.Fatalf("login: %d %s, want %d", w.Code, w.Body, tt.want)
			}
			pairs, emails := b.api.logins.tracked()
			if tt.want == http.StatusBadRequest && !strings.Contains(w.Body.String(), `"field":"email"`) {
				t.Fatalf("answer %s: want field email", w.Body)
			}
			if tt.want != http.StatusUnauthorized && pairs+emails != 0 {
				t.Fatalf("%d+%d counters after a refused login, want none", pairs, emails)
			}
		})
	}
}

// TestLoginThrottleBounded floods failures for made-up emails: the tables
// stay at loginTracked entries and the counter of a guess at the real admin
// survives (only the oldest entries go).
func TestLoginThrottleBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		flood  int
		locked bool
	}{
		{name: "the table fills up", flood: loginTracked - 3, locked: true},
		{name: "the table overflows twice", flood: 2 * loginTracked, locked: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var l loginThrottle
			now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
			l.failed("old@example.com", "192.0.2.1", now) // the oldest entry
			for range loginMaxFails {
				l.failed("admin@example.com", "203.0.113.7", now.Add(time.Second))
			}
			for i := range tt.flood {
				l.failed("x"+strconv.Itoa(i)+"@example.com", "192.0.2.9", now.Add(2*time.Second))
			}
			pairs, emails := l.tracked()
			if pairs > loginTracked || emails > loginTracked {
				t.Fatalf("%d pair and %d email counters, want at most %d", pairs, emails, loginTracked)
			}
			if _, locked := l.blocked("admin@example.com", "203.0.113.7", now.Add(3*time.Second)); locked != tt.locked {
				t.Fatalf("admin locked = %v, want %v (evicting the oldest only)", locked, tt.locked)
			}
			if tt.locked {
				// Filling the last free slots and one more evicts old@ only.
				l.failed("y1@example.com", "192.0.2.9", now.Add(2*time.Second))
				l.failed("y2@example.com", "192.0.2.9", now.Add(2*time.Second))
				if _, locked := l.blocked("admin@example.com", "203.0.113.7", now.Add(3*time.Second)); !locked {
					t.Fatal("a full table wiped the admin's counter")
				}
			}
		})
	}
}

// TestLoginHashingCapped holds every hashing slot: a login then waits
// loginHashWait and is answered 503 with Retry-After, doing no bcrypt.
func TestLoginHashingCapped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		held int
		want int
	}{
		{name: "a free slot", held: loginHashers - 1, want: http.StatusOK},
		{name: "every slot busy", held: loginHashers, want: http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupThrottle(t)
			for range tt.held {
				if !b.api.logins.acquire(context.Background()) {
					t.Fatal("could not take a slot")
				}
			}
			start := time.Now()
			w := b.login(t, "198.51.100.20", "admin@example.com", testPassword)
			if w.Code != tt.want {
				t.Fatalf("login: %d %s, want %d", w.Code, w.Body, tt.want)
			}
			if tt.want == http.StatusServiceUnavailable {
				if w.Header().Get("Retry-After") == "" || time.Since(start) < loginHashWait/2 {
					t.Fatalf("503 after %v with Retry-After %q: want a wait and a Retry-After", time.Since(start), w.Header().Get("Retry-After"))
				}
			}
		})
	}
}
