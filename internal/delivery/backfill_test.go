package delivery_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/backfill"
	"github.com/signalhq/signal/internal/delivery"
	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/integration/omnisend"
	"github.com/signalhq/signal/internal/integration/omnisend/omnisendtest"
	"github.com/signalhq/signal/internal/pipeline"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/sqlite"
	"github.com/signalhq/signal/internal/store/storetest"
)

// backfillWorld is a store, a batch-capable fake Omnisend, and (per run)
// an engine, a processor and a backfill sender over them.
type backfillWorld struct {
	ctx  context.Context
	db   *sqlite.DB
	fake *omnisendtest.Fake
	reg  *integration.Registry
	in   *signal.Integration
	// bfStore, when set, is the backfill sender's store (a wrapper).
	bfStore delivery.BackfillStore
	// clock, when set, is the engine's clock.
	clock func() time.Time
}

func newBackfillWorld(t *testing.T) *backfillWorld {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(t.TempDir(), "signal.db"), Cipher: storetest.Cipher()})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	fake := omnisendtest.New(t)
	fake.Limit = 6000
	// Every order whose number ends in 3 is refused by Omnisend.
	fake.ItemError = func(item map[string]any) (int, string) {
		props, _ := item["properties"].(map[string]any)
		if id, _ := props["orderID"].(string); strings.HasSuffix(id, "3") {
			return 400, "orderID " + id + " is invalid"
		}
		return 0, ""
	}
	reg := integration.NewRegistry()
	vendor := omnisend.New(omnisend.Options{BaseURL: fake.URL()})
	reg.Register(vendor)
	variant, _ := vendor.Entry().Variant("default")
	now := time.Now().UTC()
	in := &signal.Integration{ID: "int_omni", CatalogKey: omnisend.Key, Name: "Omnisend", Variant: "default", DeliveryMode: "server_side",
		Config: map[string]any{"api_key": "key-1"}, Enabled: true, Status: signal.IntegrationActive, Blueprint: variant.Blueprint,
		CreatedAt: now, UpdatedAt: now}
	if err := db.CreateIntegration(ctx, store.CreateIntegrationParams{Integration: in}); err != nil {
		t.Fatalf("CreateIntegration: %v", err)
	}
	return &backfillWorld{ctx: ctx, db: db, fake: fake, reg: reg, in: in}
}

// start runs an engine, processor and backfill sender until the returned
// stop is called (or the test ends).
func (w *backfillWorld) start(t *testing.T, tune ...func(*delivery.Config)) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(w.ctx))
	cfg := testConfig()
	for _, f := range tune {
		f(&cfg)
	}
	engine := delivery.New(cfg, delivery.Deps{Store: w.db, Vendors: w.reg, Hasher: plainHasher{}, Log: slog.New(slog.DiscardHandler), Now: w.clock})
	proc := pipeline.New(pipeline.Config{Idle: 20 * time.Millisecond}, pipeline.Deps{Store: w.db, Hasher: plainHasher{}, Vendors: w.reg, Notifier: engine})
	var bst delivery.BackfillStore = w.db
	if w.bfStore != nil {
		bst = w.bfStore
	}
	bfs := engine.NewBackfills(bst, delivery.BackfillConfig{Holder: "test", PollFirst: 20 * time.Millisecond, PollMax: 100 * time.Millisecond,
		FeedChunk: 120, FeedAhead: 150, Idle: 50 * time.Millisecond, Scan: 50 * time.Millisecond}, proc.Wake)
	done := make(chan struct{}, 3)
	for _, run := range []func(context.Context) error{engine.Run, proc.Run, bfs.Run} {
		go func() { run(ctx); done <- struct{}{} }()
	}
	var once atomic.Bool
	stop = func() {
		if once.Swap(true) {
			return
		}
		cancel()
		for range 3 {
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				t.Fatal("engine, processor or backfills did not stop")
			}
		}
	}
	t.Cleanup(stop)
	return stop
}

