package delivery_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
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

// BenchmarkDeliveryFanOut: events/s delivered when each event goes to one
// integration, and when it fans out to two (two vendors, two fakes, two
// queues in one engine and one store). perRound events per integration
// per round; events/s counts every delivery, so two integrations that
// share the store perfectly deliver twice the one-integration figure.
func BenchmarkDeliveryFanOut(b *testing.B) {
	const perRound = 5000
	for _, n := range []int{1, 2} {
		b.Run(strconv.Itoa(n)+"-integrations", func(b *testing.B) {
			db, err := sqlite.Open(context.Background(), sqlite.Options{Path: b.TempDir() + "/bench.db", Cipher: storetest.Cipher()})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			vendors := integration.NewRegistry()
			bb := &benchBundle{db: db}
			var fakes []*benchFake
			var ins []*signal.Integration
			var vs []integration.Vendor
			for i := range n {
				fake := newBenchFake(b, 0, time.Minute)
				tv := integrationtest.New(fake.srv.URL)
				tv.CatalogKey, tv.PerMinute = "bench"+strconv.Itoa(i), 1_000_000
				vendors.Register(tv)
				in := &signal.Integration{ID: "int_bench" + strconv.Itoa(i), CatalogKey: tv.CatalogKey, Name: "Bench", Variant: "default",
					DeliveryMode: "server_side", Config: map[string]any{"api_key": "bench-key-" + strconv.Itoa(i)}, Enabled: true,
					Status: signal.IntegrationActive}
				if err := db.CreateIntegration(context.Background(), store.CreateIntegrationParams{Integration: in}); err != nil {
					b.Fatal(err)
				}
				fakes, ins, vs = append(fakes, fake), append(ins, in), append(vs, tv)
			}
			cfg := delivery.DefaultConfig()
			cfg.Poll = 50 * time.Millisecond
			bb.engine = delivery.New(cfg, delivery.Deps{Store: db, Vendors: vendors, Hasher: benchHasher{},
				Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			stop := bb.run(b)
			defer stop()
			accepted := func() int64 {
				var s int64
				for _, f := range fakes {
					s += f.accepted.Load()
				}
				return s
			}
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				base := accepted()
				for j := range ins {
					bb.in, bb.vendor = ins[j], vs[j]
					bb.enqueue(b, perRound, "page viewed", signal.PriorityLow)
				}
				start := time.Now()
				b.StartTimer()
				for _, in := range ins {
					bb.engine.Pending(in.ID)
				}
				for accepted()-base < int64(perRound*n) {
					time.Sleep(time.Millisecond)
				}
				elapsed += time.Since(start)
			}
			b.ReportMetric(float64(b.N*perRound*n)/elapsed.Seconds(), "deliveries/s")
			b.ReportMetric(float64(b.N*perRound)/elapsed.Seconds(), "events/s")
		})
	}
}
