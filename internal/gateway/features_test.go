package gateway

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func TestSignedEvents(t *testing.T) {
	t.Parallel()
	body := `{"batch":[{"type":"track","event":"Order Completed","userId":"u1"},{"type":"identify","userId":"u1"}]}`
	single := `{"type":"track","event":"Order Completed","userId":"u1"}`
	tests := []struct {
		name   string
		body   string
		ts     func(now time.Time) string
		sig    func(ts, body string) string
		status int
		stored int
		msg    string
	}{
		{"batch", body, nowMS(0), func(ts, b string) string { return sign(testSecret, ts, []byte(b)) }, 200, 2, ""},
		{"single", single, nowMS(0), func(ts, b string) string { return sign(testSecret, ts, []byte(b)) }, 200, 1, ""},
		{"single invalid is a 400", `{"type":"track","event":"A"}`, nowMS(0), func(ts, b string) string { return sign(testSecret, ts, []byte(b)) }, 400, 0, "userId"},
		{"4 min skew", single, nowMS(-4 * time.Minute), func(ts, b string) string { return sign(testSecret, ts, []byte(b)) }, 200, 1, ""},
		{"6 min old", single, nowMS(-6 * time.Minute), func(ts, b string) string { return sign(testSecret, ts, []byte(b)) }, 401, 0, "away from the server's clock"},
		{"6 min ahead", single, nowMS(6 * time.Minute), func(ts, b string) string { return sign(testSecret, ts, []byte(b)) }, 401, 0, "away from the server's clock"},
		{"wrong secret", single, nowMS(0), func(ts, b string) string { return sign("other", ts, []byte(b)) }, 401, 0, "does not match"},
		{"tampered body", single, nowMS(0), func(ts, b string) string { return sign(testSecret, ts, []byte(b+" ")) }, 401, 0, "does not match"},
		{"no prefix", single, nowMS(0), func(ts, b string) string { return strings.TrimPrefix(sign(testSecret, ts, []byte(b)), "sha256=") }, 401, 0, "sha256="},
		{"bad timestamp", single, func(time.Time) string { return "soon" }, func(ts, b string) string { return sign(testSecret, ts, []byte(b)) }, 401, 0, "milliseconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ts := tt.ts(b.now)
			w := b.do(t, req{path: "/v1/events", body: tt.body, header: map[string]string{
				"Authorization": "Bearer " + testKey, "X-Timestamp": ts, "X-Signature": tt.sig(ts, tt.body)}})
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.msg != "" && !strings.Contains(decodeErr(t, w).Error.Message, tt.msg) {
				t.Fatalf("message %s does not say %q", w.Body, tt.msg)
			}
			if n := len(b.store.stored()); n != tt.stored {
				t.Fatalf("stored %d, want %d", n, tt.stored)
			}
		})
	}
}

func nowMS(d time.Duration) func(time.Time) string {
	return func(now time.Time) string { return strconv.FormatInt(now.Add(d).UnixMilli(), 10) }
}

func gz(t *testing.T, s string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(s))
	zw.Close()
	return buf.String()
}

func TestGzipBodies(t *testing.T) {
	t.Parallel()
	body := `{"batch":[{"type":"track","event":"A","userId":"u"}]}`
	tests := []struct {
		name   string
		header map[string]string
		body   string
		status int
	}{
		{"labelled gzip", map[string]string{"Content-Encoding": "gzip", "Content-Type": "application/json"}, gz(t, body), 200},
		{"rudderstack mislabel", map[string]string{"Content-Encoding": "gzip", "Content-Type": "application/x-www-form-urlencoded"}, gz(t, body), 200},
		{"unlabelled gzip", map[string]string{"Content-Type": "text/plain"}, gz(t, body), 200},
		{"json as text/plain", map[string]string{"Content-Type": "text/plain"}, body, 200},
		{"labelled gzip, not gzip", map[string]string{"Content-Encoding": "gzip"}, body, 400},
		{"gzip bomb", map[string]string{"Content-Encoding": "gzip"}, gz(t, `{"batch":[{"type":"page","userId":"u","properties":{"x":"`+strings.Repeat("a", 1<<20)+`"}}]}`), 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			h := bearer(testKey)
			for k, v := range tt.header {
				h[k] = v
			}
			w := b.do(t, req{path: "/v1/batch", body: tt.body, header: h})
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
		})
	}
}

