package pipeline

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/crypt"
	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/integration/omnisend"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/sqlite"
)

var benchOrder = []byte(`{"type":"track","event":"Order Completed","userId":"user-%d","messageId":"m-%d",
	"context":{"consent":{"canonical":{"marketing":true}},"locale":"en-GB","page":{"url":"https://shop.example.com/checkout/done"}},
	"properties":{"order_id":"ORDER-5512","revenue":89.90,"currency":"GBP","coupon":"WELCOME10","products":[
	{"product_id":"SKU-1","product_name":"Wool Scarf","price":39.95,"quantity":1},
	{"product_id":"SKU-2","product_name":"Knit Hat","price":49.95,"quantity":1}]}}`)

func benchIntegration(bp signal.Blueprint) *signal.Integration {
	return &signal.Integration{ID: "int_bench", CatalogKey: "omnisend", Enabled: true, Status: signal.IntegrationActive,
		Config: map[string]any{"api_key": "bench-key-0000000000"}, Blueprint: bp}
}

// benchVariants are the blueprints the benchmarks compare: the default
// (properties copied verbatim) and recommended (array mappings, nested
// targets, transforms, contact fields).
var benchVariants = []struct {
	name string
	bp   func() signal.Blueprint
}{
	{"default", blueprint.Default},
	{"recommended", omnisend.Recommended},
}

// BenchmarkBuild measures the processing step per event on one core, with
// the identity already resolved: decode the stored message, map it with the
// variant's blueprint, normalise the contact, build the Omnisend payload.
func BenchmarkBuild(b *testing.B) {
	for _, v := range benchVariants {
		b.Run(v.name, func(b *testing.B) { benchBuild(b, benchIntegration(v.bp())) })
	}
}

func benchBuild(b *testing.B, in *signal.Integration) {
	box := benchBox(b)
	vendor := omnisend.New(omnisend.Options{})
	traits := map[string]any{"email": "Jane@Example.com", "phone": "+447700900123", "first_name": "Jane",
		"address": map[string]any{"city": "Leeds", "country": "United Kingdom"}, "gender": "female"}
	raw := []byte(fmt.Sprintf(string(benchOrder), 1, 1))
	ev := &signal.Event{Seq: 1, MessageID: "m-1", PipelineID: "pip", Type: "track", Event: "Order Completed", Timestamp: time.Now(), ReceivedAt: time.Now(), Payload: raw}
	now := time.Now()
	var phones phoneCache
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		src, err := blueprint.Decode(ev.Payload)
		if err != nil {
			b.Fatal(err)
		}
		d := build(box, &phones, vendor, in, ev, src, traits, now)
		if d.Status != signal.StatusPending {
			b.Fatalf("status %s/%s", d.Status, d.Reason)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	// Per core: events per second of CPU the process used (wall-clock
	// rates drift when the machine is shared).
	b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkProcessOnce measures whole passes of the processor over a SQLite
// event log: read and open events, resolve identities (profiles in SQLite),
// map, build payloads, record deliveries and move the cursor, 500 events a
// pass, 100 distinct visitors, per variant.
func BenchmarkProcessOnce(b *testing.B) {
	for _, v := range benchVariants {
		b.Run(v.name, func(b *testing.B) { benchProcessOnce(b, benchIntegration(v.bp())) })
	}
}

func benchProcessOnce(b *testing.B, in *signal.Integration) {
	ctx := context.Background()
	box := benchBox(b)
	db, err := sqlite.Open(ctx, sqlite.Options{Path: b.TempDir() + "/bench.db", Cipher: box})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateIntegration(ctx, store.CreateIntegrationParams{Integration: in}); err != nil {
		b.Fatal(err)
	}
	vendors := integration.NewRegistry()
	vendors.Register(omnisend.New(omnisend.Options{}))
	p := New(Config{Batch: 500}, Deps{Store: db, Hasher: box, Vendors: vendors})
	// Identify the visitors once.
	var evs []*signal.Event
	for u := 0; u < 100; u++ {
		evs = append(evs, &signal.Event{MessageID: fmt.Sprintf("id-%d", u), PipelineID: "pip", Type: "identify", ReceivedAt: time.Now(),
			Payload: []byte(fmt.Sprintf(`{"type":"identify","userId":"user-%d","traits":{"email":"u%d@example.com","phone":"07700 900%03d","first_name":"U"}}`, u, u, u))})
	}
	if err := db.AppendEvents(ctx, store.AppendEventsParams{Events: evs}); err != nil {
		b.Fatal(err)
	}
	if _, err := p.ProcessOnce(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	events := 0
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		evs = evs[:0]
		for j := 0; j < 500; j++ {
			n := i*500 + j
			evs = append(evs, &signal.Event{MessageID: fmt.Sprintf("m-%d", n), PipelineID: "pip", Type: "track", Event: "Order Completed",
				Timestamp: time.Now(), ReceivedAt: time.Now(), Payload: []byte(fmt.Sprintf(string(benchOrder), n%100, n))})
		}
		if err := db.AppendEvents(ctx, store.AppendEventsParams{Events: evs}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		cpu0 := cpuTime()
		n, err := p.ProcessOnce(ctx)
		cpu += cpuTime() - cpu0
		if err != nil || n != 500 {
			b.Fatalf("processed %d: %v", n, err)
		}
		events += n
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	// Per core: the CPU of the passes only (wall-clock rates drift when
	// the machine is shared).
	b.ReportMetric(float64(events)/cpu.Seconds(), "events/cpu-s")
}

func benchBox(b *testing.B) *crypt.Box {
	key, _ := crypt.NewKey()
	kb, _ := crypt.ParseKey(key)
	box, err := crypt.NewBox(kb)
	if err != nil {
		b.Fatal(err)
	}
	return box
}
