package blueprint

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/signalhq/signal/internal/signal"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		json      string
		wantField string
	}{
		{name: "contract example", json: `{"version":2,"defaults":{"action":"drop"},"events":{"Order Completed":{"vendor_event_name":"placed order","enabled":true,"mappings":[{"source":"properties.order_id","target":"orderID"}]}}}`},
		{name: "forward, no events", json: `{"version":2,"defaults":{"action":"forward"}}`},
		{name: "empty action", json: `{"version":2,"defaults":{},"events":{}}`},
		{name: "disabled without name", json: `{"version":2,"events":{"X":{"enabled":false}}}`},
		{name: "all roots and else forms", json: `{"version":2,"events":{"E":{"vendor_event_name":"e","enabled":true,"priority":"low","max_age":"1h30m","mappings":[
			{"source":"properties.a","else":"context.page.url","target":"a"},
			{"source":"traits.email","else":["userId","anonymousId"],"target":"b_2"},
			{"source":"event","target":"c"},{"source":"name","target":"d"},{"source":"messageId","target":"e"},
			{"source":"timestamp","target":"f"},{"source":"properties","target":"all"},
			{"source":"properties.products.0.price","target":"` + strings.Repeat("T", 128) + `"}]}}}`},
		{name: "version missing", json: `{"events":{}}`, wantField: "version"},
		{name: "version 1", json: `{"version":1}`, wantField: "version"},
		{name: "unknown action", json: `{"version":2,"defaults":{"action":"send"}}`, wantField: "defaults.action"},
		{name: "empty event key", json: `{"version":2,"events":{"":{"vendor_event_name":"x","enabled":true}}}`, wantField: "events"},
		{name: "blank event key", json: `{"version":2,"events":{"  ":{"vendor_event_name":"x","enabled":true}}}`, wantField: "events"},
		{name: "enabled without vendor name", json: `{"version":2,"events":{"Order Completed":{"enabled":true}}}`, wantField: "events.Order Completed.vendor_event_name"},
		{name: "blank vendor name", json: `{"version":2,"events":{"page":{"vendor_event_name":" ","enabled":true}}}`, wantField: "events.page.vendor_event_name"},
		{name: "NUL in vendor name", json: `{"version":2,"events":{"page":{"vendor_event_name":"page\u0000viewed","enabled":true}}}`, wantField: "events.page.vendor_event_name"},
		{name: "bad priority", json: `{"version":2,"events":{"page":{"vendor_event_name":"p","enabled":true,"priority":"urgent"}}}`, wantField: "events.page.priority"},
		{name: "bad max_age", json: `{"version":2,"events":{"page":{"vendor_event_name":"p","enabled":true,"max_age":"1 day"}}}`, wantField: "events.page.max_age"},
		{name: "zero max_age", json: `{"version":2,"events":{"page":{"vendor_event_name":"p","enabled":true,"max_age":"0s"}}}`, wantField: "events.page.max_age"},
		{name: "negative max_age", json: `{"version":2,"events":{"page":{"vendor_event_name":"p","enabled":true,"max_age":"-1h"}}}`, wantField: "events.page.max_age"},
		{name: "empty source", json: `{"version":2,"events":{"Order Completed":{"vendor_event_name":"p","enabled":true,"mappings":[{"source":"","target":"a"}]}}}`, wantField: "events.Order Completed.mappings[0].source"},
		{name: "unknown root", json: `{"version":2,"events":{"Order Completed":{"vendor_event_name":"p","enabled":true,"mappings":[{"source":"properties.a","target":"a"},{"source":"props.order_id","target":"b"}]}}}`, wantField: "events.Order Completed.mappings[1].source"},
		{name: "empty segment", json: `{"version":2,"events":{"E":{"vendor_event_name":"p","enabled":true,"mappings":[{"source":"properties..a","target":"a"}]}}}`, wantField: "events.E.mappings[0].source"},
		{name: "trailing dot", json: `{"version":2,"events":{"E":{"vendor_event_name":"p","enabled":true,"mappings":[{"source":"properties.","target":"a"}]}}}`, wantField: "events.E.mappings[0].source"},
		{name: "spaces around source", json: `{"version":2,"events":{"E":{"vendor_event_name":"p","enabled":true,"mappings":[{"source":" properties.a","target":"a"}]}}}`, wantField: "events.E.mappings[0].source"},
		{name: "bad else", json: `{"version":2,"events":{"E":{"vendor_event_name":"p","enabled":true,"mappings":[{"source":"properties.a","else":["context.x","literal.y"],"target":"a"}]}}}`, wantField: "events.E.mappings[0].else[1]"},
		{name: "empty target", json: `{"version":2,"events":{"Order Completed":{"vendor_event_name":"p","enabled":true,"mappings":[{"source":"properties.a","target":""}]}}}`, wantField: "events.Order Completed.mappings[0].target"},
		{name: "target with dash", json: `{"version":2,"events":{"E":{"vendor_event_name":"p","enabled":true,"mappings":[{"source":"properties.a","target":"order-id"}]}}}`, wantField: "events.E.mappings[0].target"},
		{name: "target with space", json: `{"version":2,"events":{"E":{"vendor_event_name":"p","enabled":true,"mappings":[{"source":"properties.a","target":"order id"}]}}}`, wantField: "events.E.mappings[0].target"},
		{name: "target non-ASCII", json: `{"version":2,"events":{"E":{"vendor_event_name":"p","enabled":true,"mappings":[{"source":"properties.a","target":"prix€"}]}}}`, wantField: "events.E.mappings[0].target"},
		{name: "target too long", json: `{"version":2,"events":{"E":{"vendor_event_name":"p","enabled":true,"mappings":[{"source":"properties.a","target":"` + strings.Repeat("T", 129) + `"}]}}}`, wantField: "events.E.mappings[0].target"},
		{name: "duplicate target", json: `{"version":2,"events":{"E":{"vendor_event_name":"p","enabled":true,"mappings":[{"source":"properties.a","target":"v"},{"source":"properties.b","target":"x"},{"source":"properties.c","target":"v"}]}}}`, wantField: "events.E.mappings[2].target"},
		{name: "reserved target", json: `{"version":2,"events":{"E":{"vendor_event_name":"p","enabled":true,"mappings":[{"source":"properties.a","target":"marketing_consent"}]}}}`, wantField: "events.E.mappings[0].target"},
		{name: "disabled event still checked", json: `{"version":2,"events":{"E":{"enabled":false,"mappings":[{"source":"x","target":"a"}]}}}`, wantField: "events.E.mappings[0].source"},
		{name: "first event in key order", json: `{"version":2,"events":{"B":{"enabled":true},"A":{"enabled":true}}}`, wantField: "events.A.vendor_event_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var bp signal.Blueprint
			if err := json.Unmarshal([]byte(tt.json), &bp); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			err := Validate(bp, testRule)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want error on %s", tt.wantField)
			}
			if code := signal.ErrorCode(err); code != signal.EINVALID {
				t.Errorf("code = %q, want %q", code, signal.EINVALID)
			}
			if f := signal.ErrorField(err); f != tt.wantField {
				t.Errorf("field = %q, want %q (%v)", f, tt.wantField, err)
			}
			if signal.ErrorMessage(err) == "" {
				t.Error("empty message")
			}
		})
	}
}

// testRule is a vendor naming rule for these tests (word characters, at
// most 128, one reserved name), as a vendor's ValidateTarget would be.
func testRule(t string) error {
	if len(t) > 128 {
		return signal.Errorf(signal.EINVALID, "must be at most 128 characters")
	}
	for _, c := range t {
		if !(c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return signal.Errorf(signal.EINVALID, "may hold only letters, digits and _")
		}
	}
	if t == "marketing_consent" {
		return signal.Errorf(signal.EINVALID, "is reserved")
	}
	return nil
}