func TestTimestamps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want string
	}{
		{"timestamp wins", `{"event":"A","userId":"u","timestamp":"2026-11-27T09:00:00Z","originalTimestamp":"2026-01-01T00:00:00Z"}`, "2026-11-27T09:00:00Z"},
		{"skew corrected", `{"event":"A","userId":"u","originalTimestamp":"2026-11-27T09:59:00Z","sentAt":"2026-11-27T10:00:30Z"}`, "2026-11-27T09:58:30Z"},
		{"original without sentAt", `{"event":"A","userId":"u","originalTimestamp":"2026-11-27T09:59:00+01:00"}`, "2026-11-27T08:59:00Z"},
		{"receipt time", `{"event":"A","userId":"u"}`, "2026-11-27T10:00:00Z"},
		{"batch sentAt", `{"sentAt":"2026-11-27T10:00:30Z","batch":[{"type":"track","event":"A","userId":"u","originalTimestamp":"2026-11-27T09:59:00Z"}]}`, "2026-11-27T09:58:30Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			path := "/v1/t"
			if strings.Contains(tt.body, "batch") {
				path = "/v1/batch"
			}
			if w := b.do(t, req{path: path, body: tt.body, header: bearer(testKey)}); w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if got := b.store.stored()[0].Timestamp.Format(time.RFC3339); got != tt.want {
				t.Fatalf("timestamp %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMessageIDKeptOrGenerated(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.do(t, req{path: "/v1/t", body: `{"event":"A","userId":"u","messageId":"m-1"}`, header: bearer(testKey)})
	b.do(t, req{path: "/v1/t", body: `{"event":"A","userId":"u"}`, header: bearer(testKey)})
	got := b.store.stored()
	if got[0].MessageID != "m-1" || len(got[1].MessageID) != 36 {
		t.Fatalf("message ids %q %q", got[0].MessageID, got[1].MessageID)
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		origins   []string
		method    string
		origin    string
		status    int
		allowHdr  string
		allowCred string
	}{
		{"allowed preflight", nil, http.MethodOptions, "https://shop.example.com", 204, "https://shop.example.com", "true"},
		{"any origin", []string{"*"}, http.MethodOptions, "https://other.example", 204, "https://other.example", "true"},
		{"refused preflight", nil, http.MethodOptions, "https://evil.example", 403, "", ""},
		{"allowed post", nil, http.MethodPost, "https://shop.example.com", 200, "https://shop.example.com", "true"},
		{"refused origin post", nil, http.MethodPost, "https://evil.example", 200, "", ""},
		// A sandboxed iframe or file: page sends Origin: null; echoing it
		// with credentials would let any such document read answers.
		{"any origin, null preflight", []string{"*"}, http.MethodOptions, "null", 403, "", ""},
		{"any origin, null post", []string{"*"}, http.MethodPost, "null", 200, "", ""},
		{"any origin, NULL post", []string{"*"}, http.MethodPost, "NULL", 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(c *Config) {
				if tt.origins != nil {
					c.CORSOrigins = tt.origins
				}
			})
			h := bearer(testKey)
			h["Origin"] = tt.origin
			h["Access-Control-Request-Method"] = "POST"
			w := b.do(t, req{method: tt.method, path: "/v1/t", body: `{"event":"A","userId":"u"}`, header: h})
			if w.Code != tt.status || w.Header().Get("Access-Control-Allow-Origin") != tt.allowHdr ||
				w.Header().Get("Access-Control-Allow-Credentials") != tt.allowCred {
				t.Fatalf("status %d, headers %v", w.Code, w.Header())
			}
		})
	}
}

func TestVisitorCookie(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// A new browser gets a cookie holding its anonymousId.
	w := b.do(t, req{path: "/v1/batch", header: bearer(testKey), body: `{"batch":[{"type":"page","anonymousId":"anon-1"}]}`})
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	c := w.Result().Cookies()
	if len(c) != 1 || c[0].Name != "_dfid" || c[0].Value != "anon-1" || !c[0].HttpOnly || !c[0].Secure || c[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("cookies %+v", c)
	}
	// A known browser's cookie fills a message without ids.
	h := bearer(testKey)
	h["Cookie"] = "_dfid=visitor-1"
	w = b.do(t, req{path: "/v1/batch", header: h, body: `{"batch":[{"type":"page"}]}`})
	if w.Code != 200 || len(w.Result().Cookies()) != 0 {
		t.Fatalf("known visitor: status %d cookies %v", w.Code, w.Result().Cookies())
	}
	ev := b.store.stored()[1]
	if ev.AnonymousID != "visitor-1" || !bytes.Contains(ev.Payload, []byte(`"anonymousId":"visitor-1"`)) {
		t.Fatalf("event %+v payload %s does not carry the cookie id", ev, ev.Payload)
	}
}

// TestVisitorCookieReplacesAnEmptyID: a message whose anonymousId is null
// or empty (under any spelling of the key) is stored with the cookie's id
// in its place, not beside it, where the processor, reading the last
// copy of a key, would find no id.
func TestVisitorCookieReplacesAnEmptyID(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"type":"page"}`,
		`{"type":"page","anonymousId":null}`,
		`{"type":"page","anonymousId":""}`,
		`{"type":"page","anonymous\u0049d":null,"name":"Home"}`,
		`{"anonymousId":null,"type":"page","anonymousId":""}`,
	} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			h := bearer(testKey)
			h["Cookie"] = "_dfid=visitor-1"
			if w := b.do(t, req{path: "/v1/p", header: h, body: body}); w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			ev := b.store.stored()[0]
			var m map[string]any
			if err := json.Unmarshal(ev.Payload, &m); err != nil || m["anonymousId"] != "visitor-1" || bytes.Count(ev.Payload, []byte("anonymous")) != 1 {
				t.Fatalf("payload %s (%v): want the cookie's id as its one anonymousId", ev.Payload, err)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.RateLimitRPS = 1 })
	var last *httptest.ResponseRecorder
	for i := 0; i < 5; i++ {
		last = b.do(t, req{path: "/v1/t", body: `{"event":"A","userId":"u"}`, header: bearer(testKey)})
	}
	if last.Code != http.StatusTooManyRequests || last.Header().Get("Retry-After") == "" || decodeErr(t, last).Error.Code != "RATE_LIMITED" {
		t.Fatalf("status %d, Retry-After %q", last.Code, last.Header().Get("Retry-After"))
	}
}

func TestStoreFailureIsNotAcknowledged(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.store.fail = errors.New("disk full")
	w := b.do(t, req{path: "/v1/t", body: `{"event":"A","userId":"u"}`, header: bearer(testKey)})
	if w.Code != http.StatusServiceUnavailable || decodeErr(t, w).Error.Code != "STORAGE_UNAVAILABLE" {
		t.Fatalf("status %d body %s", w.Code, w.Body)
	}
}

func TestDataflyJS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.do(t, req{method: http.MethodGet, path: "/d.js"})
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/javascript") || !strings.Contains(w.Body.String(), "data-pipeline-key") {
		t.Fatalf("status %d type %s", w.Code, w.Header().Get("Content-Type"))
	}
}

// TestClientGoneIsNotAnError: a client that leaves while its events are
// being stored gets 499 (nobody reads it) and a debug line, not a 5xx and
// an error line; the same store error for a client still there is one.
func TestClientGoneIsNotAnError(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		gone      bool
		status    int
		wantError bool
	}{
		{"client gone", true, 499, false},
		{"client waiting", false, http.StatusServiceUnavailable, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			st := &fakeStore{fail: fmt.Errorf("group commit: %w", context.Canceled)}
			srv := New(DefaultConfig(), st, st, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), time.Now)
			ctx, cancel := context.WithCancel(context.Background())
			if tt.gone {
				cancel()
			} else {
				defer cancel()
			}
			hr := httptest.NewRequest(http.MethodPost, "/v1/t", strings.NewReader(`{"event":"A","userId":"u"}`)).WithContext(ctx)
			hr.Header.Set("Authorization", "Bearer "+testKey)
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, hr)
			if w.Code != tt.status || strings.Contains(logs.String(), "level=ERROR") != tt.wantError {
				t.Fatalf("status %d, logs:\n%s\nwant %d, an error line: %v", w.Code, logs.String(), tt.status, tt.wantError)
			}
		})
	}
}
