package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestReplayFilteredOrdersDeliveredOnce: an order filtered by dry run and
// one filtered because the blueprint had Order Completed switched off are
// each delivered once, under their own event id, after the settings are
// fixed and the filtered events replayed; a second replay sends nothing,
// and the duplicate window does not block the first.
func TestReplayFilteredOrdersDeliveredOnce(t *testing.T) {
	t.Parallel()
	omni := newFakeOmnisend(t)
	n := start(t, t.TempDir(), "SIGNAL_OMNISEND_API_URL="+omni.URL)
	tok := n.login(t)
	key := n.pipeline(t, tok)
	id := n.install(t, tok, `{"name":"Omnisend","variant":"default","config":{"api_key":"ReplayKey-0123456789","dry_run":true},"delivery_mode":"server_side"}`)
	ipath := "/v1/admin/integrations/" + id
	call := func(method, path, body string, want int) string {
		t.Helper()
		code, got := n.adminCall(t, method, path, tok, body)
		if code != want {
			t.Fatalf("%s %s: %d %s", method, path, code, got)
		}
		return got
	}
	order := func(i string) string {
		return `{"userId":"u-` + i + `","event":"Order Completed","messageId":"order-` + i + `","properties":{"order_id":"ORD-` + i +
			`","revenue":5,"currency":"EUR"},"context":{"traits":{"email":"buyer` + i + `@example.com"}}}`
	}

	n.send(t, "/v1/t", key, order("1"))
	n.waitLive(t, tok, "integration_id="+id, "order-1", "filtered")
	call("PATCH", ipath, `{"config":{"dry_run":null}}`, 200)

	// A blueprint mistake: Order Completed switched off.
	good := call("GET", ipath+"/blueprint", "", 200)
	var bp map[string]any
	if err := json.Unmarshal([]byte(good), &bp); err != nil {
		t.Fatal(err)
	}
	bp["events"].(map[string]any)["Order Completed"].(map[string]any)["enabled"] = false
	bad, _ := json.Marshal(bp)
	call("PUT", ipath+"/blueprint", string(bad), 200)
	n.send(t, "/v1/t", key, order("2"))
	row := n.liveRow(t, tok, "integration_id="+id, "order-2", "filtered")
	if row["reason"] != "event_not_enabled" {
		t.Fatalf("order 2 filtered %v, want event_not_enabled", row["reason"])
	}
	if r := n.liveRow(t, tok, "integration_id="+id, "order-1", "filtered"); r["reason"] != "dry_run" {
		t.Fatalf("order 1 filtered %v, want dry_run", r["reason"])
	}
	call("PUT", ipath+"/blueprint", good, 200)
	time.Sleep(300 * time.Millisecond)
	if bodies, _ := omni.received(); len(bodies) != 0 {
		t.Fatalf("Omnisend received %d events before the replay", len(bodies))
	}

	if got := call("POST", ipath+"/replay", `{"status":"filtered"}`, 200); !strings.Contains(got, `"requeued":2`) {
		t.Fatalf("replay: %s", got)
	}
	bodies := omni.waitFor(t, 2)
	n.liveRow(t, tok, "integration_id="+id, "order-1", "delivered")
	n.liveRow(t, tok, "integration_id="+id, "order-2", "delivered")
	if got := call("POST", ipath+"/replay", `{"status":"filtered"}`, 200); !strings.Contains(got, `"requeued":0`) {
		t.Fatalf("second replay: %s", got)
	}
	time.Sleep(time.Second)
	bodies, _ = omni.received()
	if len(bodies) != 2 {
		t.Fatalf("Omnisend received %d events, want 2 (each replayed order once)", len(bodies))
	}
	seen := map[string]bool{}
	for _, b := range bodies {
		var ev struct {
			EventID    string         `json:"eventID"`
			Properties map[string]any `json:"properties"`
		}
		json.Unmarshal(b, &ev)
		if ev.EventID == "" || seen[ev.EventID] {
			t.Fatalf("event id %q missing or repeated in %s", ev.EventID, b)
		}
		seen[ev.EventID] = true
	}
	all := string(bodies[0]) + string(bodies[1])
	for _, want := range []string{"ORD-1", "ORD-2", "buyer1@example.com", "buyer2@example.com"} {
		if !strings.Contains(all, want) {
			t.Errorf("replayed bodies lack %q: %s", want, all)
		}
	}

	// One event by id: a delivered one is refused (it would be sent twice).
	code, got := n.adminCall(t, "POST", "/v1/admin/live-events/"+row["id"].(string)+"/replay", tok, "")
	if code != 409 || !strings.Contains(got, "CONFLICT") {
		t.Fatalf("replay of a delivered event: %d %s", code, got)
	}
}
