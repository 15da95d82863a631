package admin

import (
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// fakeRateLimits answers every integration with the same state.
type fakeRateLimits struct{ st signal.RateLimitState }

func (f fakeRateLimits) RateLimit(*signal.Integration) (signal.RateLimitState, bool) {
	return f.st, true
}

func TestIntegrationHealth(t *testing.T) {
	t.Parallel()
	rl := signal.RateLimitState{Limit: 400, Remaining: 371, WindowSeconds: 60, UsedLastMinute: 29}
	b := setupWith(t, Deps{RateLimits: fakeRateLimits{rl}})
	in := b.install(t, installBody(pageAPIKey))
	b.seedLive(t, in.ID) // at 10:00:00: m1 delivered, m2 filtered, m3 pending
	t0 := *b.now
	*b.now = t0.Add(90 * time.Second)

	type view struct {
		Status               string
		StatusReason         string                                    `json:"status_reason"`
		StatusText           string                                    `json:"status_text"`
		LastHour             struct{ Delivered, Filtered, Failed int } `json:"last_hour"`
		LastDay              struct{ Delivered, Filtered, Failed int } `json:"last_day"`
		Backlog              int
		OldestPendingSeconds int64                  `json:"oldest_pending_seconds"`
		RateLimit            *signal.RateLimitState `json:"rate_limit"`
		PerMinute            []struct {
			At                          time.Time
			Delivered, Filtered, Failed int
		} `json:"per_minute"`
	}
	var v view
	if code := b.call(t, "GET", "/v1/admin/integrations/"+in.ID+"/health", "", &v); code != 200 {
		t.Fatalf("health: %d", code)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"status", v.Status, signal.IntegrationActive},
		{"last hour", v.LastHour, struct{ Delivered, Filtered, Failed int }{1, 1, 0}},
		{"last day", v.LastDay, struct{ Delivered, Filtered, Failed int }{1, 1, 0}},
		{"backlog", v.Backlog, 1},
		{"oldest pending", v.OldestPendingSeconds, int64(90)},
		{"rate limit", *v.RateLimit, rl},
		{"minutes", len(v.PerMinute), 60},
		{"first minute", v.PerMinute[0].At, t0.Add(-58 * time.Minute)},
		{"last minute", v.PerMinute[59].At, t0.Add(time.Minute)},
		{"outcomes of 10:00", [2]int{v.PerMinute[58].Delivered, v.PerMinute[58].Filtered}, [2]int{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got != tt.want {
				t.Fatalf("%s = %v, want %v", tt.name, tt.got, tt.want)
			}
		})
	}

	t.Run("disabled says so", func(t *testing.T) {
		b.patch(t, "/v1/admin/integrations/"+in.ID, `{"enabled":false}`)
		var v view
		b.call(t, "GET", "/v1/admin/integrations/"+in.ID+"/health", "", &v)
		if v.Status != "disabled" || v.StatusReason != signal.ReasonIntegrationDisabled || v.StatusText == "" {
			t.Fatalf("disabled integration's health: %+v", v)
		}
	})
	t.Run("unknown integration", func(t *testing.T) {
		if code := b.call(t, "GET", "/v1/admin/integrations/int_nope/health", "", nil); code != 404 {
			t.Fatalf("health of an unknown integration: %d", code)
		}
	})
}
