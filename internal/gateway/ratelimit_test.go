package gateway

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// TestPerSourceRateLimit: each client IP (IPv6 by /64) and each
// anonymousId has its own limit, a quarter of the pipeline's: a hammering
// source gets 429 while other sources still get through, and its refused
// requests use none of the pipeline's budget. The test clock stands still,
// so only the bursts count: pipeline 2×rps+1, a source 2×rps/4+1.
func TestPerSourceRateLimit(t *testing.T) {
	t.Parallel()
	type call struct{ ip, anon string }
	tests := []struct {
		name   string
		rps    float64
		hammer func(i int) call // 100 requests
		probes []call
		want   []int
	}{
		{"hammering IP refused, other IP served", 8,
			func(i int) call { return call{"203.0.113.7", "a" + strconv.Itoa(i)} },
			[]call{{"203.0.113.7", "fresh"}, {"198.51.100.1", "other"}}, []int{429, 200}},
		{"hammering anonymousId refused across IPs", 8,
			func(i int) call { return call{"10.0.0." + strconv.Itoa(i), "visitor-x"} },
			[]call{{"192.0.2.1", "visitor-x"}, {"192.0.2.1", "visitor-y"}}, []int{429, 200}},
		{"IPv6 limited by /64", 8,
			func(i int) call { return call{"2001:db8:1:2::" + strconv.Itoa(i), "a" + strconv.Itoa(i)} },
			[]call{{"2001:db8:1:2:ffff::1", "fresh"}, {"2001:db8:1:3::1", "other"}}, []int{429, 200}},
		// Pipeline burst 9, source burst 3: the hammerer spends 3; eight
		// other sources still find 6 tokens, then the pipeline is spent.
		{"refused requests spend no pipeline budget", 4,
			func(i int) call { return call{"203.0.113.7", "a"} },
			[]call{{"198.51.100.1", "b"}, {"198.51.100.2", "c"}, {"198.51.100.3", "d"}, {"198.51.100.4", "e"},
				{"198.51.100.5", "f"}, {"198.51.100.6", "g"}, {"198.51.100.7", "h"}},
			[]int{200, 200, 200, 200, 200, 200, 429}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(c *Config) { c.RateLimitRPS = tt.rps })
			send := func(c call) int {
				r := req{path: "/v1/t", body: `{"event":"A","anonymousId":"` + c.anon + `"}`, header: bearer(testKey)}
				return b.doFrom(t, r, c.ip).Code
			}
			refused := 0
			for i := 0; i < 100; i++ {
				if send(tt.hammer(i)) == http.StatusTooManyRequests {
					refused++
				}
			}
			if refused < 90 {
				t.Fatalf("the hammering source had %d of 100 requests refused", refused)
			}
			for i, p := range tt.probes {
				if got := send(p); got != tt.want[i] {
					t.Fatalf("probe %d %+v: status %d, want %d", i, p, got, tt.want[i])
				}
			}
		})
	}
}

// TestSignedRequestsSkipSourceLimits: a backend proving the signing secret
// is one IP sending everything; only the pipeline's limit applies to it.
func TestSignedRequestsSkipSourceLimits(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.RateLimitRPS = 8 })
	for i := 0; i < 17; i++ { // the pipeline's burst
		body := `{"type":"track","event":"A","userId":"u","messageId":"m` + strconv.Itoa(i) + `"}`
		r := req{path: "/v1/events", body: body, header: b.signed(t, body)}
		if w := b.doFrom(t, r, "203.0.113.9"); w.Code != 200 {
			t.Fatalf("signed request %d: status %d %s", i, w.Code, w.Body)
		}
	}
}

// doFrom sends r as if from the client at ip.
func (b *testBundle) doFrom(t *testing.T, r req, ip string) *httptest.ResponseRecorder {
	t.Helper()
	hr := httptest.NewRequest(http.MethodPost, r.path, strings.NewReader(r.body))
	hr.RemoteAddr = net.JoinHostPort(ip, "40000")
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	b.srv.ServeHTTP(w, hr)
	return w
}

// signed returns the headers of a request signed now with the test secret.
func (b *testBundle) signed(t *testing.T, body string) map[string]string {
	t.Helper()
	ts := strconv.FormatInt(b.now.UnixMilli(), 10)
	return map[string]string{"Authorization": "Bearer " + testKey, "X-Timestamp": ts, "X-Signature": sign(testSecret, ts, []byte(body))}
}

// TestSourceTableBounded: however many sources come, a table keeps at most
// its bound, forgetting the least recently seen first.
func TestSourceTableBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		max     int
		sources int
	}{
		{"under the bound", 100, 50},
		{"far over the bound", 100, 10000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tab := newSourceTable(1, tt.max)
			keep := tab.get(0)
			for i := 1; i <= tt.sources; i++ {
				tab.get(uint64(i))
				tab.get(0) // recently used: survives
				if len(tab.m) > tt.max || tab.order.Len() != len(tab.m) {
					t.Fatalf("after %d sources: map %d, list %d, bound %d", i, len(tab.m), tab.order.Len(), tt.max)
				}
			}
			if tab.get(0) != keep {
				t.Fatal("the most recently used source was forgotten")
			}
		})
	}
}

// TestClientIP: behind a trusted proxy (loopback and private addresses by
// default) the client is the rightmost X-Forwarded-For address the proxies
// did not add; a client that is not a trusted proxy cannot choose its IP
// with the header.
func TestClientIP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, remote, xff, want string
		trusted                 []string // nil: the defaults
	}{
		{"direct", "203.0.113.7", "", "203.0.113.7", nil},
		{"direct client forging the header", "203.0.113.7", "198.51.100.1", "203.0.113.7", nil},
		{"behind a private proxy", "10.0.0.2", "198.51.100.1", "198.51.100.1", nil},
		{"forged entry before the real client", "10.0.0.2", "1.2.3.4, 198.51.100.1", "198.51.100.1", nil},
		{"two proxies", "127.0.0.1", "198.51.100.1, 10.1.2.3", "198.51.100.1", nil},
		{"split headers", "127.0.0.1", "198.51.100.9|10.1.2.3", "198.51.100.9", nil},
		{"garbage entry stops the walk", "10.0.0.2", "198.51.100.1, bogus", "10.0.0.2", nil},
		{"only proxies", "10.0.0.2", "10.0.0.3", "10.0.0.3", nil},
		{"no proxies trusted", "10.0.0.2", "198.51.100.1", "10.0.0.2", []string{}},
		{"a public proxy trusted", "203.0.113.50", "198.51.100.1", "198.51.100.1", []string{"203.0.113.0/24"}},
		{"IPv6 client", "::1", "2001:db8::5", "2001:db8::5", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			trusted := DefaultConfig().TrustedProxies
			if tt.trusted != nil {
				var err error
				if trusted, err = ParsePrefixes(strings.Join(tt.trusted, ",")); err != nil {
					t.Fatal(err)
				}
			}
			r := httptest.NewRequest(http.MethodPost, "/v1/t", nil)
			r.RemoteAddr = net.JoinHostPort(tt.remote, "40000")
			for _, h := range strings.Split(tt.xff, "|") {
				if h != "" {
					r.Header.Add("X-Forwarded-For", h)
				}
			}
			got, ok := clientIP(r, trusted)
			if !ok || got.String() != tt.want {
				t.Fatalf("clientIP = %v %v, want %s", got, ok, tt.want)
			}
		})
	}
}
