package gateway

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

const (
	testKey    = "dk_live_testkey"
	testSecret = "whsec_testsecret"
)

// fakeStore is an in-memory event log and pipeline table.
type fakeStore struct {
	mu     sync.Mutex
	events []*signal.Event
	fail   error
}

func (f *fakeStore) AppendEvents(ctx context.Context, p store.AppendEventsParams) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	for _, e := range p.Events {
		e.Seq = int64(len(f.events) + 1)
		f.events = append(f.events, e)
	}
	return nil
}

func (f *fakeStore) GetPipeline(ctx context.Context, p store.GetPipelineParams) (*signal.Pipeline, error) {
	if p.Key == testKey {
		return &signal.Pipeline{ID: "pip_test", Key: testKey, SigningSecret: testSecret}, nil
	}
	return nil, signal.Errorf(signal.ENOTFOUND, "no pipeline")
}

func (f *fakeStore) stored() []*signal.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*signal.Event(nil), f.events...)
}

type testBundle struct {
	srv   *Server
	store *fakeStore
	now   time.Time
}

func setup(t *testing.T, mod ...func(*Config)) *testBundle {
	t.Helper()
	cfg := DefaultConfig()
	cfg.CORSOrigins = []string{"https://shop.example.com"}
	for _, m := range mod {
		m(&cfg)
	}
	st := &fakeStore{}
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	return &testBundle{srv: New(cfg, st, st, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return now }), store: st, now: now}
}

type req struct {
	method, path, body string
	header             map[string]string
}

func (b *testBundle) do(t *testing.T, r req) *httptest.ResponseRecorder {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodPost
	}
	hr := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	b.srv.ServeHTTP(w, hr)
	return w
}

func bearer(k string) map[string]string { return map[string]string{"Authorization": "Bearer " + k} }

func basic(k string) map[string]string {
	return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(k+":"))}
}

type errBody struct {
	Error struct {
		Code, Message, Field string
	}
}

func decodeErr(t *testing.T, w *httptest.ResponseRecorder) errBody {
	t.Helper()
	var e errBody
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body %q is not the error shape: %v", w.Body.String(), err)
	}
	return e
}

func TestRoutesAccept(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		r        req
		wantType []string
	}{
		{"track", req{path: "/v1/t", body: `{"event":"Order Completed","userId":"u1"}`, header: bearer(testKey)}, []string{"track"}},
		{"page", req{path: "/v1/p", body: `{"anonymousId":"a1","properties":{"url":"https://x"}}`, header: bearer(testKey)}, []string{"page"}},
		{"identify", req{path: "/v1/i", body: `{"userId":"u1","traits":{"email":"j@x.com"}}`, header: bearer(testKey)}, []string{"identify"}},
		{"group", req{path: "/v1/g", body: `{"userId":"u1","groupId":"g1"}`, header: bearer(testKey)}, []string{"group"}},
		{"batch bearer", req{path: "/v1/batch", body: `{"batch":[{"type":"track","event":"A","userId":"u"},{"type":"page","userId":"u"}]}`, header: bearer(testKey)}, []string{"track", "page"}},
		{"batch basic", req{path: "/v1/batch", body: `{"batch":[{"type":"identify","userId":"u"}]}`, header: basic(testKey)}, []string{"identify"}},
		{"batch writeKey", req{path: "/v1/batch", body: `{"writeKey":"` + testKey + `","batch":[{"type":"track","event":"A","userId":"u"}]}`}, []string{"track"}},
		{"segment track basic", req{path: "/v1/track", body: `{"event":"A","userId":"u"}`, header: basic(testKey)}, []string{"track"}},
		{"segment page writeKey", req{path: "/v1/page", body: `{"writeKey":"` + testKey + `","anonymousId":"a"}`}, []string{"page"}},
		{"segment identify", req{path: "/v1/identify", body: `{"userId":42,"traits":{}}`, header: basic(testKey)}, []string{"identify"}},
		{"segment group", req{path: "/v1/group", body: `{"userId":"u","groupId":7}`, header: basic(testKey)}, []string{"group"}},
		{"segment alias", req{path: "/v1/alias", body: `{"userId":"u","previousId":"a"}`, header: basic(testKey)}, []string{"alias"}},
		{"typed body on its route", req{path: "/v1/t", body: `{"type":"track","event":"A","userId":"u"}`, header: bearer(testKey)}, []string{"track"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			w := b.do(t, tt.r)
			if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != `{"success":true}` {
				t.Fatalf("status %d body %s", w.Code, w.Body)
			}
			got := b.store.stored()
			if len(got) != len(tt.wantType) {
				t.Fatalf("stored %d events, want %d", len(got), len(tt.wantType))
			}
			for i, e := range got {
				if e.Type != tt.wantType[i] || e.PipelineID != "pip_test" || e.MessageID == "" || e.ReceivedAt != b.now {
					t.Errorf("event %d = %+v", i, e)
				}
				if bytes.Contains(e.Payload, []byte("writeKey")) {
					t.Errorf("stored payload keeps the writeKey: %s", e.Payload)
				}
			}
		})
	}
}

