package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/delivery"
	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/integration/integrationtest"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/sqlite"
	"github.com/signalhq/signal/internal/store/storetest"
)

// testConfig is the engine's configuration in tests: everything small.
func testConfig() delivery.Config {
	return delivery.Config{
		MaxInFlight:  32,
		Timeout:      1500 * time.Millisecond,
		Lease:        2 * time.Second,
		Backoff:      delivery.Backoff{Base: 10 * time.Millisecond, Max: 50 * time.Millisecond, Horizon: time.Hour},
		DrainTimeout: time.Second,
		Poll:         50 * time.Millisecond,
	}
}

// testBundle is one test's world: a fresh SQLite store, a fake vendor, the
// neutral test vendor pointed at it and an engine (started by run).
type testBundle struct {
	ctx   context.Context
	store *sqlite.DB
	// claims counts the engine's ClaimDeliveries calls.
	claims *atomic.Int64
	fake   *fakeVendor
	vendor *integrationtest.Vendor
	// other is a second vendor (catalog key otherVendor) with its own
	// fake, for fan-out tests.
	other  *fakeVendor
	engine *delivery.Engine

	cancel context.CancelFunc
	done   chan error
}

type bundleOpts struct {
	cfg delivery.Config
	// window, if set, is the rate-limit window the vendor reports in place
	// of a minute (a time-scaled vendor).
	// perMinute, if set, is both vendors' default request budget.
	perMinute int
	window    time.Duration
	// limiterWait is the engine's LimiterWaitFunc.
	limiterWait func(string, time.Duration)
	// beforeClaim, if set, runs before each ClaimDeliveries (n counts
	// them from 1) and may change its params; afterFinish runs after each
	// FinishDeliveries.
	beforeClaim func(n int64, p *store.ClaimDeliveriesParams)
	afterFinish func()
}

func newTestBundle(t *testing.T, o bundleOpts) *testBundle {
	t.Helper()
	if o.cfg.Timeout == 0 {
		o.cfg = testConfig()
	}
	ctx := t.Context()
	db, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(t.TempDir(), "signal.db"), Cipher: storetest.Cipher()})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	fake := newFakeVendor(t)
	vendor := integrationtest.New(fake.URL())
	vendor.Window, vendor.PerMinute = o.window, o.perMinute
	reg := integration.NewRegistry()
	reg.Register(vendor)
	other := newFakeVendor(t)
	second := integrationtest.New(other.URL())
	second.CatalogKey, second.PerMinute = otherVendor, o.perMinute
	reg.Register(second)
	b := &testBundle{ctx: ctx, store: db, fake: fake, other: other, vendor: vendor, claims: new(atomic.Int64)}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	t.Cleanup(client.CloseIdleConnections)
	b.engine = delivery.New(o.cfg, delivery.Deps{Store: countingStore{DB: db, claims: b.claims, beforeClaim: o.beforeClaim, afterFinish: o.afterFinish}, Vendors: reg, Hasher: plainHasher{},
		Client: client, Log: slog.New(slog.DiscardHandler), LimiterWaitFunc: o.limiterWait})
	return b
}

// run starts the engine; it is stopped (and awaited) when t ends.
func (b *testBundle) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(b.ctx))
	b.cancel, b.done = cancel, make(chan error, 1)
	go func() { b.done <- b.engine.Run(ctx) }()
	t.Cleanup(func() { b.stop(t) })
}

// stop cancels the engine's context and waits for Run to return.
func (b *testBundle) stop(t *testing.T) time.Duration {
	t.Helper()
	if b.cancel == nil {
		return 0
	}
	start := time.Now()
	b.cancel()
	b.cancel = nil
	select {
	case err := <-b.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("Run did not return within 10s of its context being cancelled")
	}
	return time.Since(start)
}

