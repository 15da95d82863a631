// Package omnisendtest is a fake Omnisend for tests: single events
// (POST /v5/events) and batches (POST /v5/batches, then GET
// /v5/batches/{id} and /items), counting every eventID it accepted.
package omnisendtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fake is a batch-capable Omnisend. Set its fields before its first
// request, or through Set while it runs.
type Fake struct {
	srv *httptest.Server

	// ItemError, if set, decides an item's result: a non-2xx code refuses
	// it with response.
	ItemError func(item map[string]any) (code int, response string)
	// PollsBeforeDone is how many status polls answer inProgress first.
	PollsBeforeDone int
	// BeforeCreate, if set, runs before a batch is stored and answered,
	// with the batch's number (1-based); false drops the connection
	// without storing the batch (a crash before Omnisend acknowledged).
	BeforeCreate func(n int) bool
	// Limit, if set, is the rate limit the answers advertise, per 60 s
	// (X-Rate-Limit-Limit, -Remaining counting every request, -Reset).
	Limit int

	mu       sync.Mutex
	batches  map[string]*batch
	created  int
	requests int
	window   time.Time
	// events counts the acceptances of each eventID (batches and single
	// events together); live lists single events as they came.
	events map[string]int
	live   []Received
}

// Received is one single event as the fake got it.
type Received struct {
	EventID   string
	EventName string
	At        time.Time
}

type batch struct {
	items []map[string]any
	polls int
}

// New starts a fake; it is closed when the test ends.
func New(t interface{ Cleanup(func()) }) *Fake {
	f := &Fake{batches: map[string]*batch{}, events: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// Set changes the fake's settings while it serves.
func (f *Fake) Set(change func(f *Fake)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// URL is the fake's base URL (SIGNAL_OMNISEND_API_URL).
func (f *Fake) URL() string { return f.srv.URL }

// Sent returns how many times each eventID was accepted.
func (f *Fake) Sent() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.events))
	for k, v := range f.events {
		out[k] = v
	}
	return out
}

// Live returns the single events received so far.
func (f *Fake) Live() []Received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Received(nil), f.live...)
}

// Batches is how many batches the fake acknowledged.
func (f *Fake) Batches() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.batches)
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Header.Get("X-API-KEY") == "" {
		http.Error(w, `{"error":"no key"}`, http.StatusUnauthorized)
		return
	}
	f.rateHeaders(w)
	path := strings.TrimPrefix(r.URL.Path, "/v5/")
	switch {
	case r.Method == http.MethodPost && path == "events":
		var ev map[string]any
		if json.Unmarshal(body, &ev) != nil {
			http.Error(w, `{"error":"bad json"}`, http.StatusBadRequest)
			return
		}
		id, _ := ev["eventID"].(string)
		name, _ := ev["eventName"].(string)
		f.mu.Lock()
		f.events[id]++
		f.live = append(f.live, Received{EventID: id, EventName: name, At: time.Now()})
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{}`)
	case r.Method == http.MethodPost && path == "batches":
		f.create(w, body)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "batches/"):
		rest := strings.TrimPrefix(path, "batches/")
		id, items := strings.CutSuffix(rest, "/items")
		f.mu.Lock()
		b := f.batches[id]
		f.mu.Unlock()
		if b == nil {
			http.Error(w, `{"error":"batch not found"}`, http.StatusNotFound)
			return
		}
		if items {
			f.items(w, b)
			return
		}
		f.mu.Lock()
		b.polls++
		status := "inProgress"
		if b.polls > f.PollsBeforeDone {
			status = "finished"
		}
		f.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"batchID": id, "status": status, "totalCount": len(b.items)})
	default:
		http.NotFound(w, r)
	}
}

func (f *Fake) create(w http.ResponseWriter, body []byte) {
	var req struct {
		Method   string           `json:"method"`
		Endpoint string           `json:"endpoint"`
		Items    []map[string]any `json:"items"`
	}
	if json.Unmarshal(body, &req) != nil || req.Method != "POST" || req.Endpoint != "events" || len(req.Items) == 0 || len(req.Items) > 100 {
		http.Error(w, `{"error":"bad batch"}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.created++
	n, before := f.created, f.BeforeCreate
	f.mu.Unlock()
	if before != nil && !before(n) {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
			}
		}
		return
	}
	id := fmt.Sprintf("batch-%d", n)
	f.mu.Lock()
	f.batches[id] = &batch{items: req.Items}
	for _, it := range req.Items {
		eid, _ := it["eventID"].(string)
		f.events[eid]++
	}
	f.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"batchID": id, "totalCount": len(req.Items)})
}

func (f *Fake) items(w http.ResponseWriter, b *batch) {
	type result struct {
		ItemID       string          `json:"itemID"`
		Status       string          `json:"status"`
		ResponseCode int             `json:"responseCode"`
		Request      map[string]any  `json:"request"`
		Response     json.RawMessage `json:"response"`
	}
	var out struct {
		Responses []result `json:"responses"`
		Errors    []result `json:"errors"`
	}
	f.mu.Lock()
	itemError := f.ItemError
	f.mu.Unlock()
	for i, it := range b.items {
		res := result{ItemID: strconv.Itoa(i), Status: "finished", ResponseCode: 200, Request: it, Response: json.RawMessage(`{}`)}
		if itemError != nil {
			if code, msg := itemError(it); code != 0 && (code < 200 || code > 299) {
				res.ResponseCode, res.Response = code, json.RawMessage(strconv.Quote(msg))
				out.Errors = append(out.Errors, res)
				continue
			}
		}
		out.Responses = append(out.Responses, res)
	}
	json.NewEncoder(w).Encode(out)
}

// rateHeaders advertises Limit per minute, counting every request.
func (f *Fake) rateHeaders(w http.ResponseWriter) {
	if f.Limit == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if now.Sub(f.window) >= time.Minute {
		f.window, f.requests = now, 0
	}
	f.requests++
	w.Header().Set("X-Rate-Limit-Limit", strconv.Itoa(f.Limit))
	w.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(max(f.Limit-f.requests, 0)))
	w.Header().Set("X-Rate-Limit-Reset", strconv.Itoa(int(time.Minute-now.Sub(f.window))/int(time.Second)+1))
}
