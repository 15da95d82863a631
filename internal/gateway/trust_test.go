package gateway

import (
	"strconv"
	"testing"

	"github.com/signalhq/signal/internal/signal"
)

// TestEventTrust: each route stores its events with the trust level its
// authentication proves.
func TestEventTrust(t *testing.T) {
	t.Parallel()
	msg := `{"type":"track","event":"Order Completed","userId":"u1","messageId":"m1"}`
	tests := []struct {
		name   string
		path   string
		body   string
		header func(now string, body string) map[string]string
		want   string
	}{
		{name: "Datafly.js track", path: "/v1/t", body: msg, header: func(string, string) map[string]string { return bearer(testKey) }, want: signal.TrustBrowser},
		{name: "batch with Basic", path: "/v1/batch", body: `{"batch":[` + msg + `]}`, header: func(string, string) map[string]string { return basic(testKey) }, want: signal.TrustBrowser},
		{name: "batch with writeKey", path: "/v1/batch", body: `{"writeKey":"` + testKey + `","batch":[` + msg + `]}`, header: func(string, string) map[string]string { return nil }, want: signal.TrustBrowser},
		{name: "Segment track with Basic", path: "/v1/track", body: msg, header: func(string, string) map[string]string { return basic(testKey) }, want: signal.TrustServer},
		{name: "Segment track with Bearer", path: "/v1/track", body: msg, header: func(string, string) map[string]string { return bearer(testKey) }, want: signal.TrustBrowser},
		{name: "Segment track with writeKey", path: "/v1/track", body: `{"writeKey":"` + testKey + `","type":"track","event":"A","userId":"u1"}`, header: func(string, string) map[string]string { return nil }, want: signal.TrustBrowser},
		{name: "signed events", path: "/v1/events", body: msg, header: func(ts, body string) map[string]string {
			return map[string]string{"Authorization": "Bearer " + testKey, "X-Timestamp": ts, "X-Signature": sign(testSecret, ts, []byte(body))}
		}, want: signal.TrustSigned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ts := strconv.FormatInt(b.now.UnixMilli(), 10)
			if w := b.do(t, req{path: tt.path, body: tt.body, header: tt.header(ts, tt.body)}); w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			got := b.store.stored()
			if len(got) != 1 {
				t.Fatalf("stored %d events, want 1", len(got))
			}
			if got[0].Trust != tt.want {
				t.Fatalf("trust %q, want %q", got[0].Trust, tt.want)
			}
		})
	}
}