// create stores a backfill of n orders (numbered from 1) as the API would.
func (w *backfillWorld) create(t *testing.T, id string, n int) {
	t.Helper()
	var body strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&body, `{"type":"track","event":"Order Completed","userId":"u%d","messageId":"hist-%d","timestamp":"2026-01-02T03:04:05Z",`+
			`"context":{"traits":{"email":"c%d@example.com"}},"properties":{"order_id":"o-%d","revenue":%d,"currency":"EUR"}}`+"\n", i, i, i, i, i)
	}
	items, rejected, err := backfill.Decode(strings.NewReader(body.String()), backfill.DefaultLimits)
	if err != nil || len(rejected) > 0 {
		t.Fatalf("decode: %v %v", err, rejected)
	}
	st := make([]store.BackfillItem, len(items))
	for i, it := range items {
		st[i] = store.BackfillItem{Line: it.Line, Message: it.Message}
	}
	if err := w.db.CreateBackfill(w.ctx, store.CreateBackfillParams{ID: id, IntegrationID: w.in.ID, Items: st, Now: time.Now()}); err != nil {
		t.Fatalf("CreateBackfill: %v", err)
	}
}

func (w *backfillWorld) waitDone(t *testing.T, id string, within time.Duration) *store.Backfill {
	t.Helper()
	var bf *store.Backfill
	eventually(t, within, func() bool {
		var err error
		bf, err = w.db.GetBackfill(w.ctx, store.GetBackfillParams{ID: id})
		return err == nil && bf.Status != store.BackfillRunning
	}, func() string { return fmt.Sprintf("backfill still %+v", bf) })
	return bf
}

