package delivery_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/delivery"
	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/integration/omnisend"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/sqlite"
	"github.com/signalhq/signal/internal/store/storetest"
)

// TestRedirectsAreNotFollowed: the engine's own client never carries the
// API key or a contact's data to a host a redirect names; the 3xx is
// retried like a server error.
func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer other.Close()
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/v5/events", http.StatusTemporaryRedirect)
	}))
	defer redirecting.Close()

	ctx := t.Context()
	db, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(t.TempDir(), "signal.db"), Cipher: storetest.Cipher()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	vendor := omnisend.New(omnisend.Options{BaseURL: redirecting.URL})
	reg := integration.NewRegistry()
	reg.Register(vendor)
	in := &signal.Integration{ID: "int_r", CatalogKey: "omnisend", Name: "O", Variant: "default", DeliveryMode: "server_side",
		Config: map[string]any{"api_key": "secret-key"}, Enabled: true, Status: signal.IntegrationActive, PipelineIDs: []string{}}
	if err := db.CreateIntegration(ctx, in); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	ev := &signal.Event{MessageID: "m1", PipelineID: "p", Type: "track", Event: "Order Completed", Timestamp: now, ReceivedAt: now, Payload: []byte(`{}`)}
	if err := db.AppendEvents(ctx, store.AppendEventsParams{Events: []*signal.Event{ev}}); err != nil {
		t.Fatal(err)
	}
	payload, _ := vendor.Payload(&integration.Event{IntegrationID: in.ID, PipelineID: "pip_1", MessageID: "m1", VendorEventName: "placed order", Timestamp: now,
		Contact: integration.Contact{Email: "jane@example.com"}, Properties: map[string]any{}})
	d := &signal.Delivery{EventSeq: ev.Seq, MessageID: "m1", PipelineID: "p", IntegrationID: in.ID, Type: "track", Status: signal.StatusPending,
		Priority: signal.PriorityHigh, ContactKey: "c", NextAttemptAt: now, ReceivedAt: now, Payload: payload}
	if err := db.RecordProcessed(ctx, store.RecordProcessedParams{UpToSeq: ev.Seq, Deliveries: []*signal.Delivery{d}, Now: now}); err != nil {
		t.Fatal(err)
	}
	cfg := delivery.DefaultConfig()
	cfg.Poll = 20 * time.Millisecond
	e := delivery.New(cfg, db, reg, plainHasher{}, nil, slog.New(slog.DiscardHandler), nil)
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(runCtx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		les, _, err := db.ListLiveEvents(ctx, store.ListLiveEventsParams{IntegrationID: in.ID, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(les) == 1 && les[0].Attempts > 0 {
			if les[0].Status != signal.StatusPending || les[0].Reason != signal.ReasonRetrying || les[0].VendorStatus != http.StatusTemporaryRedirect {
				t.Fatalf("after a redirect: %s/%s vendor status %d, want pending/retrying 307", les[0].Status, les[0].Reason, les[0].VendorStatus)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no attempt recorded")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("the redirect was followed: the other host got %d requests", n)
	}
}
