package delivery_test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"
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

// benchFake is an Omnisend for benchmarks: it accepts every event, or
// enforces a fixed window of `limit` requests per `window` (answering 429
// past it), and reports its limit in Omnisend's headers (the reset in
// fractional seconds, so a scaled window can be paced).
type benchFake struct {
	srv    *httptest.Server
	limit  int
	window time.Duration

	mu          sync.Mutex
	windowStart time.Time
	used        int
	accepted    atomic.Int64
	refused     atomic.Int64
	seen        map[string]time.Time // eventName+eventID → arrival
}

func newBenchFake(b *testing.B, limit int, window time.Duration) *benchFake {
	f := &benchFake{limit: limit, window: window, seen: map[string]time.Time{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	b.Cleanup(f.srv.Close)
	return f
}

func (f *benchFake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	now := time.Now()
	f.mu.Lock()
	if f.limit > 0 && now.Sub(f.windowStart) >= f.window {
		f.windowStart, f.used = now, 0
	}
	ok := f.limit == 0 || f.used < f.limit
	if ok {
		f.used++
		if i := bytes.Index(body, []byte(`"eventID":"`)); i >= 0 {
			f.seen[string(body[i+11:i+47])] = now
		}
	}
	remaining, reset := 1000000, 60.0
	if f.limit > 0 {
		remaining, reset = max(f.limit-f.used, 0), f.window.Seconds()-now.Sub(f.windowStart).Seconds()
	}
	f.mu.Unlock()
	limit := f.limit
	if limit == 0 {
		limit = 1000000
	}
	w.Header().Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	w.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("X-Rate-Limit-Reset", strconv.FormatFloat(reset, 'f', 3, 64))
	if !ok {
		f.refused.Add(1)
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	f.accepted.Add(1)
	w.WriteHeader(http.StatusAccepted)
}

func (f *benchFake) arrival(eventID string) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.seen[eventID]
	return t, ok
}

// benchVendor is Omnisend whose limit counts over window, not a minute.
type benchVendor struct {
	*omnisend.Vendor
	window time.Duration
}

func (v benchVendor) Classify(resp *http.Response, body []byte, err error) integration.Outcome {
	o := v.Vendor.Classify(resp, body, err)
	if o.Limit != nil {
		o.Limit.Window = v.window
		if o.Kind == integration.RateLimited {
			// Omnisend's floor of a second is for its minute window;
			// scaled, the wait is until the fake's window resets.
			o.RetryAfter = o.Limit.Reset
		}
	}
	return o
}

type benchHasher struct{}

func (benchHasher) Hash(s string) string { return "h:" + s }

type benchBundle struct {
	db     *sqlite.DB
	engine *delivery.Engine
	vendor integration.Vendor
	in     *signal.Integration
	seq    int64
}

func newBenchBundle(b *testing.B, fake *benchFake, window time.Duration) *benchBundle {
	b.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Options{Path: b.TempDir() + "/bench.db", Cipher: storetest.Cipher()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	v := benchVendor{omnisend.New(omnisend.Options{BaseURL: fake.srv.URL}), window}
	vendors := integration.NewRegistry()
	vendors.Register(v)
	in := &signal.Integration{ID: "int_bench", CatalogKey: "omnisend", Name: "Omnisend", Variant: "default", DeliveryMode: "server_side",
		Config: map[string]any{"api_key": "bench-key-" + strconv.FormatInt(time.Now().UnixNano(), 10)}, Enabled: true, Status: signal.IntegrationActive}
	if err := db.CreateIntegration(context.Background(), in); err != nil {
		b.Fatal(err)
	}
	cfg := delivery.DefaultConfig()
	cfg.Poll = 50 * time.Millisecond
	e := delivery.New(cfg, db, vendors, benchHasher{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	return &benchBundle{db: db, engine: e, vendor: v, in: in}
}

// enqueue queues n deliveries of one event name at a priority, each for its
// own contact; it returns their eventIDs.
func (bb *benchBundle) enqueue(b *testing.B, n int, name string, priority int) []string {
	return bb.enqueueFor(b, n, name, priority, "")
}

// enqueueFor is enqueue for one given contact ("" for a contact each).
func (bb *benchBundle) enqueueFor(b *testing.B, n int, name string, priority int, contact string) []string {
	b.Helper()
	var (
		ds  []*signal.Delivery
		ids []string
		now = time.Now()
	)
	for i := 0; i < n; i++ {
		bb.seq++
		msg := "m-" + strconv.FormatInt(bb.seq, 10)
		payload, err := bb.vendor.Payload(&integration.Event{IntegrationID: bb.in.ID, PipelineID: "pip", MessageID: msg, VendorEventName: name, Timestamp: now,
			Contact: integration.Contact{Email: fmt.Sprintf("c%d@example.com", bb.seq)}, Properties: map[string]any{"marketing_consent": "nonSubscribed"}})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, omnisend.EventID(bb.in.ID, "pip", msg))
		ds = append(ds, &signal.Delivery{EventSeq: bb.seq, MessageID: msg, PipelineID: "pip", IntegrationID: bb.in.ID, Type: "track",
			Event: name, Status: signal.StatusPending, VendorEventName: name, Priority: priority, ContactKey: cmp.Or(contact, "c"+strconv.FormatInt(bb.seq, 10)),
			NextAttemptAt: now, ReceivedAt: now, Payload: payload})
		if len(ds) == 2000 || i == n-1 {
			if err := bb.db.RecordProcessed(context.Background(), store.RecordProcessedParams{UpToSeq: bb.seq, Deliveries: ds, Now: now}); err != nil {
				b.Fatal(err)
			}
			ds = ds[:0]
		}
	}
	bb.engine.Pending(bb.in.ID)
	return ids
}

func (bb *benchBundle) run(b *testing.B) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		bb.engine.Run(ctx)
		close(done)
	}()
	return func() {
		cancel()
		<-done
	}
}

// BenchmarkDeliveryThroughput: events/s delivered to a fake Omnisend with no
// limit, through the queue (claim, send, record), against a baseline of the
// same requests sent by 32 goroutines with no queue at all.
func BenchmarkDeliveryThroughput(b *testing.B) {
	const perRound = 5000
	b.Run("baseline-http", func(b *testing.B) {
		fake := newBenchFake(b, 0, time.Minute)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
		body := []byte(`{"eventName":"page viewed","origin":"api","eventID":"00000000-0000-5000-8000-000000000000","contact":{"email":"c@example.com"},"properties":{}}`)
		start := time.Now()
		for i := 0; i < b.N; i++ {
			var wg sync.WaitGroup
			var next atomic.Int64
			for w := 0; w < 32; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= perRound {
						resp, err := client.Post(fake.srv.URL+"/v5/events", "application/json", bytes.NewReader(body))
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}()
			}
			wg.Wait()
		}
		b.ReportMetric(float64(b.N*perRound)/time.Since(start).Seconds(), "events/s")
	})
	b.Run("engine", func(b *testing.B) {
		fake := newBenchFake(b, 0, time.Minute)
		bb := newBenchBundle(b, fake, time.Minute)
		stop := bb.run(b)
		defer stop()
		var elapsed time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			base := fake.accepted.Load()
			bb.enqueue(b, perRound, "page viewed", signal.PriorityLow)
			start := time.Now()
			b.StartTimer()
			bb.engine.Pending(bb.in.ID)
			for fake.accepted.Load()-base < perRound {
				time.Sleep(time.Millisecond)
			}
			elapsed += time.Since(start)
		}
		b.ReportMetric(float64(b.N*perRound)/elapsed.Seconds(), "events/s")
	})
}

