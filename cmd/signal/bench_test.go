package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/crypt"
	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/integration/omnisend"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/sqlite"
)

// BenchmarkBacklogMemory: the resident memory of the signal process while
// it works through a backlog of 1,000,000 deliveries (sending at Omnisend's
// 400 a minute to a fake), next to the same binary idle on an empty data
// dir. Reports the peak RSS of each in MB.
func BenchmarkBacklogMemory(b *testing.B) {
	backlog := 1_000_000
	if s := os.Getenv("SIGNAL_BENCH_BACKLOG"); s != "" {
		backlog, _ = strconv.Atoi(s)
	}
	encKey, _ := crypt.NewKey()
	env := []string{"ENCRYPTION_KEY=" + encKey, "JWT_SECRET=" + strings.Repeat("j", 40)}
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Rate-Limit-Limit", "400")
		w.Header().Set("X-Rate-Limit-Remaining", "300")
		w.Header().Set("X-Rate-Limit-Reset", "30")
		w.WriteHeader(http.StatusAccepted)
	}))
	defer fake.Close()
	env = append(env, "SIGNAL_OMNISEND_API_URL="+fake.URL)

	for i := 0; i < b.N; i++ {
		idle := peakRSS(b, b.TempDir(), env)
		dir := b.TempDir()
		start := time.Now()
		fillBacklog(b, dir, encKey, backlog)
		b.Logf("queued %d deliveries in %s", backlog, time.Since(start).Round(time.Second))
		busy := peakRSS(b, dir, env)
		b.ReportMetric(idle, "idle-MB")
		b.ReportMetric(busy, "backlog-MB")
	}
}

// peakRSS runs signal on dir for 15 s and returns its peak resident set
// (VmHWM) in MB.
func peakRSS(b *testing.B, dir string, env []string) float64 {
	b.Helper()
	n := start(b, dir, env...)
	time.Sleep(15 * time.Second)
	mb := peakMB(n.cmd.Process.Pid)
	n.cmd.Process.Kill()
	n.wait()
	if mb == 0 {
		b.Fatal("no VmHWM in /proc status")
	}
	return mb
}

func fillBacklog(b *testing.B, dir, encKey string, n int) {
	b.Helper()
	ctx := context.Background()
	kb, _ := crypt.ParseKey(encKey)
	box, _ := crypt.NewBox(kb)
	db, err := sqlite.Open(ctx, sqlite.Options{Path: dir + "/signal.db", Cipher: box})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	in := &signal.Integration{ID: "int_backlog", CatalogKey: "omnisend", Name: "Omnisend", Variant: "default", DeliveryMode: "server_side",
		Config: map[string]any{"api_key": "backlog-key-0000"}, Enabled: true, Status: signal.IntegrationActive, PipelineIDs: []string{}}
	if err := db.CreateIntegration(ctx, store.CreateIntegrationParams{Integration: in}); err != nil {
		b.Fatal(err)
	}
	v := omnisend.New(omnisend.Options{})
	now := time.Now()
	var ds []*signal.Delivery
	for i := 1; i <= n; i++ {
		msg := "m-" + strconv.Itoa(i)
		payload, err := v.Payload(&integration.Event{IntegrationID: in.ID, PipelineID: "pip", MessageID: msg, VendorEventName: "page viewed", Timestamp: now,
			Contact:    integration.Contact{Email: fmt.Sprintf("visitor%d@example.com", i%50000)},
			Properties: map[string]any{"url": "https://shop.example.com/p/" + strconv.Itoa(i), "title": "A product page", "marketing_consent": "nonSubscribed"}})
		if err != nil {
			b.Fatal(err)
		}
		ds = append(ds, &signal.Delivery{EventSeq: int64(i), MessageID: msg, PipelineID: "pip", IntegrationID: in.ID, Type: "page",
			Status: signal.StatusPending, VendorEventName: "page viewed", Priority: signal.PriorityLow,
			ContactKey: "c" + strconv.Itoa(i%50000), NextAttemptAt: now, ReceivedAt: now, Payload: payload})
		if len(ds) == 10000 || i == n {
			if err := db.RecordProcessed(ctx, store.RecordProcessedParams{UpToSeq: int64(i), Deliveries: ds, Now: now}); err != nil {
				b.Fatal(err)
			}
			ds = ds[:0]
		}
	}
}
