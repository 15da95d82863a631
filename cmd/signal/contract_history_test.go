package main

// Acceptance checks of issue 11's store-backed parts: blueprint versions,
// rollback and the defaults warning; the property type guard; consent
// remembered on the profile.

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestContractBlueprintHistoryTypeGuardConsent(t *testing.T) {
	t.Parallel()
	omni := newFakeOmnisend(t)
	n := start(t, t.TempDir(), "SIGNAL_OMNISEND_API_URL="+omni.URL)
	tok := n.login(t)
	key := n.pipeline(t, tok)
	id := n.install(t, tok, pageInstallBody)
	bp := "/v1/admin/integrations/" + id + "/blueprint"

	// A PUT that sends none of the default events says so.
	code, body := n.adminCall(t, "PUT", bp, tok, `{"version":2,"defaults":{"action":"drop"},"events":{"Coupon Applied":{"vendor_event_name":"applied coupon","enabled":true}}}`)
	if code != 200 || !strings.Contains(body, `"code":"defaults_disabled"`) || !strings.Contains(body, `"applied coupon"`) {
		t.Fatalf("PUT without the defaults: %d %s, want the blueprint and a defaults_disabled warning", code, body)
	}
	var versions struct {
		Data []struct {
			Version int
			Author  struct{ Email string }
		}
	}
	code, body = n.adminCall(t, "GET", bp+"/versions", tok, "")
	json.Unmarshal([]byte(body), &versions)
	if code != 200 || len(versions.Data) != 2 || versions.Data[0].Version != 2 || versions.Data[0].Author.Email != "admin@localhost" {
		t.Fatalf("versions: %d %s, want 2 (install, PUT) newest first with the author", code, body)
	}
	if code, body = n.adminCall(t, "POST", bp+"/versions/1/rollback", tok, ""); code != 200 || !strings.Contains(body, `"version":3`) {
		t.Fatalf("rollback to 1: %d %s", code, body)
	}
	if code, body = n.adminCall(t, "GET", bp, tok, ""); !strings.Contains(body, `"placed order"`) {
		t.Fatalf("blueprint after rollback: %d %s, want the default again", code, body)
	}

	// The shopper opts in on the site; the backend's orders carry no consent.
	n.send(t, "/v1/i", key, `{"userId":"u1","anonymousId":"a1","traits":{"email":"jane@example.com"},"context":{"consent":{"canonical":{"marketing":true}}}}`)
	order := func(msgID, revenue string) {
		n.send(t, "/v1/t", key, `{"messageId":"`+msgID+`","userId":"u1","event":"Order Completed","properties":{"order_id":"`+msgID+`","revenue":`+revenue+`,"currency":"EUR"}}`)
	}
	order("o1", "10")
	order("o2", `"12.5"`)
	n.liveRow(t, tok, "integration_id="+id, "o2", "delivered")
	if code, body = n.adminCall(t, "PATCH", "/v1/admin/integrations/"+id, tok, `{"config":{"coerce_property_types":true}}`); code != 200 {
		t.Fatalf("PATCH coerce_property_types: %d %s", code, body)
	}
	order("o3", `"13"`)
	row := n.liveRow(t, tok, "integration_id="+id, "o3", "delivered")
	if ws, _ := row["warnings"].([]any); len(ws) != 1 || !strings.Contains(ws[0].(map[string]any)["message"].(string), "converted to a number") {
		t.Fatalf("o3 warnings = %v, want one saying value was converted", row["warnings"])
	}
	row = n.liveRow(t, tok, "integration_id="+id, "o2", "delivered")
	ws, _ := row["warnings"].([]any)
	if len(ws) != 1 || ws[0].(map[string]any)["code"] != "property_type_changed" ||
		ws[0].(map[string]any)["message"] != `property "value" was a number, now a string` {
		t.Fatalf("o2 warnings = %v, want property_type_changed naming value and both types", row["warnings"])
	}

	sent := map[string]map[string]any{}
	for _, b := range omni.waitFor(t, 3) {
		props, _ := jsonObject(t, b)["properties"].(map[string]any)
		if id, ok := props["orderID"].(string); ok {
			sent[id] = props
		}
	}
	tests := []struct {
		order string
		value any
	}{
		{"o1", 10.0},
		{"o2", "12.5"}, // flagged, still sent as it came
		{"o3", 13.0},   // converted back to a number
	}
	for _, tt := range tests {
		p := sent[tt.order]
		if p == nil || p["value"] != tt.value || p["marketing_consent"] != "subscribed" {
			t.Errorf("%s sent properties %v, want value %v (%T) and marketing_consent subscribed (remembered from the site)", tt.order, p, tt.value, tt.value)
		}
	}
}
