package gateway

import (
	"strconv"
	"testing"
	"time"
)

// TestSignedReplay: a signed request repeated within the window is
// answered {"success":true,"duplicate":true} and stores nothing, with or
// without messageId, batch or single; the same events signed anew (another
// timestamp) are a new request.
func TestSignedReplay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		events     int
	}{
		{"single without messageId", `{"type":"track","event":"Order Completed","userId":"u1"}`, 1},
		{"single with messageId", `{"type":"track","event":"Order Completed","userId":"u1","messageId":"order-777"}`, 1},
		{"batch", `{"batch":[{"type":"track","event":"Order Completed","userId":"u1"},{"type":"identify","userId":"u1"}]}`, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			h := b.signed(t, tt.body)
			for i, want := range []string{`{"success":true}`, `{"success":true,"duplicate":true}`, `{"success":true,"duplicate":true}`} {
				w := b.do(t, req{path: "/v1/events", body: tt.body, header: h})
				if w.Code != 200 || w.Body.String() != want {
					t.Fatalf("request %d: %d %s, want 200 %s", i+1, w.Code, w.Body, want)
				}
			}
			if got := len(b.store.stored()); got != tt.events {
				t.Fatalf("%d events stored after replays, want %d", got, tt.events)
			}
			// Signed again a millisecond later: a new request.
			ts := strconv.FormatInt(b.now.Add(time.Millisecond).UnixMilli(), 10)
			h = map[string]string{"Authorization": "Bearer " + testKey, "X-Timestamp": ts, "X-Signature": sign(testSecret, ts, []byte(tt.body))}
			if w := b.do(t, req{path: "/v1/events", body: tt.body, header: h}); w.Code != 200 || w.Body.String() != `{"success":true}` {
				t.Fatalf("re-signed request: %d %s", w.Code, w.Body)
			}
		})
	}
}

// TestReplayGuardKey: the guard is keyed by pipeline and signature and
// lives past the window, never shorter.
func TestReplayGuardKey(t *testing.T) {
	t.Parallel()
	ts := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	a := replayGuard("pip_a", []byte{1, 2, 3}, ts.UnixMilli(), 5*time.Minute)
	tests := []struct {
		name string
		same bool
		pip  string
		sig  []byte
	}{
		{"same request", true, "pip_a", []byte{1, 2, 3}},
		{"other pipeline", false, "pip_b", []byte{1, 2, 3}},
		{"other signature", false, "pip_a", []byte{1, 2, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if b := replayGuard(tt.pip, tt.sig, ts.UnixMilli(), 5*time.Minute); (b.Key == a.Key) != tt.same {
				t.Fatalf("key %s vs %s, want same=%v", b.Key, a.Key, tt.same)
			}
		})
	}
	if !a.Expires.After(ts.Add(5 * time.Minute)) {
		t.Fatalf("guard expires at %s, within the window", a.Expires)
	}
}