// checkAccounted checks every item ended delivered or failed (the refused
// ones with Omnisend's item answer on Live Events) and went out once.
func (w *backfillWorld) checkAccounted(t *testing.T, bf *store.Backfill, n int) {
	t.Helper()
	wantFailed := (n + 7) / 10 // orders 3, 13, 23…
	if bf.Status != store.BackfillDone || bf.Accepted != n || bf.Delivered+bf.Failed != n || bf.Failed != wantFailed || bf.Pending != 0 {
		t.Fatalf("backfill = %+v, want done with %d delivered and %d failed", bf, n-wantFailed, wantFailed)
	}
	sent := w.fake.Sent()
	for _, l := range w.fake.Live() {
		delete(sent, l.EventID)
	}
	if len(sent) != n {
		t.Errorf("Omnisend got %d distinct eventIDs, want %d", len(sent), n)
	}
	for id, c := range sent {
		if c != 1 {
			t.Errorf("eventID %s sent %d times", id, c)
		}
	}
	les, _, err := w.db.ListLiveEvents(w.ctx, store.ListLiveEventsParams{IntegrationID: w.in.ID, Status: signal.StatusFailed, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(les) != wantFailed {
		t.Fatalf("%d failed live events, want %d", len(les), wantFailed)
	}
	for _, le := range les {
		if le.Reason != signal.ReasonVendorRejected || le.VendorStatus != 400 || !strings.Contains(le.VendorResponse, "is invalid") || le.PipelineID != bf.ID {
			t.Fatalf("failed item on Live Events = %+v", le)
		}
	}
}

func TestBackfillSendsEveryItemOnceInBatches(t *testing.T) {
	t.Parallel()
	w := newBackfillWorld(t)
	w.fake.PollsBeforeDone = 1
	w.create(t, "bf_a", 230)
	w.start(t)
	// A live order posted meanwhile is sent on its own, at once.
	live := &signal.Event{MessageID: "live-1", PipelineID: "pip_1", Type: signal.TypeTrack, Event: "Order Completed", Timestamp: time.Now(),
		ReceivedAt: time.Now(), Payload: json.RawMessage(`{"type":"track","event":"Order Completed","userId":"live","messageId":"live-1",` +
			`"context":{"traits":{"email":"live@example.com"}},"properties":{"order_id":"live-1"}}`)}
	if err := w.db.AppendEvents(w.ctx, store.AppendEventsParams{Events: []*signal.Event{live}}); err != nil {
		t.Fatal(err)
	}
	bf := w.waitDone(t, "bf_a", 60*time.Second)
	if got := w.fake.Live(); len(got) != 1 || got[0].EventName != "placed order" {
		t.Fatalf("single events = %+v, want the live order alone", got)
	}
	if n := w.fake.Batches(); n != 3 {
		t.Errorf("%d batches for 230 items, want 3", n)
	}
	w.checkAccounted(t, bf, 230)
}

func TestBackfillResumesAfterStopWithoutResending(t *testing.T) {
	t.Parallel()
	w := newBackfillWorld(t)
	w.fake.PollsBeforeDone = 1000 // no batch finishes before the stop
	w.create(t, "bf_b", 250)
	stopped := make(chan struct{})
	var stop func()
	w.fake.BeforeCreate = func(n int) bool {
		if n == 3 {
			// The node dies while its third batch is on its way: two
			// acknowledged batches are open, unpolled to the end.
			close(stopped)
			return false
		}
		return n < 3
	}
	stop = w.start(t)
	<-stopped
	stop()
	w.fake.Set(func(f *omnisendtest.Fake) { f.PollsBeforeDone, f.BeforeCreate = 0, nil })
	if err := w.db.ReleaseLeases(w.ctx); err != nil { // as a single node does at start-up
		t.Fatal(err)
	}
	w.start(t)
	bf := w.waitDone(t, "bf_b", 60*time.Second)
	w.checkAccounted(t, bf, 250)
}

// A batch the vendor never acknowledged (the connection dropped) is sent
// again after a back-off, as a live event would be: every item still goes
// out once, and its Live Events row counts the failed attempt.
func TestBackfillRetriesAnUnacknowledgedBatch(t *testing.T) {
	t.Parallel()
	w := newBackfillWorld(t)
	w.fake.BeforeCreate = func(n int) bool { return n > 2 }
	w.create(t, "bf_c", 120)
	w.start(t)
	bf := w.waitDone(t, "bf_c", 60*time.Second)
	w.checkAccounted(t, bf, 120)
	les, _, err := w.db.ListLiveEvents(w.ctx, store.ListLiveEventsParams{IntegrationID: w.in.ID, Status: signal.StatusDelivered, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	retried := 0
	for _, le := range les {
		if le.Attempts >= 2 {
			retried++
		}
	}
	if retried == 0 {
		t.Fatalf("no delivered item shows the dropped attempt (%d rows)", len(les))
	}
}

// A batch whose results never come (the vendor says inProgress for ever)
// ends its items failed, retries_exhausted, once the retry window is over:
// the backfill finishes.
func TestBackfillBatchWithoutResultsEndsFailed(t *testing.T) {
	t.Parallel()
	w := newBackfillWorld(t)
	w.fake.PollsBeforeDone = 1 << 30
	w.create(t, "bf_d", 30)
	w.start(t, func(c *delivery.Config) { c.Backoff.Horizon = 300 * time.Millisecond })
	bf := w.waitDone(t, "bf_d", 60*time.Second)
	if bf.Status != store.BackfillDone || bf.Failed != 30 || bf.Delivered != 0 {
		t.Fatalf("backfill = %+v, want done with its 30 items failed", bf)
	}
	les, _, err := w.db.ListLiveEvents(w.ctx, store.ListLiveEventsParams{IntegrationID: w.in.ID, Status: signal.StatusFailed, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(les) != 30 || les[0].Reason != signal.ReasonRetriesExhausted {
		t.Fatalf("%d failed rows, first %+v; want 30, retries_exhausted", len(les), les[0])
	}
}

// flakyRecord fails RecordBatch for its first fails calls (a busy database,
// a failover), as a store error.
type flakyRecord struct {
	*sqlite.DB
	fails atomic.Int32
}

func (f *flakyRecord) RecordBatch(ctx context.Context, p store.RecordBatchParams) error {
	if f.fails.Add(-1) >= 0 {
		return errors.New("database is locked (SQLITE_BUSY)")
	}
	return f.DB.RecordBatch(ctx, p)
}

// An acknowledged batch whose recording fails is recorded again (with
// back-off, for longer than the claim's lease) before anything else goes
// out: its items are never sent a second time.
func TestBackfillRetriesRecordingAnAcknowledgedBatch(t *testing.T) {
	t.Parallel()
	w := newBackfillWorld(t)
	flaky := &flakyRecord{DB: w.db}
	// 60 failures at the test back-off's 50 ms outlast the 2 s lease.
	flaky.fails.Store(60)
	w.bfStore = flaky
	w.create(t, "bf_r", 150)
	w.start(t)
	bf := w.waitDone(t, "bf_r", 60*time.Second)
	w.checkAccounted(t, bf, 150)
	if n := w.fake.Batches(); n != 2 {
		t.Errorf("%d batches for 150 items, want 2 (none resent)", n)
	}
}

// A batch whose results never come times out from when it was recorded,
// not from the start of the node polling it: after a restart two hours
// later (a one-hour horizon), its items end failed at once.
func TestBackfillBatchHorizonSurvivesRestart(t *testing.T) {
	t.Parallel()
	w := newBackfillWorld(t)
	w.fake.PollsBeforeDone = 1 << 30
	w.create(t, "bf_h", 20)
	stop := w.start(t)
	eventually(t, 30*time.Second, func() bool {
		open, err := w.db.OpenBatches(w.ctx, store.OpenBatchesParams{BackfillID: "bf_h"})
		return err == nil && len(open) == 1
	}, func() string { return "no batch recorded" })
	stop()
	if err := w.db.ReleaseLeases(w.ctx); err != nil {
		t.Fatal(err)
	}
	w.clock = func() time.Time { return time.Now().Add(2 * time.Hour) }
	w.start(t)
	bf := w.waitDone(t, "bf_h", 30*time.Second)
	if bf.Status != store.BackfillDone || bf.Failed != 20 {
		t.Fatalf("backfill = %+v, want done with its 20 items failed", bf)
	}
}

// A replay that takes some of a running backfill's failed rows live does
// not keep the backfill running for ever: it ends once their live sends
// are done, and they count for it.
func TestBackfillEndsAfterAReplayTookRowsLive(t *testing.T) {
	t.Parallel()
	w := newBackfillWorld(t)
	// Paused while the lines are built: nothing goes out yet.
	w.in.Status = signal.IntegrationPaused
	if err := w.db.UpdateIntegration(w.ctx, store.UpdateIntegrationParams{Integration: w.in}); err != nil {
		t.Fatal(err)
	}
	const n = 40
	w.create(t, "bf_p", n)
	w.start(t)
	var bf *store.Backfill
	eventually(t, 30*time.Second, func() bool {
		var err error
		bf, err = w.db.GetBackfill(w.ctx, store.GetBackfillParams{ID: "bf_p"})
		return err == nil && bf.Built == n && bf.Queued == n
	}, func() string { return fmt.Sprintf("lines not all built: %+v", bf) })
	// Five rows fail, and a replay takes them live.
	now := time.Now()
	ds, err := w.db.ClaimBackfillDeliveries(w.ctx, store.ClaimBackfillParams{BackfillID: "bf_p", Limit: 5, Now: now, LeaseUntil: now.Add(time.Minute)})
	if err != nil || len(ds) != 5 {
		t.Fatalf("claim = %d, %v", len(ds), err)
	}
	for _, d := range ds {
		d.Status, d.Reason = signal.StatusFailed, signal.ReasonRetriesExhausted
	}
	if err := w.db.FinishDeliveries(w.ctx, store.FinishDeliveriesParams{Deliveries: ds, Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.RequeueDeliveries(w.ctx, store.RequeueDeliveriesParams{IntegrationID: w.in.ID, Status: signal.StatusFailed, Now: now}); err != nil {
		t.Fatal(err)
	}
	w.in.Status = signal.IntegrationActive
	if err := w.db.UpdateIntegration(w.ctx, store.UpdateIntegrationParams{Integration: w.in}); err != nil {
		t.Fatal(err)
	}
	bf = w.waitDone(t, "bf_p", 60*time.Second)
	if bf.Status != store.BackfillDone || bf.Delivered+bf.Failed != n || bf.Pending != 0 {
		t.Fatalf("backfill = %+v, want done with every row counted", bf)
	}
}