func TestRoutesRefuse(t *testing.T) {
	t.Parallel()
	big := `{"event":"A","userId":"u","properties":{"x":"` + strings.Repeat("a", 600000) + `"}}`
	tests := []struct {
		name      string
		r         req
		status    int
		code      string
		field     string
		msgSubstr string
	}{
		{"no key", req{path: "/v1/t", body: `{"event":"A","userId":"u"}`}, 401, codeBadKey, "", "missing pipeline key"},
		{"unknown key", req{path: "/v1/t", body: `{"event":"A","userId":"u"}`, header: bearer("dk_live_nope")}, 401, codeBadKey, "", "unknown"},
		{"basic on datafly route", req{path: "/v1/t", body: `{"event":"A","userId":"u"}`, header: basic(testKey)}, 401, codeBadKey, "", "Bearer"},
		{"bad basic", req{path: "/v1/track", body: `{}`, header: map[string]string{"Authorization": "Basic !!!"}}, 401, codeBadKey, "", "base64"},
		{"segment no key", req{path: "/v1/track", body: `{"event":"A","userId":"u"}`}, 401, codeBadKey, "", "writeKey"},
		{"segment wrong writeKey", req{path: "/v1/track", body: `{"writeKey":"nope","event":"A","userId":"u"}`}, 401, codeBadKey, "", "unknown"},
		{"malformed json", req{path: "/v1/t", body: `{"event":"A",`, header: bearer(testKey)}, 400, signal.EINVALID, "", "JSON"},
		{"not an object", req{path: "/v1/t", body: `[1,2]`, header: bearer(testKey)}, 400, signal.EINVALID, "", "object"},
		{"empty body", req{path: "/v1/t", body: ``, header: bearer(testKey)}, 400, signal.EINVALID, "", "empty"},
		{"track without event", req{path: "/v1/t", body: `{"userId":"u"}`, header: bearer(testKey)}, 400, signal.EINVALID, "event", "event is required"},
		{"no ids", req{path: "/v1/t", body: `{"event":"A"}`, header: bearer(testKey)}, 400, signal.EINVALID, "userId", "userId or anonymousId"},
		{"type mismatch", req{path: "/v1/t", body: `{"type":"page","userId":"u"}`, header: bearer(testKey)}, 400, signal.EINVALID, "type", "does not match"},
		{"properties not object", req{path: "/v1/t", body: `{"event":"A","userId":"u","properties":[1]}`, header: bearer(testKey)}, 400, signal.EINVALID, "properties", "object"},
		{"event wrong type", req{path: "/v1/t", body: `{"event":5,"userId":"u"}`, header: bearer(testKey)}, 400, signal.EINVALID, "event", "string"},
		{"bad timestamp", req{path: "/v1/t", body: `{"event":"A","userId":"u","timestamp":"yesterday"}`, header: bearer(testKey)}, 400, signal.EINVALID, "timestamp", "RFC 3339"},
		{"group without groupId", req{path: "/v1/g", body: `{"userId":"u"}`, header: bearer(testKey)}, 400, signal.EINVALID, "groupId", "groupId"},
		{"alias without previousId", req{path: "/v1/alias", body: `{"userId":"u"}`, header: basic(testKey)}, 400, signal.EINVALID, "previousId", "previousId"},
		{"event too large", req{path: "/v1/t", body: `{"event":"A","userId":"u","properties":{"x":"` + strings.Repeat("a", 40000) + `"}}`, header: bearer(testKey)}, 400, "EVENT_TOO_LARGE", "", "32768"},
		{"body too large", req{path: "/v1/t", body: big, header: bearer(testKey)}, 413, "PAYLOAD_TOO_LARGE", "", "MAX_PAYLOAD_SIZE"},
		{"batch missing", req{path: "/v1/batch", body: `{"event":"A"}`, header: bearer(testKey)}, 400, signal.EINVALID, "batch", "batch is required"},
		{"batch empty", req{path: "/v1/batch", body: `{"batch":[]}`, header: bearer(testKey)}, 400, signal.EINVALID, "batch", "empty"},
		{"batch not array", req{path: "/v1/batch", body: `{"batch":{}}`, header: bearer(testKey)}, 400, signal.EINVALID, "batch", "array"},
		{"batch too big", req{path: "/v1/batch", body: `{"batch":[` + strings.TrimSuffix(strings.Repeat(`{"type":"page","userId":"u"},`, 501), ",") + `]}`, header: bearer(testKey)}, 400, signal.EINVALID, "batch", "MAX_BATCH_SIZE"},
		{"events unsigned", req{path: "/v1/events", body: `{"type":"track","event":"A","userId":"u"}`, header: bearer(testKey)}, 401, codeBadSignature, "", "signed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			w := b.do(t, tt.r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			e := decodeErr(t, w)
			if e.Error.Code != tt.code || e.Error.Field != tt.field || !strings.Contains(e.Error.Message, tt.msgSubstr) {
				t.Fatalf("error = %+v, want code %s field %q message containing %q", e.Error, tt.code, tt.field, tt.msgSubstr)
			}
			if n := len(b.store.stored()); n != 0 {
				t.Fatalf("a refused request stored %d events", n)
			}
		})
	}
}

