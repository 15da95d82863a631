package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// countingLister counts the Live Events queries the API makes and reports
// each on calls.
type countingLister struct {
	Store
	n     atomic.Int64
	calls chan store.ListLiveEventsParams
}

func (c *countingLister) ListLiveEvents(ctx context.Context, p store.ListLiveEventsParams) ([]*signal.LiveEvent, string, error) {
	c.n.Add(1)
	defer func() { c.calls <- p }()
	return c.Store.ListLiveEvents(ctx, p)
}

// openStream connects to the stream with query and returns its lines once
// it said it is connected.
func (b *testBundle) openStream(t *testing.T, query string) *bufio.Reader {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", b.srv.URL+"/v1/admin/live-events/stream?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+b.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	r := bufio.NewReader(resp.Body)
	if line, err := r.ReadString('\n'); err != nil || line != ": connected\n" {
		t.Fatalf("stream said %q, %v", line, err)
	}
	return r
}

// nextRow reads the stream up to its next row.
func nextRow(t *testing.T, r *bufio.Reader) signal.LiveEvent {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended: %v", err)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var le signal.LiveEvent
			if err := json.Unmarshal([]byte(data), &le); err != nil {
				t.Fatalf("row %q: %v", data, err)
			}
			return le
		}
	}
}

// TestStreamsShareOnePoll: clients watching the same filters cost one
// store query per poll interval between them, and see the same rows; other
// filters get a poll of their own.
func TestStreamsShareOnePoll(t *testing.T) {
	t.Parallel()
	var lister *countingLister
	b := setupServer(t, Deps{}, func(s Store) Store {
		lister = &countingLister{Store: s, calls: make(chan store.ListLiveEventsParams, 100)}
		return lister
	})
	ticks := make(chan time.Time)
	var clocks atomic.Int64
	b.api.live.mu.Lock()
	b.api.live.tick = func(time.Duration) (<-chan time.Time, func()) {
		clocks.Add(1)
		return ticks, func() {}
	}
	b.api.live.mu.Unlock()

	a := b.openStream(t, "type=track")
	c := b.openStream(t, "type=track")
	<-lister.calls // the shared poll's first look
	for i, msg := range []string{"m1", "m2"} {
		if err := b.db.AppendEvents(context.Background(), store.AppendEventsParams{Events: []*signal.Event{{
			MessageID: msg, PipelineID: "pip_1", Type: "track", Event: "Signed Up", ReceivedAt: *b.now, Timestamp: *b.now,
			Payload: json.RawMessage(`{"type":"track","event":"Signed Up"}`)}}}); err != nil {
			t.Fatal(err)
		}
		ticks <- time.Now()
		<-lister.calls
		if got, want := lister.n.Load(), int64(i+2); got != want {
			t.Fatalf("after %d polls the store was queried %d times, want %d (one per poll, not per client)", i+1, got, want)
		}
		for _, r := range []*bufio.Reader{a, c} {
			if row := nextRow(t, r); row.MessageID != msg {
				t.Fatalf("client saw %s, want %s", row.MessageID, msg)
			}
		}
	}
	if clocks.Load() != 1 {
		t.Fatalf("%d polls run for one filter set", clocks.Load())
	}

	b.openStream(t, "type=page")
	if p := <-lister.calls; p.Type != "page" {
		t.Fatalf("a page stream's first query is for type %q", p.Type)
	}
	if clocks.Load() != 2 {
		t.Fatalf("%d polls run for two filter sets, want 2", clocks.Load())
	}
}

func TestStreamParams(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		query  string
		status int
		field  string
	}{
		{"cursor=1.0", 400, "cursor"},
		{"bogus=1", 400, "bogus"},
		{"reason=nope", 400, "reason"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			var e apiError
			if code := b.call(t, "GET", "/v1/admin/live-events/stream?"+tt.query, "", &e); code != tt.status || e.Error.Field != tt.field {
				t.Fatalf("%s: %d field %q, want %d %q", tt.query, code, e.Error.Field, tt.status, tt.field)
			}
		})
	}
	// access_token is the stream's own parameter (EventSource sends no headers).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", b.srv.URL+"/v1/admin/live-events/stream?type=track&access_token="+b.token, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("stream with access_token: %d", resp.StatusCode)
	}
}

