package admin

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/signalhq/signal/internal/signal"
)

func TestBlueprintPreview(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.install(t, installBody(pageAPIKey))
	path := "/v1/admin/integrations/" + in.ID + "/blueprint/preview"
	order := `{"type":"track","event":"Order Completed","userId":"u1","context":{"traits":{"email":"Ann@Example.com"}},` +
		`"properties":{"order_id":"o-9","revenue":12.5,"currency":"EUR"}}`
	disabled := `{"version":2,"defaults":{"action":"drop"},"events":{"Order Completed":{"vendor_event_name":"placed order","enabled":false}}}`
	renamed := `{"version":2,"defaults":{"action":"drop"},"events":{"Order Completed":{"vendor_event_name":"bought","enabled":true,` +
		`"mappings":[{"source":"properties.order_id","target":"orderID"}]}}}`
	tests := []struct {
		name, body  string
		status      int
		field       string
		wantStatus  string
		wantReason  string
		wantName    string
		wantPayload []string // substrings of the payload
	}{
		{"saved blueprint", `{"event":` + order + `}`, 200, "", signal.StatusPending, "", "placed order",
			[]string{`"orderID":"o-9"`, `"email":"ann@example.com"`}},
		{"unsaved blueprint", `{"event":` + order + `,"blueprint":` + renamed + `}`, 200, "", signal.StatusPending, "", "bought",
			[]string{`"orderID":"o-9"`}},
		{"event not enabled", `{"event":` + order + `,"blueprint":` + disabled + `}`, 200, "", signal.StatusFiltered, signal.ReasonEventNotEnabled, "", nil},
		{"no email", `{"event":{"type":"track","event":"Order Completed","userId":"u1"}}`, 200, "", signal.StatusFiltered, signal.ReasonNoIdentifier, "placed order", nil},
		{"blueprint error named from the body", `{"event":` + order + `,"blueprint":{"version":2,"events":{"Order Completed":{"vendor_event_name":"x","enabled":true,"mappings":[{"source":"properties.a","target":""}]}}}}`,
			400, "blueprint.events.Order Completed.mappings[0].target", "", "", "", nil},
		{"blueprint unknown field", `{"event":` + order + `,"blueprint":{"version":2,"evnts":{}}}`, 400, "blueprint.evnts", "", "", "", nil},
		{"blueprint version", `{"event":` + order + `,"blueprint":{"events":{}}}`, 400, "blueprint.version", "", "", "", nil},
		{"no event", `{}`, 400, "event", "", "", "", nil},
		{"bad type", `{"event":{"type":"purchase"}}`, 400, "event.type", "", "", "", nil},
		{"track without name", `{"event":{"type":"track"}}`, 400, "event.event", "", "", "", nil},
		{"unknown body field", `{"event":` + order + `,"sample":1}`, 400, "sample", "", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var resp struct {
				Status          string
				Reason          string
				ReasonText      string `json:"reason_text"`
				VendorEventName string `json:"vendor_event_name"`
				Payload         json.RawMessage
				Error           struct{ Field string }
			}
			if code := b.call(t, "POST", path, tt.body, &resp); code != tt.status {
				t.Fatalf("status %d (%+v), want %d", code, resp.Error, tt.status)
			}
			if resp.Error.Field != tt.field {
				t.Fatalf("error field %q, want %q", resp.Error.Field, tt.field)
			}
			if tt.status != 200 {
				return
			}
			if resp.Status != tt.wantStatus || resp.Reason != tt.wantReason || resp.VendorEventName != tt.wantName ||
				resp.ReasonText != signal.ReasonText(tt.wantReason) {
				t.Fatalf("preview %+v, want %s/%s %q", resp, tt.wantStatus, tt.wantReason, tt.wantName)
			}
			for _, s := range tt.wantPayload {
				if !strings.Contains(string(resp.Payload), s) {
					t.Fatalf("payload %s lacks %s", resp.Payload, s)
				}
			}
		})
	}
	t.Run("writes nothing", func(t *testing.T) {
		t.Parallel()
		var pg struct{ Data []json.RawMessage }
		b.call(t, "GET", "/v1/admin/live-events", "", &pg)
		var bp json.RawMessage
		b.call(t, "GET", "/v1/admin/integrations/"+in.ID+"/blueprint", "", &bp)
		if len(pg.Data) != 0 || strings.Contains(string(bp), "bought") {
			t.Fatalf("a preview left %d live events and blueprint %s", len(pg.Data), bp)
		}
	})
	if code := b.call(t, "POST", "/v1/admin/integrations/int_nope/blueprint/preview", `{"event":`+order+`}`, nil); code != 404 {
		t.Fatalf("preview on an unknown integration: %d", code)
	}
}
