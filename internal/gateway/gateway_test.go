package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
	mu      sync.Mutex
	events  []*signal.Event
	fail    error
	replays map[string]bool // replay keys recorded, as the stores keep them
}

func (f *fakeStore) AppendEvents(ctx context.Context, p store.AppendEventsParams) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	if p.Replay != nil && len(p.Events) > 0 {
		if f.replays[p.Replay.Key] {
			return store.ErrReplayed
		}
		if f.replays == nil {
			f.replays = map[string]bool{}
		}
		f.replays[p.Replay.Key] = true
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
		Code           signal.Code
		Message, Field string
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
		code      signal.Code
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
		{"NUL in event name", req{path: "/v1/t", body: `{"event":"A\u0000B","userId":"u"}`, header: bearer(testKey)}, 400, signal.EINVALID, "event", "NUL"},
		{"event name too long", req{path: "/v1/t", body: `{"event":"` + strings.Repeat("é", 513) + `","userId":"u"}`, header: bearer(testKey)}, 400, signal.EINVALID, "event", "at most 1024"},
		{"page name too long", req{path: "/v1/p", body: `{"name":"` + strings.Repeat("a", 1025) + `","userId":"u"}`, header: bearer(testKey)}, 400, signal.EINVALID, "name", "at most 1024"},
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
