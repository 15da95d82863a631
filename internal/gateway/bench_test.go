package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/crypt"
	"github.com/signalhq/signal/internal/store/sqlite"
)

// BenchmarkIngest measures durable ingestion over real HTTP with 64
// concurrent clients: single events to /v1/t and batches of 20 to
// /v1/batch, each acknowledged only after its group commit, next to a no-op
// handler (the same server, client and request, no decoding or storage)
// measured in the same run. Read events/s; docs/benchmarks.md has the
// method and figures.
func BenchmarkIngest(b *testing.B) {
	single := []byte(`{"event":"Product Viewed","userId":"user-123","anonymousId":"0b6b5c9e-2d7f-4c2e-9a57-3f7c1c1d9e11","properties":{"product_id":"SKU-1","name":"Wool Scarf","price":39.95,"currency":"GBP","url":"https://shop.example.com/p/sku-1"},"context":{"page":{"url":"https://shop.example.com/p/sku-1","title":"Wool Scarf"},"userAgent":"Mozilla/5.0 (X11; Linux x86_64)","locale":"en-GB","consent":{"canonical":{"marketing":true}}}}`)
	msg := bytes.Replace(single, []byte(`{"event"`), []byte(`{"type":"track","event"`), 1)
	batch := []byte(`{"batch":[` + strings.TrimSuffix(strings.Repeat(string(msg)+",", 20), ",") + `]}`)

	b.Run("noop", func(b *testing.B) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"success":true}`))
		})
		runIngest(b, h, "/v1/t", single, 1)
	})
	b.Run("single", func(b *testing.B) { runIngest(b, durableGateway(b), "/v1/t", single, 1) })
	b.Run("batch20", func(b *testing.B) { runIngest(b, durableGateway(b), "/v1/batch", batch, 20) })
}

func durableGateway(b *testing.B) http.Handler {
	b.Helper()
	key, _ := crypt.NewKey()
	kb, _ := crypt.ParseKey(key)
	box, _ := crypt.NewBox(kb)
	db, err := sqlite.Open(context.Background(), sqlite.Options{Path: b.TempDir() + "/bench.db", Cipher: box})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	cfg := DefaultConfig()
	return New(cfg, db, &fakeStore{}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
}

func runIngest(b *testing.B, h http.Handler, path string, body []byte, perRequest int) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128, MaxConnsPerHost: 128}}
	const clients = 64
	var failed atomic.Int64
	b.SetParallelism((clients + 1) / 2) // GOMAXPROCS is 2 on the target machine
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", srv.URL+path, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+testKey)
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
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d requests failed", n)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(b.N*perRequest)/elapsed.Seconds(), "events/s")
	_ = fmt.Sprint()
}

// BenchmarkReadBody reads a batch of 20 events as a request body declaring
// its length: readAll sizes its buffer from it, io.ReadAll (before) grows.
func BenchmarkReadBody(b *testing.B) {
	msg := `{"type":"track","event":"Product Viewed","anonymousId":"v","properties":{"name":"Wool Scarf","price":39.95}}`
	body := []byte(`{"batch":[` + strings.TrimSuffix(strings.Repeat(msg+",", 20), ",") + `]}`)
	for _, tt := range []struct {
		name string
		read func(r io.Reader, n int64) ([]byte, error)
	}{
		{"readAll", func(r io.Reader, n int64) ([]byte, error) { return readAll(r, n, 500_000) }},
		{"io.ReadAll", func(r io.Reader, _ int64) ([]byte, error) { return io.ReadAll(io.LimitReader(r, 500_001)) }},
	} {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tt.read(bytes.NewReader(body), int64(len(body))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