func TestBatchRejectsOneByOne(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.do(t, req{path: "/v1/batch", header: bearer(testKey), body: `{"batch":[
		{"type":"track","event":"A","userId":"u"},
		{"type":"track","userId":"u"},
		{"type":"page","anonymousId":"a"},
		{"type":"bogus","userId":"u"},
		{"type":"identify"}]}`})
	if w.Code != http.StatusOK {
		t.Fatalf("status %d body %s", w.Code, w.Body)
	}
	var got struct {
		Success  bool
		Accepted int
		Rejected []rejection
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := []rejection{
		{Index: 1, Code: signal.EINVALID, Field: "event"},
		{Index: 3, Code: signal.EINVALID, Field: "type"},
		{Index: 4, Code: signal.EINVALID, Field: "userId"},
	}
	if !got.Success || got.Accepted != 2 || len(got.Rejected) != len(want) {
		t.Fatalf("answer = %s", w.Body)
	}
	for i, r := range got.Rejected {
		if r.Index != want[i].Index || r.Code != want[i].Code || r.Field != want[i].Field || r.Message == "" {
			t.Errorf("rejected[%d] = %+v, want %+v", i, r, want[i])
		}
	}
	if n := len(b.store.stored()); n != 2 {
		t.Fatalf("stored %d events, want the 2 valid ones", n)
	}
}

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
