package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/store/postgres/postgrestest"
)

// TestSignedReplayAcceptedOnce: a signed /v1/events request (without
// messageId) replayed within the ±5 min window is accepted once; each
// repeat answers {"success":true,"duplicate":true} and delivers nothing,
// after a restart too, and on another node sharing PostgreSQL.
func TestSignedReplayAcceptedOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// nodes returns the node to send the first request to and the
		// ones to replay it on, in order.
		nodes func(t *testing.T, omniURL string) (first *node, replays []func() *node)
	}{
		{"across a restart", func(t *testing.T, omniURL string) (*node, []func() *node) {
			dir := t.TempDir()
			a := start(t, dir, "SIGNAL_OMNISEND_API_URL="+omniURL)
			restarted := func() *node {
				a.cmd.Process.Kill()
				a.wait()
				return start(t, dir, "SIGNAL_OMNISEND_API_URL="+omniURL)
			}
			return a, []func() *node{func() *node { return a }, restarted}
		}},
		{"across nodes sharing PostgreSQL", func(t *testing.T, omniURL string) (*node, []func() *node) {
			url := postgrestest.NewDatabase(t).NewSchemaURL(t)
			env := []string{"DATABASE_URL=" + url, "JWT_SECRET=" + strings.Repeat("j", 40),
				"ENCRYPTION_KEY=" + strings.Repeat("ab", 32), "SIGNAL_OMNISEND_API_URL=" + omniURL}
			a := start(t, t.TempDir(), env...)
			b := start(t, t.TempDir(), env...)
			return a, []func() *node{func() *node { return b }, func() *node { return a }}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			omni := newFakeOmnisend(t)
			first, replays := tt.nodes(t, omni.URL)
			tok := first.login(t)
			pl := first.createPipeline(t, tok, "Backend")
			first.install(t, tok, pageInstallBody)
			key, secret := pl["pipeline_key"].(string), pl["signing_secret"].(string)
			body := `{"type":"track","userId":"u-replay","event":"Order Completed","properties":{"order_id":"o-1","revenue":10},"context":{"traits":{"email":"replay@example.com"}}}`
			ts := time.Now().UnixMilli()
			send := func(n *node) map[string]any {
				code, _, got := do(t, "POST", "http://"+n.gateway+"/v1/events", map[string]string{
					"Authorization": "Bearer " + key, "X-Timestamp": strconv.FormatInt(ts, 10), "X-Signature": signHMAC(secret, ts, body)}, []byte(body))
				if code != 200 {
					t.Fatalf("signed request: %d %s", code, got)
				}
				return jsonObject(t, got)
			}
			if got := send(first); got["success"] != true || got["duplicate"] != nil {
				t.Fatalf("first request answered %v", got)
			}
			for i, replay := range replays {
				if got := send(replay()); got["success"] != true || got["duplicate"] != true {
					t.Fatalf("replay %d answered %v, want success and duplicate", i+1, got)
				}
			}
			omni.waitFor(t, 1)
			time.Sleep(time.Second)
			if n := omni.count(); n != 1 {
				t.Fatalf("Omnisend received %d events from one signed request and %d replays, want 1", n, len(replays))
			}
		})
	}
}
