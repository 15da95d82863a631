package delivery_test

import (
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// TestAttemptsAreKept: every request the engine makes is kept with its
// delivery (vendor status and body, or why no answer came), oldest first,
// and the engine reports the key's rate-limit use.
func TestAttemptsAreKept(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		replies []reply
		want    []signal.Attempt // At and DurationMS not compared
	}{
		{"DeliveredFirstTime", []reply{{status: 202, body: `{"ok":true}`}},
			[]signal.Attempt{{VendorStatus: 202, VendorResponse: `{"ok":true}`}}},
		{"RetriedThenDelivered", []reply{{status: 503, body: "busy"}, {status: 202, body: "done"}},
			[]signal.Attempt{{VendorStatus: 503, VendorResponse: "busy"}, {VendorStatus: 202, VendorResponse: "done"}}},
		{"ConnectionReset", []reply{{reset: true}, {status: 202, body: "done"}},
			[]signal.Attempt{{Error: "connection failed"}, {VendorStatus: 202, VendorResponse: "done"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newTestBundle(t, bundleOpts{})
			in := b.addIntegration(t, "int_a", "key-a")
			b.fake.script("key-a", tc.replies...)
			qs := b.enqueue(t, "int_a", ev{contact: "c1"})
			b.run(t)
			les := b.waitStatus(t, "int_a", 10*time.Second, signal.StatusDelivered, qs...)
			det, err := b.store.GetLiveEvent(b.ctx, store.GetLiveEventParams{ID: les[qs[0].messageID].ID})
			if err != nil {
				t.Fatal(err)
			}
			if len(det.Attempts) != len(tc.want) {
				t.Fatalf("attempts %+v, want %d", det.Attempts, len(tc.want))
			}
			for i, a := range det.Attempts {
				w := tc.want[i]
				if a.VendorStatus != w.VendorStatus || a.VendorResponse != w.VendorResponse || (w.Error == "") != (a.Error == "") ||
					a.At.IsZero() || a.DurationMS < 0 {
					t.Fatalf("attempt %d = %+v, want %+v", i, a, w)
				}
				if w.Error != "" && !contains(a.Error, w.Error) {
					t.Fatalf("attempt %d error %q, want it to say %q", i, a.Error, w.Error)
				}
			}
			// Stopped: no reservation of a claim in progress is counted.
			b.stop(t)
			st, ok := b.engine.RateLimit(in)
			if !ok || st.UsedLastMinute != len(tc.want) || st.Limit <= 0 || st.WindowSeconds <= 0 {
				t.Fatalf("rate limit state %+v (%v), want %d used", st, ok, len(tc.want))
			}
		})
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
