package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// seedLive stores three events and their outcomes on integration intID:
// m1 (user ann, order o-1) delivered after a 503, m2 (email bob@x.test)
// filtered no_identifier, m3 pending for a retry. It returns the events.
func (b *testBundle) seedLive(t *testing.T, intID string) []*signal.Event {
	t.Helper()
	ctx := context.Background()
	var evs []*signal.Event
	for i, raw := range []string{`{"type":"track","event":"Order Completed","userId":"ann"}`, `{"type":"page"}`, `{"type":"track","event":"Order Completed"}`} {
		evs = append(evs, &signal.Event{MessageID: fmt.Sprintf("m%d", i+1), PipelineID: "pip_1", Type: map[bool]string{true: "page", false: "track"}[i == 1],
			Event: map[bool]string{true: "", false: "Order Completed"}[i == 1], ReceivedAt: *b.now, Timestamp: *b.now, Payload: json.RawMessage(raw)})
	}
	if err := b.db.AppendEvents(ctx, store.AppendEventsParams{Events: evs}); err != nil {
		t.Fatal(err)
	}
	ds := make([]*signal.Delivery, len(evs))
	for i, e := range evs {
		ds[i] = &signal.Delivery{EventSeq: e.Seq, MessageID: e.MessageID, PipelineID: e.PipelineID, IntegrationID: intID, Type: e.Type,
			Event: e.Event, Status: signal.StatusPending, Priority: signal.PriorityNormal, ContactKey: e.MessageID, NextAttemptAt: *b.now,
			ReceivedAt: *b.now, Payload: json.RawMessage(`{"eventName":"x"}`)}
	}
	ds[1].Status, ds[1].Reason = signal.StatusFiltered, signal.ReasonNoIdentifier
	err := b.db.RecordProcessed(ctx, store.RecordProcessedParams{UpToSeq: evs[2].Seq, Deliveries: ds, Now: *b.now,
		SearchKeys: []store.SearchKey{
			{EventSeq: evs[0].Seq, Key: b.box.Hash("u:ann")}, {EventSeq: evs[0].Seq, Key: b.box.Hash("o:o-1")},
			{EventSeq: evs[1].Seq, Key: b.box.Hash("e:bob@x.test")},
		},
		Processed: []store.ProcessedEvent{{EventSeq: evs[0].Seq, Body: []byte(`{"user_id":"ann","anonymous_id":"","traits":{},"consent":"nonSubscribed"}`)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := b.db.ClaimDeliveries(ctx, store.ClaimDeliveriesParams{IntegrationID: intID, Limit: 10, Now: *b.now, LeaseUntil: b.now.Add(time.Minute)})
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claimed %d: %v", len(claimed), err)
	}
	for _, d := range claimed {
		d.Attempts = 1
		d.Attempt = &signal.Attempt{At: *b.now, VendorStatus: 503, VendorResponse: "busy", DurationMS: 12}
		d.Status, d.Reason, d.NextAttemptAt = signal.StatusPending, signal.ReasonRetrying, b.now.Add(time.Minute)
		if d.MessageID == "m1" {
			d.Status, d.Reason, d.VendorStatus = signal.StatusDelivered, "", 202
			d.Attempt = &signal.Attempt{At: *b.now, VendorStatus: 202, VendorResponse: "ok", DurationMS: 40}
		}
	}
	if err := b.db.FinishDeliveries(ctx, store.FinishDeliveriesParams{Deliveries: claimed, Now: *b.now}); err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestLiveEventsFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.install(t, installBody(pageAPIKey))
	b.seedLive(t, in.ID)
	tests := []struct {
		name   string
		query  string
		status int
		field  string
		want   []string // message ids, newest first
	}{
		{"no filter", "", 200, "", []string{"m3", "m2", "m1"}},
		{"reason", "reason=no_identifier", 200, "", []string{"m2"}},
		{"q user id", "q=ann", 200, "", []string{"m1"}},
		{"q order id", "q=o-1", 200, "", []string{"m1"}},
		{"q email any case", "q=" + url.QueryEscape(" Bob@X.test "), 200, "", []string{"m2"}},
		{"q unknown", "q=nobody", 200, "", nil},
		{"q and integration", "q=ann&integration_id=" + in.ID, 200, "", []string{"m1"}},
		{"unknown parameter", "integration=" + in.ID, 400, "integration", nil},
		{"stream-only parameter", "access_token=x", 400, "access_token", nil},
		{"unknown reason", "reason=bogus", 400, "reason", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var resp struct {
				Data  []signal.LiveEvent
				Error struct{ Field string }
			}
			if code := b.call(t, "GET", "/v1/admin/live-events?"+tt.query, "", &resp); code != tt.status {
				t.Fatalf("status %d, want %d", code, tt.status)
			}
			if resp.Error.Field != tt.field {
				t.Fatalf("error field %q, want %q", resp.Error.Field, tt.field)
			}
			var got []string
			for _, r := range resp.Data {
				got = append(got, r.MessageID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("rows %v, want %v", got, tt.want)
			}
		})
	}
}

// windowStore records the window the counts ask the store for.
type windowStore struct {
	Store
	mu    sync.Mutex
	limit int
}

func (w *windowStore) CountLiveEvents(ctx context.Context, p store.ListLiveEventsParams) (store.LiveCounts, error) {
	w.mu.Lock()
	w.limit = p.Limit
	w.mu.Unlock()
	c, err := w.Store.CountLiveEvents(ctx, p)
	c.Limited = true // as if more rows matched than the window holds
	return c, err
}

// TestLiveEventsCountsWindow: the counts ask the store for the newest
// 10,000 rows only, and say when more match.
func TestLiveEventsCountsWindow(t *testing.T) {
	t.Parallel()
	ws := &windowStore{}
	b := setupServer(t, Deps{}, func(s Store) Store { ws.Store = s; return ws })
	var raw json.RawMessage
	if code := b.call(t, "GET", "/v1/admin/live-events/counts", "", &raw); code != 200 {
		t.Fatalf("counts: %d %s", code, raw)
	}
	requireJSONEq(t, raw, `{"pending":0,"delivered":0,"filtered":0,"failed":0,"paused":0,"limited":true,"window":10000}`)
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.limit != 10_000 {
		t.Fatalf("the counts asked the store for %d rows, want the newest 10,000", ws.limit)
	}
}

func TestLiveEventsCountsAndDetail(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.install(t, installBody(pageAPIKey))
	b.seedLive(t, in.ID)

	tests := []struct {
		name, path string
		status     int
		check      func(t *testing.T, raw json.RawMessage)
	}{
		{"counts", "/v1/admin/live-events/counts", 200, func(t *testing.T, raw json.RawMessage) {
			requireJSONEq(t, raw, `{"pending":1,"delivered":1,"filtered":1,"failed":0,"paused":0,"limited":false,"window":10000}`)
		}},
		{"counts filtered", "/v1/admin/live-events/counts?q=ann", 200, func(t *testing.T, raw json.RawMessage) {
			requireJSONEq(t, raw, `{"pending":0,"delivered":1,"filtered":0,"failed":0,"paused":0,"limited":false,"window":10000}`)
		}},
		{"counts refuse status", "/v1/admin/live-events/counts?status=failed", 400, nil},
		{"detail", "/v1/admin/live-events/dlv_1", 200, func(t *testing.T, raw json.RawMessage) {
			var d struct {
				MessageID string          `json:"message_id"`
				Input     json.RawMessage `json:"input"`
				Processed json.RawMessage `json:"processed"`
				Payload   json.RawMessage `json:"payload"`
				Attempts  []signal.Attempt
			}
			if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatal(err)
			}
			if d.MessageID != "m1" || len(d.Attempts) != 1 || d.Attempts[0].VendorStatus != 202 || d.Attempts[0].VendorResponse != "ok" ||
				d.Attempts[0].DurationMS != 40 {
				t.Fatalf("detail %s", raw)
			}
			requireJSONEq(t, d.Processed, `{"user_id":"ann","anonymous_id":"","traits":{},"consent":"nonSubscribed"}`)
			requireJSONEq(t, d.Input, `{"type":"track","event":"Order Completed","userId":"ann"}`)
			requireJSONEq(t, d.Payload, `{"eventName":"x"}`)
		}},
		{"retrying row says when", "/v1/admin/live-events/dlv_3", 200, func(t *testing.T, raw json.RawMessage) {
			var d struct {
				NextAttemptAt *time.Time `json:"next_attempt_at"`
			}
			json.Unmarshal(raw, &d)
			if d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(b.now.Add(time.Minute)) {
				t.Fatalf("next_attempt_at missing in %s", raw)
			}
		}},
		{"finished row has no next attempt", "/v1/admin/live-events/dlv_2", 200, func(t *testing.T, raw json.RawMessage) {
			var d map[string]any
			json.Unmarshal(raw, &d)
			if _, ok := d["next_attempt_at"]; ok {
				t.Fatalf("filtered row shows next_attempt_at: %s", raw)
			}
		}},
		{"unknown", "/v1/admin/live-events/dlv_99", 404, nil},
		{"detail refuses parameters", "/v1/admin/live-events/dlv_1?x=1", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var raw json.RawMessage
			if code := b.call(t, "GET", tt.path, "", &raw); code != tt.status {
				t.Fatalf("GET %s: %d %s, want %d", tt.path, code, raw, tt.status)
			}
			if tt.check != nil {
				tt.check(t, raw)
			}
		})
	}
}

func requireJSONEq(t *testing.T, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	json.Unmarshal([]byte(want), &w)
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Fatalf("got %s, want %s", gb, wb)
	}
}
