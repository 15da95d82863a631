package delivery_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/integration/integrationtest"
	"github.com/signalhq/signal/internal/signal"
)

// TestFanOutIsolation pins that integrations of two vendors share nothing
// that lets one hold the other: a paused (401) or slow vendor never delays
// the other's deliveries, whichever of the two is stuck.
func TestFanOutIsolation(t *testing.T) {
	t.Parallel()
	// slow is how long the slow vendor takes to answer.
	const slow = 6 * time.Second

	type testBundle2 struct {
		*testBundle
		stuckFake, healthyFake *fakeVendor
	}
	setup := func(t *testing.T, stuckIsOther bool) *testBundle2 {
		t.Helper()
		cfg := testConfig()
		cfg.Timeout, cfg.DrainTimeout = 10*time.Second, time.Second
		b := &testBundle2{testBundle: newTestBundle(t, bundleOpts{cfg: cfg, perMinute: 60000})}
		stuckKey, healthyKey := integrationtest.Key, otherVendor
		b.stuckFake, b.healthyFake = b.fake, b.other
		if stuckIsOther {
			stuckKey, healthyKey = otherVendor, integrationtest.Key
			b.stuckFake, b.healthyFake = b.other, b.fake
		}
		b.addIntegrationOf(t, stuckKey, "int_stuck", "k-stuck")
		b.addIntegrationOf(t, healthyKey, "int_ok", "k-ok")
		return b
	}

	for _, stuckIsOther := range []bool{false, true} {
		for _, mode := range []string{"paused", "slow"} {
			t.Run(fmt.Sprintf("%s/stuck=%v", mode, map[bool]string{false: "first", true: "second"}[stuckIsOther]), func(t *testing.T) {
				t.Parallel()
				b := setup(t, stuckIsOther)
				switch mode {
				case "paused":
					b.stuckFake.always("k-stuck", reply{status: http.StatusUnauthorized, body: `{"error":"bad key"}`})
				case "slow":
					b.stuckFake.always("k-stuck", reply{status: http.StatusAccepted, delay: slow})
				}
				var stuck, ok []ev
				for i := range 40 {
					stuck = append(stuck, ev{contact: fmt.Sprintf("s%d", i)})
					ok = append(ok, ev{contact: fmt.Sprintf("o%d", i)})
				}
				b.enqueue(t, "int_stuck", stuck...)
				qs := b.enqueue(t, "int_ok", ok...)
				start := time.Now()
				b.run(t)

				// Alone the healthy vendor takes milliseconds; the wait is
				// shorter than the slow vendor's answer, so it shows the
				// healthy one never waited for the stuck one.
				b.waitStatus(t, "int_ok", slow-time.Second, signal.StatusDelivered, qs...)
				took := time.Since(start)
				if n := len(b.healthyFake.accepted()); n != len(qs) {
					t.Fatalf("healthy vendor accepted %d requests, want %d", n, len(qs))
				}
				for _, r := range b.healthyFake.requests() {
					if r.key != "k-ok" {
						t.Fatalf("healthy vendor got key %q, want only k-ok", r.key)
					}
				}
				switch mode {
				case "paused":
					eventually(t, 2*time.Second, func() bool { return b.integration(t, "int_stuck").Status == signal.IntegrationPaused },
						func() string { return "the stuck integration was not paused" })
				case "slow":
					if n := len(b.stuckFake.accepted()); n != 0 {
						t.Fatalf("slow vendor answered %d requests within %v, want none yet (it takes %v)", n, took, slow)
					}
				}
			})
		}
	}
}
