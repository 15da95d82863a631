package delivery_test

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/integration/integrationtest"
)

// reply is one scripted answer of the fake vendor.
type reply struct {
	status int
	header map[string]string
	body   string
	// delay holds the answer back (longer than the engine's timeout: a
	// timeout); the handler gives up as soon as the client does.
	delay time.Duration
	// reset hijacks the connection and closes it without answering.
	reset bool
	// gate, if set, holds the answer until it is closed.
	gate <-chan struct{}
}

// received is one request as the fake saw it.
type received struct {
	key       string
	eventID   string
	eventName string
	email     string
	body      []byte
	at        time.Time
	// status is what the fake answered (0 for a reset or a request the
	// client gave up on).
	status int
	done   time.Time
}

// fakeVendor is a fault-injecting vendor speaking the neutral test
// vendor's wire format (integrationtest.Vendor): POST /events answers from a
// script (per eventID first, then per API key, consumed in order; then the
// fallback of the key, else 202), can enforce a fixed-window rate limit of
// its own (429 beyond it, with X-Rate-Limit-* headers on every
// answer) and records every request.
type fakeVendor struct {
	srv *httptest.Server

	mu       sync.Mutex
	byEvent  map[string][]reply
	byKey    map[string][]reply
	fallback map[string]reply
	reqs     []*received

	// Rate limit: limit requests per window, windows counted from start.
	limit   int
	window  time.Duration
	start   time.Time
	counted map[int64]int // accepted requests per window index
}

func newFakeVendor(t *testing.T) *fakeVendor {
	t.Helper()
	f := &fakeVendor{byEvent: map[string][]reply{}, byKey: map[string][]reply{}, fallback: map[string]reply{},
		counted: map[int64]int{}, start: time.Now()}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the base URL to give the test vendor.
func (f *fakeVendor) URL() string { return f.srv.URL }

// script queues answers for the requests carrying an API key.
func (f *fakeVendor) script(key string, rs ...reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byKey[key] = append(f.byKey[key], rs...)
}

// scriptEvent queues answers for the requests of one eventID.
func (f *fakeVendor) scriptEvent(eventID string, rs ...reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byEvent[eventID] = append(f.byEvent[eventID], rs...)
}

// always answers every unscripted request of key with r.
func (f *fakeVendor) always(key string, r reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fallback[key] = r
}

// enforce makes the fake accept at most limit requests per fixed window.
func (f *fakeVendor) enforce(limit int, window time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limit, f.window, f.start = limit, window, time.Now()
}

func (f *fakeVendor) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != integrationtest.EventsPath {
		http.Error(w, `{"error":"unexpected request"}`, http.StatusNotFound)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var b integrationtest.Body
	_ = json.Unmarshal(body, &b)
	rec := &received{key: r.Header.Get(integrationtest.KeyHeader), eventID: b.EventID, eventName: b.Name, email: b.Email,
		body: body, at: time.Now()}

	f.mu.Lock()
	f.reqs = append(f.reqs, rec)
	rep, ok := reply{status: http.StatusAccepted}, false
	if q := f.byEvent[b.EventID]; len(q) > 0 {
		rep, ok, f.byEvent[b.EventID] = q[0], true, q[1:]
	} else if q := f.byKey[rec.key]; len(q) > 0 {
		rep, ok, f.byKey[rec.key] = q[0], true, q[1:]
	} else if fb, has := f.fallback[rec.key]; has {
		rep, ok = fb, true
	}
	header := map[string]string{}
	if f.limit > 0 && !rep.reset {
		idx := int64(rec.at.Sub(f.start) / f.window)
		end := f.start.Add(time.Duration(idx+1) * f.window)
		reset := strconv.FormatFloat(end.Sub(rec.at).Seconds(), 'f', 3, 64)
		if f.counted[idx] >= f.limit {
			rep = reply{status: http.StatusTooManyRequests, body: `{"error":"Too many requests"}`}
			header["Retry-After"] = strconv.Itoa(int(math.Ceil(end.Sub(rec.at).Seconds())))
		} else if !ok || rep.status/100 == 2 {
			f.counted[idx]++
		}
		header["X-Rate-Limit-Limit"] = strconv.Itoa(f.limit)
		header["X-Rate-Limit-Remaining"] = strconv.Itoa(f.limit - f.counted[idx])
		header["X-Rate-Limit-Reset"] = reset
	}
	f.mu.Unlock()

	if rep.gate != nil {
		select {
		case <-rep.gate:
		case <-r.Context().Done():
			return
		}
	}
	if rep.delay > 0 {
		t := time.NewTimer(rep.delay)
		select {
		case <-t.C:
		case <-r.Context().Done(): // the client gave up: a timeout
			t.Stop()
			return
		}
	}
	if rep.reset {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	for k, v := range rep.header {
		header[k] = v
	}
	for k, v := range header {
		w.Header().Set(k, v)
	}
	if rep.body == "" && rep.status/100 == 2 {
		rep.body = `{"message":"accepted"}`
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
	f.mu.Lock()
	rec.status, rec.done = rep.status, time.Now()
	f.mu.Unlock()
}

// requests returns a copy of what the fake received so far, in order of
// arrival.
func (f *fakeVendor) requests() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]received, len(f.reqs))
	for i, r := range f.reqs {
		out[i] = *r
	}
	return out
}

func (f *fakeVendor) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

// accepted returns the 2xx-answered requests, in order of arrival.
func (f *fakeVendor) accepted() []received {
	var out []received
	for _, r := range f.requests() {
		if r.status/100 == 2 {
			out = append(out, r)
		}
	}
	return out
}

// waitCount waits until the fake has seen at least n requests.
func (f *fakeVendor) waitCount(t *testing.T, n int, within time.Duration) {
	t.Helper()
	eventually(t, within, func() bool { return f.count() >= n }, func() string {
		return "the vendor received " + strconv.Itoa(f.count()) + " requests, want " + strconv.Itoa(n)
	})
}

// steady checks that the fake receives no request for d.
func (f *fakeVendor) steady(t *testing.T, d time.Duration) {
	t.Helper()
	before := f.count()
	time.Sleep(d)
	if got := f.count(); got != before {
		t.Fatalf("the vendor received %d more requests within %v, want none", got-before, d)
	}
}