// countingStore counts the engine's claims (each one a write transaction)
// and runs the bundle's hooks around claims and finishes.
type countingStore struct {
	*sqlite.DB
	claims      *atomic.Int64
	beforeClaim func(n int64, p *store.ClaimDeliveriesParams)
	afterFinish func()
}

func (s countingStore) ClaimDeliveries(ctx context.Context, p store.ClaimDeliveriesParams) ([]*signal.Delivery, error) {
	n := s.claims.Add(1)
	if s.beforeClaim != nil {
		s.beforeClaim(n, &p)
	}
	return s.DB.ClaimDeliveries(ctx, p)
}

func (s countingStore) FinishDeliveries(ctx context.Context, p store.FinishDeliveriesParams) error {
	err := s.DB.FinishDeliveries(ctx, p)
	if s.afterFinish != nil {
		s.afterFinish()
	}
	return err
}

type plainHasher struct{}

func (plainHasher) Hash(s string) string { return "h:" + s }

// otherVendor is the catalog key of the bundle's second vendor.
const otherVendor = "othervendor"

// addIntegration installs an active test-vendor integration with key.
func (b *testBundle) addIntegration(t *testing.T, id, key string) *signal.Integration {
	t.Helper()
	return b.addIntegrationOf(t, integrationtest.Key, id, key)
}

// addIntegrationOf installs an active integration of a vendor with key.
func (b *testBundle) addIntegrationOf(t *testing.T, catalogKey, id, key string) *signal.Integration {
	t.Helper()
	now := time.Now().UTC()
	in := &signal.Integration{ID: id, CatalogKey: catalogKey, Name: "Test " + id, Variant: "default",
		DeliveryMode: "server_side", Config: map[string]any{"api_key": key}, Enabled: true,
		Status: signal.IntegrationActive, CreatedAt: now, UpdatedAt: now}
	if err := b.store.CreateIntegration(b.ctx, store.CreateIntegrationParams{Integration: in}); err != nil {
		t.Fatalf("CreateIntegration: %v", err)
	}
	return in
}

// replaceKey does what the admin API does for PATCH {"config":{"api_key"}}.
func (b *testBundle) replaceKey(t *testing.T, id, key string) {
	t.Helper()
	in, err := b.store.GetIntegration(b.ctx, store.GetIntegrationParams{ID: id})
	if err != nil {
		t.Fatalf("GetIntegration: %v", err)
	}
	in.Config["api_key"] = key
	in.Status, in.StatusReason, in.UpdatedAt = signal.IntegrationActive, "", time.Now().UTC()
	if err := b.store.UpdateIntegration(b.ctx, store.UpdateIntegrationParams{Integration: in}); err != nil {
		t.Fatalf("UpdateIntegration: %v", err)
	}
	b.engine.IntegrationChanged(id)
}

var msgSeq atomic.Int64

// ev describes one event to queue.
type ev struct {
	contact  string // contact key; the email is derived from it
	name     string // vendor event name
	priority int
	maxAge   time.Duration // the blueprint's max_age (0: none)
}

// queued is a delivery as a test queued it.
type queued struct {
	messageID string
	eventID   string
	payload   json.RawMessage
}