// fixedLister answers every poll with one row whose UpdatedAt moves on each
// call, so that every poll after the first has a change to send.
type fixedLister struct{ n atomic.Int64 }

func (f *fixedLister) ListLiveEvents(context.Context, store.ListLiveEventsParams) ([]*signal.LiveEvent, string, error) {
	n := f.n.Add(1)
	return []*signal.LiveEvent{{ID: "dlv_1", Status: signal.StatusPending, UpdatedAt: time.Unix(n, 0)}}, "", nil
}

// TestLiveHubBounds: the hub polls at most maxLivePolls filter sets, a
// client that stops reading is dropped instead of holding the others, and
// a poll stops with its last client.
func TestLiveHubBounds(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T) (*liveHub, chan time.Time) {
		t.Helper()
		ticks := make(chan time.Time)
		h := newLiveHub(&fixedLister{}, time.Hour, nil)
		h.tick = func(time.Duration) (<-chan time.Time, func()) { return ticks, func() {} }
		return h, ticks
	}
	tests := []struct {
		name string
		run  func(t *testing.T, h *liveHub, ticks chan time.Time)
	}{
		{"DistinctFilterSetsBounded", func(t *testing.T, h *liveHub, _ chan time.Time) {
			for i := range maxLivePolls {
				_, leave, err := h.subscribe(store.ListLiveEventsParams{Event: string(rune('a' + i))})
				if err != nil {
					t.Fatalf("filter set %d refused: %v", i, err)
				}
				defer leave()
			}
			if _, _, err := h.subscribe(store.ListLiveEventsParams{Event: "one more"}); err == nil {
				t.Fatal("a filter set beyond the bound was polled")
			}
			// The same filters as an existing poll still join it.
			_, leave, err := h.subscribe(store.ListLiveEventsParams{Event: "a"})
			if err != nil {
				t.Fatalf("joining an existing poll: %v", err)
			}
			leave()
		}},
		{"SlowClientDropped", func(t *testing.T, h *liveHub, ticks chan time.Time) {
			slow, leaveSlow, _ := h.subscribe(store.ListLiveEventsParams{})
			defer leaveSlow()
			fast, leaveFast, _ := h.subscribe(store.ListLiveEventsParams{})
			defer leaveFast()
			for i := 0; i <= liveClientBacklog; i++ {
				ticks <- time.Now()
				<-fast.rows // the fast client reads every batch
			}
			select {
			case <-slow.gone:
			case <-time.After(5 * time.Second):
				t.Fatal("a client that read nothing was not dropped")
			}
			ticks <- time.Now()
			<-fast.rows // the others go on
		}},
		{"LastClientStopsThePoll", func(t *testing.T, h *liveHub, _ chan time.Time) {
			_, leave1, _ := h.subscribe(store.ListLiveEventsParams{Type: "track"})
			_, leave2, _ := h.subscribe(store.ListLiveEventsParams{Type: "track"})
			leave1()
			h.mu.Lock()
			n := len(h.polls)
			h.mu.Unlock()
			if n != 1 {
				t.Fatalf("%d polls with one client left, want 1", n)
			}
			leave2()
			h.mu.Lock()
			n = len(h.polls)
			h.mu.Unlock()
			if n != 0 {
				t.Fatalf("%d polls after the last client left", n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, ticks := setup(t)
			tt.run(t, h, ticks)
		})
	}
}

// TestAccessTokenOnlyOnTheStream: a token in the query string (which
// reaches proxy logs and browser history) is taken by the Live Events
// stream alone, not by another route whose path ends in /stream.
func TestAccessTokenOnlyOnTheStream(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tt := range []struct{ method, path string }{
		{"DELETE", "/v1/admin/users/stream"},
		{"GET", "/v1/admin/users/stream"},
		{"PATCH", "/v1/admin/integrations/int_x/blueprint/events/stream"},
		{"GET", "/v1/admin/live-events/stream/"},
	} {
		req, _ := http.NewRequest(tt.method, b.srv.URL+tt.path+"?access_token="+b.token, strings.NewReader(`{}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s with access_token: %d, want 401", tt.method, tt.path, resp.StatusCode)
		}
	}
}