// BenchmarkRateLimitUtilisation: a backlog far above a fake that enforces a
// fixed window (200 requests a second: Omnisend's 400 a minute, time-scaled
// ×30); reports the share of the allowed rate used and the share of
// requests answered 429.
func BenchmarkRateLimitUtilisation(b *testing.B) {
	const (
		limit   = 200
		window  = time.Second
		windows = 8
	)
	for i := 0; i < b.N; i++ {
		fake := newBenchFake(b, limit, window)
		bb := newBenchBundle(b, fake, window)
		bb.enqueue(b, limit*(windows+4), "page viewed", signal.PriorityLow)
		stop := bb.run(b)
		// Let the engine learn the limit from the first answers, then
		// count whole windows.
		time.Sleep(2 * window)
		a0, r0 := fake.accepted.Load(), fake.refused.Load()
		time.Sleep(windows * window)
		a, r := fake.accepted.Load()-a0, fake.refused.Load()-r0
		stop()
		b.ReportMetric(100*float64(a)/float64(limit*windows), "%used")
		b.ReportMetric(100*float64(r)/float64(max(a+r, 1)), "%429")
	}
}

// BenchmarkOrderLatency: with 10,000 page views waiting and Omnisend's real
// limit (400 a minute), how long a new placed order takes to arrive. Each
// order's buyer has a page view of their own waiting in the backlog, as a
// real buyer does. Reports p50 and p99 over 20 orders, queued one every
// 400 ms.
func BenchmarkOrderLatency(b *testing.B) {
	for i := 0; i < b.N; i++ {
		fake := newBenchFake(b, 400, time.Minute)
		bb := newBenchBundle(b, fake, time.Minute)
		bb.enqueue(b, 10000, "page viewed", signal.PriorityLow)
		stop := bb.run(b)
		time.Sleep(time.Second)
		var lat []time.Duration
		for j := 0; j < 20; j++ {
			queued := time.Now()
			// The buyer of page view number 5000+j (still queued).
			id := bb.enqueueFor(b, 1, "placed order", signal.PriorityHigh, "c"+strconv.Itoa(5000+j))[0]
			for {
				if t, ok := fake.arrival(id); ok {
					lat = append(lat, t.Sub(queued))
					break
				}
				if time.Since(queued) > 30*time.Second {
					b.Fatalf("order %d not delivered within 30 s", j)
				}
				time.Sleep(2 * time.Millisecond)
			}
			time.Sleep(400 * time.Millisecond)
		}
		stop()
		sort.Slice(lat, func(x, y int) bool { return lat[x] < lat[y] })
		b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
		b.ReportMetric(float64(fake.refused.Load()), "429s")
	}
}
