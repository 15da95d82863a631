package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTrustAgainstTheBinary replays issue 8's attacks on the running
// binary: a browser identify with a customer's userId and another email,
// and a browser event carrying the real order's messageId, both sent before
// the signed order. The order still reaches Omnisend, to the customer's
// email (items 6 and 9).
func TestTrustAgainstTheBinary(t *testing.T) {
	t.Parallel()
	const (
		setEmail = `{"type":"identify","userId":"user-123","traits":{"email":"jane@example.com","first_name":"Jane"}}`
		hijack   = `{"userId":"user-123","traits":{"email":"evil@attacker.example","first_name":"Mallory"}}`
		order    = `{"type":"track","event":"Order Completed","messageId":"order-777","userId":"user-123","properties":{"order_id":"order-777","revenue":120,"currency":"EUR"}}`
	)
	tests := []struct {
		name         string
		browserOrder bool // a browser copy of the order, same messageId, first
		wantOrders   int
	}{
		{name: "identify hijack", wantOrders: 1},
		{name: "identify hijack and a browser copy of the order", browserOrder: true, wantOrders: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			omni := newFakeOmnisend(t)
			n := start(t, filepath.Join(t.TempDir(), "data"), "SIGNAL_OMNISEND_API_URL="+omni.URL)
			tok := n.login(t)
			pl := n.createPipeline(t, tok, "shop")
			key, secret := pl["pipeline_key"].(string), pl["signing_secret"].(string)
			n.install(t, tok, pageInstallBody)

			signed := func(body string) {
				t.Helper()
				ts := time.Now().UnixMilli()
				req, _ := http.NewRequest("POST", "http://"+n.gateway+"/v1/events", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("X-Timestamp", strconv.FormatInt(ts, 10))
				req.Header.Set("X-Signature", signHMAC(secret, ts, body))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("POST /v1/events: %d %s", resp.StatusCode, b)
				}
			}
			signed(setEmail)
			n.send(t, "/v1/i", key, hijack)
			if tt.browserOrder {
				n.send(t, "/v1/t", key, `{"event":"Order Completed","messageId":"order-777","userId":"user-123","properties":{"order_id":"fake","revenue":1}}`)
			}
			signed(order)

			bodies := omni.waitFor(t, tt.wantOrders)
			time.Sleep(300 * time.Millisecond) // nothing more should come
			bodies, _ = omni.received()
			var real int
			for _, b := range bodies {
				var got struct {
					EventName  string
					Contact    struct{ Email, FirstName string }
					Properties struct {
						OrderID string `json:"orderID"`
					}
				}
				if err := json.Unmarshal(b, &got); err != nil {
					t.Fatal(err)
				}
				if got.Contact.Email != "jane@example.com" || got.Contact.FirstName != "Jane" {
					t.Fatalf("an order went to %+v: %s", got.Contact, b)
				}
				if got.Properties.OrderID == "order-777" {
					real++
				}
			}
			if len(bodies) != tt.wantOrders || real != 1 {
				t.Fatalf("Omnisend received %d events (%d of them the signed order), want %d with the signed order once", len(bodies), real, tt.wantOrders)
			}
		})
	}
}
