package main

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"
)

// TestLiveEventsThroughTheBinary: an order sent through the gateway is found
// by the buyer's email, user id and order id, opens with its stages and
// attempt, counts as delivered, shows on the integration's health with the
// key's rate-limit use, and the blueprint preview builds its payload.
func TestLiveEventsThroughTheBinary(t *testing.T) {
	t.Parallel()
	omni := newFakeOmnisend(t)
	n := start(t, t.TempDir(), "SIGNAL_OMNISEND_API_URL="+omni.URL)
	tok := n.login(t)
	key := n.pipeline(t, tok)
	var in struct{ ID string }
	if code := n.call(t, "POST", "http://"+n.admin+"/v1/admin/integration-catalog/omnisend/install", tok, pageInstallBody, &in); code != 201 {
		t.Fatalf("install: %d", code)
	}
	admin := "http://" + n.admin + "/v1/admin"
	n.send(t, "/v1/i", key, `{"userId":"user-77","anonymousId":"anon-77","traits":{"email":"Buyer@Example.com"}}`)
	n.send(t, "/v1/t", key, `{"anonymousId":"anon-77","event":"Order Completed","messageId":"order-77","properties":{"order_id":"ORD-77","revenue":5,"currency":"EUR"}}`)
	omni.waitFor(t, 1)

	type row struct {
		ID, MessageID, Status string
	}
	var found []row
	deadline := time.Now().Add(10 * time.Second)
	for {
		var pg struct {
			Data []struct {
				ID        string `json:"id"`
				MessageID string `json:"message_id"`
				Status    string `json:"status"`
			}
		}
		n.call(t, "GET", admin+"/live-events?q="+url.QueryEscape("buyer@example.com")+"&integration_id="+in.ID, tok, "", &pg)
		found = found[:0]
		for _, d := range pg.Data {
			found = append(found, row{d.ID, d.MessageID, d.Status})
		}
		if len(found) == 2 && found[0].Status == "delivered" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("search by email found %+v, want the order delivered and the identify", found)
		}
		time.Sleep(20 * time.Millisecond)
	}
	tests := []struct {
		name, path string
		status     int
		check      func(t *testing.T, raw json.RawMessage)
	}{
		{"by order id", "/live-events?q=ORD-77", 200, func(t *testing.T, raw json.RawMessage) {
			var pg struct {
				Data []struct {
					MessageID string `json:"message_id"`
				}
			}
			json.Unmarshal(raw, &pg)
			if len(pg.Data) != 1 || pg.Data[0].MessageID != "order-77" {
				t.Fatalf("search by order id: %s", raw)
			}
		}},
		{"by user id", "/live-events?q=user-77", 200, func(t *testing.T, raw json.RawMessage) {
			var pg struct {
				Data []struct {
					MessageID string `json:"message_id"`
				}
			}
			json.Unmarshal(raw, &pg)
			if len(pg.Data) != 1 {
				t.Fatalf("search by user id: %s", raw)
			}
		}},
		{"unknown parameter", "/live-events?integration=" + in.ID, 400, nil},
		{"counts", "/live-events/counts?q=ORD-77", 200, func(t *testing.T, raw json.RawMessage) {
			var c struct {
				Pending, Delivered, Filtered, Failed, Paused, Window int
				Limited                                              bool
			}
			if err := json.Unmarshal(raw, &c); err != nil || c.Delivered != 1 || c.Pending+c.Filtered+c.Failed+c.Paused != 0 ||
				c.Limited || c.Window != 10_000 {
				t.Fatalf("counts %s (%v): want the one order delivered, among the newest 10,000", raw, err)
			}
		}},
		{"detail", "/live-events/" + found[0].ID, 200, func(t *testing.T, raw json.RawMessage) {
			var d struct {
				Processed struct {
					AnonymousID string         `json:"anonymous_id"`
					Traits      map[string]any `json:"traits"`
					Consent     string         `json:"consent"`
				} `json:"processed"`
				Attempts []struct {
					VendorStatus int `json:"vendor_status"`
				} `json:"attempts"`
			}
			json.Unmarshal(raw, &d)
			if d.Processed.AnonymousID != "anon-77" || d.Processed.Traits["email"] != "Buyer@Example.com" || d.Processed.Consent == "" ||
				len(d.Attempts) != 1 || d.Attempts[0].VendorStatus != 202 {
				t.Fatalf("detail %s", raw)
			}
		}},
		{"health", "/integrations/" + in.ID + "/health", 200, func(t *testing.T, raw json.RawMessage) {
			var h struct {
				LastHour  map[string]int `json:"last_hour"`
				RateLimit *struct {
					Limit          int `json:"limit"`
					UsedLastMinute int `json:"used_last_minute"`
				} `json:"rate_limit"`
				PerMinute []json.RawMessage `json:"per_minute"`
			}
			json.Unmarshal(raw, &h)
			if h.LastHour["delivered"] != 1 || h.RateLimit == nil || h.RateLimit.Limit != 400 || h.RateLimit.UsedLastMinute < 1 || len(h.PerMinute) != 60 {
				t.Fatalf("health %s", raw)
			}
		}},
	}
	// Not parallel: a parallel subtest may wait minutes for a slot behind
	// the browser tests, and the health check reads the last minute's use.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var raw json.RawMessage
			if code := n.call(t, "GET", admin+tt.path, tok, "", &raw); code != tt.status {
				t.Fatalf("GET %s: %d %s", tt.path, code, raw)
			}
			if tt.check != nil {
				tt.check(t, raw)
			}
		})
	}
	var pv struct {
		Status          string          `json:"status"`
		VendorEventName string          `json:"vendor_event_name"`
		Payload         json.RawMessage `json:"payload"`
	}
	body := `{"event":{"type":"track","event":"Order Completed","context":{"traits":{"email":"p@example.com"}},"properties":{"order_id":"P-1"}}}`
	if code := n.call(t, "POST", admin+"/integrations/"+in.ID+"/blueprint/preview", tok, body, &pv); code != 200 ||
		pv.Status != "pending" || pv.VendorEventName != "placed order" {
		t.Fatalf("preview: %d %+v %s", code, pv, pv.Payload)
	}
	if bodies, _ := omni.received(); len(bodies) != 1 {
		t.Fatalf("Omnisend received %d events; the preview must send nothing", len(bodies))
	}
}