// enqueue stores events and their pending deliveries to integration id (as
// the processor does) and wakes the engine.
func (b *testBundle) enqueue(t *testing.T, id string, evs ...ev) []queued {
	t.Helper()
	now := time.Now().UTC()
	events := make([]*signal.Event, len(evs))
	for i, e := range evs {
		msg := fmt.Sprintf("msg-%d", msgSeq.Add(1))
		events[i] = &signal.Event{MessageID: msg, PipelineID: "pip_1", Type: signal.TypeTrack, Event: e.name,
			UserID: "user-" + e.contact, Timestamp: now, ReceivedAt: now,
			Payload: json.RawMessage(`{"type":"track","messageId":"` + msg + `"}`)}
	}
	if err := b.store.AppendEvents(b.ctx, store.AppendEventsParams{Events: events}); err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}
	ds := make([]*signal.Delivery, len(evs))
	out := make([]queued, len(evs))
	for i, e := range evs {
		if e.name == "" {
			e.name = "placed order"
		}
		if e.priority == 0 {
			e.priority = signal.PriorityNormal
		}
		payload, err := b.vendor.Payload(&integration.Event{IntegrationID: id, PipelineID: "pip_1", MessageID: events[i].MessageID,
			VendorEventName: e.name, Timestamp: now, Contact: integration.Contact{Email: e.contact + "@example.com"},
			Properties: map[string]any{"marketing_consent": "nonSubscribed", "seq": i}})
		if err != nil {
			t.Fatalf("Payload: %v", err)
		}
		ds[i] = &signal.Delivery{EventSeq: events[i].Seq, MessageID: events[i].MessageID, PipelineID: "pip_1",
			IntegrationID: id, Type: signal.TypeTrack, Event: e.name, Status: signal.StatusPending, VendorEventName: e.name,
			Priority: e.priority, ContactKey: e.contact, NextAttemptAt: now, Payload: payload, ReceivedAt: now}
		if e.maxAge > 0 {
			ds[i].ExpiresAt = now.Add(e.maxAge)
		}
		out[i] = queued{messageID: events[i].MessageID, eventID: integrationtest.EventID(id, "pip_1", events[i].MessageID), payload: payload}
	}
	err := b.store.RecordProcessed(b.ctx, store.RecordProcessedParams{UpToSeq: events[len(events)-1].Seq, Deliveries: ds, Now: now})
	if err != nil {
		t.Fatalf("RecordProcessed: %v", err)
	}
	b.engine.Pending(id)
	return out
}

// contacts returns n events of n different contacts.
func contacts(prefix string, n int, priority int) []ev {
	out := make([]ev, n)
	for i := range out {
		out[i] = ev{contact: fmt.Sprintf("%s-%d", prefix, i), priority: priority}
	}
	return out
}

// live returns the live events of integration id, by message id.
func (b *testBundle) live(t *testing.T, id string) map[string]*signal.LiveEvent {
	t.Helper()
	out := map[string]*signal.LiveEvent{}
	p := store.ListLiveEventsParams{IntegrationID: id, Limit: 1000}
	for {
		page, next, err := b.store.ListLiveEvents(b.ctx, p)
		if err != nil {
			t.Fatalf("ListLiveEvents: %v", err)
		}
		for _, le := range page {
			out[le.MessageID] = le
		}
		if next == "" {
			return out
		}
		p.Cursor = next
	}
}

// waitStatus waits until every queued delivery of id has status.
func (b *testBundle) waitStatus(t *testing.T, id string, within time.Duration, status signal.DeliveryStatus, qs ...queued) map[string]*signal.LiveEvent {
	t.Helper()
	var les map[string]*signal.LiveEvent
	eventually(t, within, func() bool {
		les = b.live(t, id)
		for _, q := range qs {
			if le := les[q.messageID]; le == nil || le.Status != status {
				return false
			}
		}
		return true
	}, func() string {
		n := 0
		for _, q := range qs {
			if le := les[q.messageID]; le != nil && le.Status == status {
				n++
			}
		}
		return fmt.Sprintf("%d of %d deliveries of %s are %s", n, len(qs), id, status)
	})
	return les
}

func (b *testBundle) integration(t *testing.T, id string) *signal.Integration {
	t.Helper()
	in, err := b.store.GetIntegration(b.ctx, store.GetIntegrationParams{ID: id})
	if err != nil {
		t.Fatalf("GetIntegration: %v", err)
	}
	return in
}

// eventually polls cond every 10ms until it holds or within passes.
func eventually(t *testing.T, within time.Duration, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, msg())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// byEvent groups requests by eventID.
func byEvent(rs []received) map[string][]received {
	out := map[string][]received{}
	for _, r := range rs {
		out[r.eventID] = append(out[r.eventID], r)
	}
	return out
}
