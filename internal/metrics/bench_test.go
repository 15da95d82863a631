package metrics

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/crypt"
	"github.com/signalhq/signal/internal/gateway"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/sqlite"
)

const benchKey = "dk_live_bench0123456789"

type benchPipelines struct{}

func (benchPipelines) GetPipeline(ctx context.Context, p store.GetPipelineParams) (*signal.Pipeline, error) {
	return &signal.Pipeline{ID: "pip_bench", Key: benchKey}, nil
}

// BenchmarkIngestMetrics: the durable ingestion path (gateway, group
// commit, fsync) without and with metrics (the instrumented store, the
// ReceivedFunc and the response-counting middleware), in the same run.
func BenchmarkIngestMetrics(b *testing.B) {
	body := []byte(`{"event":"Product Viewed","userId":"user-123","properties":{"product_id":"SKU-1","price":39.95}}`)
	// Interleaved rounds: a loaded machine's drift hits both sides alike.
	for _, run := range interleaved() {
		withMetrics := run.with
		b.Run(run.name, func(b *testing.B) {
			key, _ := crypt.NewKey()
			kb, _ := crypt.ParseKey(key)
			box, _ := crypt.NewBox(kb)
			db, err := sqlite.Open(context.Background(), sqlite.Options{Path: b.TempDir() + "/bench.db", Cipher: box})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			log := slog.New(slog.DiscardHandler)
			cfg := gateway.DefaultConfig()
			var events gateway.EventAppender = db
			var h http.Handler
			if withMetrics {
				m := New()
				cfg.ReceivedFunc = m.Received
				events = m.WrapStore(db, log)
				h = m.Gateway(gateway.New(cfg, events, benchPipelines{}, log, nil), log)
			} else {
				h = gateway.New(cfg, events, benchPipelines{}, log, nil)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
			var failed atomic.Int64
			b.SetParallelism(32)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("POST", srv.URL+"/v1/t", bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+benchKey)
					resp, err := client.Do(req)
					if err != nil {
						failed.Add(1)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						failed.Add(1)
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d requests failed", n)
			}
		})
	}
}

// nopDeliveries is a store whose delivery writes cost nothing, so the
// benchmark shows what the instrumentation adds per round.
type nopDeliveries struct{ store.Store }

func (nopDeliveries) FinishDeliveries(ctx context.Context, p store.FinishDeliveriesParams) error {
	return nil
}
func (nopDeliveries) ClaimDeliveries(ctx context.Context, p store.ClaimDeliveriesParams) ([]*signal.Delivery, error) {
	return nil, nil
}

// BenchmarkDeliveryMetrics: one delivery round's bookkeeping (claim, 32
// vendor requests to a local server, finish) without and with metrics.
func BenchmarkDeliveryMetrics(b *testing.B) {
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(202)
	}))
	defer vendor.Close()
	ds := make([]*signal.Delivery, 32)
	for i := range ds {
		ds[i] = &signal.Delivery{ID: int64(i), IntegrationID: "int_bench", Status: signal.StatusDelivered, Attempt: &signal.Attempt{}}
	}
	for _, run := range interleaved() {
		withMetrics := run.with
		b.Run(run.name, func(b *testing.B) {
			var st store.Store = nopDeliveries{}
			var rt http.RoundTripper = &http.Transport{MaxIdleConnsPerHost: 32}
			if withMetrics {
				m := New()
				m.vendors.add("int_bench", "omnisend")
				st = m.WrapStore(nopDeliveries{}, nil)
				rt = m.Transport(rt, map[string]string{"omnisend": vendor.URL})
			}
			client := &http.Client{Transport: rt}
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				st.ClaimDeliveries(ctx, store.ClaimDeliveriesParams{IntegrationID: "int_bench", Limit: 32})
				for range ds {
					resp, err := client.Post(vendor.URL+"/v5/events", "application/json", bytes.NewReader([]byte(`{}`)))
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err := st.FinishDeliveries(ctx, store.FinishDeliveriesParams{Deliveries: ds}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(ds))/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

type benchRun struct {
	name string
	with bool
}

// interleaved is three rounds of without then with.
func interleaved() []benchRun {
	var runs []benchRun
	for r := 1; r <= 3; r++ {
		runs = append(runs, benchRun{fmt.Sprintf("round%d/without", r), false}, benchRun{fmt.Sprintf("round%d/with", r), true})
	}
	return runs
}

type nopAppender struct{ store.Store }

func (nopAppender) AppendEvents(ctx context.Context, p store.AppendEventsParams) error { return nil }

// BenchmarkInstrumentationCost: what the metrics add per call, on calls
// that otherwise cost nothing (the CPU time the instrumentation itself
// takes, without the disk's noise).
func BenchmarkInstrumentationCost(b *testing.B) {
	m := New()
	m.vendors.add("int_bench", "omnisend")
	log := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	ev := []*signal.Event{{Seq: 1, PipelineID: "pip_bench"}}
	b.Run("append_event", func(b *testing.B) {
		st := m.WrapStore(nopAppender{}, log)
		for i := 0; i < b.N; i++ {
			st.AppendEvents(ctx, store.AppendEventsParams{Events: ev})
			m.Received("pip_bench", 1, 0)
		}
	})
	b.Run("gateway_middleware", func(b *testing.B) {
		h := m.Gateway(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), log)
		req := httptest.NewRequest("POST", "/v1/t", nil)
		req.Header.Set("X-Request-Id", "bench-1")
		w := httptest.NewRecorder()
		for i := 0; i < b.N; i++ {
			h.ServeHTTP(w, req)
		}
	})
	b.Run("finish_delivery", func(b *testing.B) {
		st := m.WrapStore(nopDeliveries{}, log)
		ds := []*signal.Delivery{{IntegrationID: "int_bench", Status: signal.StatusDelivered, Attempt: &signal.Attempt{}}}
		for i := 0; i < b.N; i++ {
			st.FinishDeliveries(ctx, store.FinishDeliveriesParams{Deliveries: ds})
		}
	})
	b.Run("vendor_request", func(b *testing.B) {
		tr := m.Transport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 202, Body: http.NoBody}, nil
		}), map[string]string{"omnisend": "https://api.omnisend.com"})
		req, _ := http.NewRequest("POST", "https://api.omnisend.com/v5/events", nil)
		for i := 0; i < b.N; i++ {
			tr.RoundTrip(req)
		}
	})
}
