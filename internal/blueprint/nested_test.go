package blueprint

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// nestedBP exercises every mapping form on one event.
func nestedBP(ms ...signal.Mapping) signal.Blueprint {
	v2 := "v2"
	return signal.Blueprint{Version: 2, Events: map[string]signal.BlueprintEvent{
		"E": {VendorEventName: "e", Enabled: true, EventVersion: &v2, Mappings: ms},
	}}
}

func TestApplyMappingForms(t *testing.T) {
	t.Parallel()
	const msg = `{"type":"track","timestamp":"2025-03-14T10:26:53.5+01:00","properties":{"total":"89.90","revenue":89.90,"currency":"gbp","coupon":"WELCOME10",
		"products":[{"product_id":"SKU-1","name":"Scarf","price":39.95,"quantity":1,"category":"Knits","url":"https://x/?a=1&b=2"},"junk",{"product_id":"SKU-2","price":49.95}],
		"flag":true,"n":7,"gender":"Female","born":"1997-05-28T23:00:00-05:00"}}`
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	tests := []struct {
		name string
		m    []signal.Mapping
		want string // the properties, as JSON bytes exactly
	}{
		{"constant", []signal.Mapping{{Value: raw(`"web"`), Target: "source"}, {Value: raw(`{"a":[1.50]}`), Target: "obj"}}, `{"source":"web","obj":{"a":[1.50]}}`},
		{"default when absent", []signal.Mapping{{Source: "properties.nope", Else: signal.Paths{"properties.none"}, Default: raw(`0`), Target: "d"}}, `{"d":0}`},
		{"fallback before default", []signal.Mapping{{Source: "properties.nope", Else: signal.Paths{"properties.revenue"}, Default: raw(`0`), Target: "d"}}, `{"d":89.90}`},
		{"upper and lower case", []signal.Mapping{{Source: "properties.currency", Transform: signal.Paths{"upper-case"}, Target: "u"}, {Source: "properties.gender", Transform: signal.Paths{"lower-case"}, Target: "l"}}, `{"u":"GBP","l":"female"}`},
		{"to-number keeps the text", []signal.Mapping{{Source: "properties.total", Transform: signal.Paths{"to-number"}, Target: "n"}}, `{"n":89.90}`},
		{"to-number refuses words", []signal.Mapping{{Source: "properties.currency", Transform: signal.Paths{"to-number"}, Target: "n"}}, `{}`},
		{"to-string", []signal.Mapping{{Source: "properties.n", Transform: signal.Paths{"to-string"}, Target: "s"}, {Source: "properties.flag", Transform: signal.Paths{"to-string"}, Target: "b"}}, `{"s":"7","b":"true"}`},
		{"upper-case of a number leaves it out", []signal.Mapping{{Source: "properties.n", Transform: signal.Paths{"upper-case"}, Target: "x"}}, `{}`},
		{"date keeps the written day", []signal.Mapping{{Source: "properties.born", Transform: signal.Paths{"date"}, Target: "d"}}, `{"d":"1997-05-28"}`},
		{"date-time is UTC", []signal.Mapping{{Source: "timestamp", Transform: signal.Paths{"date-time"}, Target: "t"}}, `{"t":"2025-03-14T09:26:53.500Z"}`},
		{"values table", []signal.Mapping{{Source: "properties.gender", Transform: signal.Paths{"lower-case"}, Values: map[string]json.RawMessage{"female": raw(`"f"`), "male": raw(`"m"`)}, Target: "g"}}, `{"g":"f"}`},
		{"values table miss leaves out", []signal.Mapping{{Source: "properties.currency", Values: map[string]json.RawMessage{"x": raw(`"y"`)}, Target: "g"}}, `{}`},
		{"nested targets", []signal.Mapping{{Source: "properties.coupon", Target: "discounts[0].code"}, {Value: raw(`"coupon"`), Target: "discounts[0].type"}, {Source: "properties.n", Target: "product.id"}, {Source: "properties.flag", Target: "product.meta.on"}}, `{"discounts":[{"code":"WELCOME10","type":"coupon"}],"product":{"id":7,"meta":{"on":true}}}`},
		{"nested target of an absent value makes nothing", []signal.Mapping{{Source: "properties.nope", Target: "discounts[0].code"}}, `{}`},
		{"array of items", []signal.Mapping{{Source: "properties.products", Target: "lineItems", Items: []signal.Mapping{
			{Source: "product_id", Target: "productID"}, {Source: "name", Target: "productTitle"}, {Source: "price", Target: "productPrice"},
			{Source: "url", Target: "productURL"}, {Source: "category", Target: "productCategories[0].title"},
		}}}, `{"lineItems":[{"productID":"SKU-1","productTitle":"Scarf","productPrice":39.95,"productURL":"https://x/?a=1&b=2","productCategories":[{"title":"Knits"}]},{"productID":"SKU-2","productPrice":49.95}]}`},
		{"items of a non-array make nothing", []signal.Mapping{{Source: "properties.currency", Target: "lineItems", Items: []signal.Mapping{{Source: "a", Target: "b"}}}}, `{}`},
		{"event time", []signal.Mapping{{Source: "event_time", Target: "createdAt"}}, `{"createdAt":"2025-03-14T09:26:53.589Z"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bp := nestedBP(tt.m...)
			if err := Validate(bp, testRule); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			src := mustDecode(t, msg).WithEventTime(time.Date(2025, 3, 14, 9, 26, 53, 589e6, time.UTC))
			res := Apply(bp, "E", src)
			if res.EventVersion == nil || *res.EventVersion != "v2" {
				t.Errorf("EventVersion = %v, want v2", res.EventVersion)
			}
			got, err := (&Object{keys: res.Order, vals: res.Properties}).MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("properties = %s\nwant         %s", got, tt.want)
			}
			// Without the raw message (NewSource) the meaning is the same.
			plain, err := json.Marshal(Apply(bp, "E", NewSource(src.root).WithEventTime(src.eventTime)).Properties)
			if err != nil {
				t.Fatal(err)
			}
			assertProps(t, decodeNumbers(t, string(plain)), tt.want)
		})
	}
}

func TestApplyEventVersionEmpty(t *testing.T) {
	t.Parallel()
	empty := ""
	bp := signal.Blueprint{Version: 2, Events: map[string]signal.BlueprintEvent{
		"A": {VendorEventName: "a", Enabled: true, EventVersion: &empty},
		"B": {VendorEventName: "b", Enabled: true},
	}}
	src := mustDecode(t, `{"type":"track"}`)
	if v := Apply(bp, "A", src).EventVersion; v == nil || *v != "" {
		t.Errorf("A: EventVersion = %v, want a pointer to \"\"", v)
	}
	if v := Apply(bp, "B", src).EventVersion; v != nil {
		t.Errorf("B: EventVersion = %q, want nil (none sent)", *v)
	}
	b, _ := json.Marshal(bp.Events["A"])
	if want := `{"vendor_event_name":"a","enabled":true,"event_version":""}`; string(b) != want {
		t.Errorf("A marshals as %s, want %s", b, want)
	}
}

func TestApplyContact(t *testing.T) {
	t.Parallel()
	bp := signal.Blueprint{Version: 2, Contact: []signal.Mapping{
		{Source: "traits.address.street", Target: "address"},
		{Source: "traits.address.city", Target: "city"},
		{Source: "traits.birthday", Transform: signal.Paths{"date"}, Target: "birthdate"},
		{Source: "traits.vip", Target: "customProperties.vip"},
	}}
	if err := Validate(bp, testRule); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	traits := map[string]any{"address": map[string]any{"street": "1 Main St", "city": "Leeds"}, "birthday": "1990-02-03", "vip": true}
	obj := ApplyContact(bp, traits)
	got, _ := json.Marshal(obj)
	if want := `{"address":"1 Main St","city":"Leeds","birthdate":"1990-02-03","customProperties":{"vip":true}}`; string(got) != want {
		t.Errorf("contact = %s, want %s", got, want)
	}
	if obj := ApplyContact(bp, map[string]any{"other": 1}); obj != nil {
		t.Errorf("no mapped trait: contact = %v, want nil", obj)
	}
	if obj := ApplyContact(Default(), traits); obj != nil {
		t.Errorf("a blueprint without contact mappings: %v, want nil", obj)
	}
}

func TestValidateMappingForms(t *testing.T) {
	t.Parallel()
	ev := func(mappings string) string {
		return `{"version":2,"events":{"Order Completed":{"vendor_event_name":"p","enabled":true,"mappings":` + mappings + `}}}`
	}
	const p = "events.Order Completed.mappings"
	tests := []struct {
		name, json, wantField string
	}{
		{"all forms", ev(`[{"value":"x","target":"a"},{"source":"properties.b","default":0,"transform":"to-number","target":"b"},{"source":"properties.products","target":"lineItems","items":[{"source":"sku","target":"productSKU"},{"source":"category","target":"productCategories[0].title"}]},{"source":"properties.coupon","target":"discounts[0].code"},{"source":"event_time","target":"createdAt"}]`), ""},
		{"event version", `{"version":2,"events":{"E":{"vendor_event_name":"p","enabled":true,"event_version":""}}}`, ""},
		{"contact", `{"version":2,"contact":[{"source":"traits.city","target":"city"},{"source":"traits.vip","target":"customProperties.vip"}]}`, ""},
		{"value and source", ev(`[{"value":"x","source":"properties.a","target":"a"}]`), p + "[0].value"},
		{"null value", ev(`[{"value":null,"target":"a"}]`), p + "[0].value"},
		{"null default", ev(`[{"source":"properties.a","default":null,"target":"a"}]`), p + "[0].default"},
		{"unknown transform", ev(`[{"source":"properties.a","transform":["upper-case","shout"],"target":"a"}]`), p + "[0].transform[1]"},
		{"null in values", ev(`[{"source":"properties.a","values":{"x":null},"target":"a"}]`), p + "[0].values.x"},
		{"bad item target", ev(`[{"source":"properties.a","target":"a"},{"source":"properties.products","target":"lineItems","items":[{"source":"sku","target":"ok"},{"source":"sku","target":"bad-name"}]}]`), p + "[1].items[1].target"},
		{"empty item source", ev(`[{"source":"properties.products","target":"lineItems","items":[{"source":"","target":"x"}]}]`), p + "[0].items[0].source"},
		{"duplicate item target", ev(`[{"source":"properties.products","target":"lineItems","items":[{"source":"a","target":"x"},{"source":"b","target":"x"}]}]`), p + "[0].items[1].target"},
		{"transform on an array mapping", ev(`[{"source":"properties.products","transform":"upper-case","target":"lineItems","items":[{"source":"a","target":"x"}]}]`), p + "[0].items"},
		{"value beside its container", ev(`[{"source":"properties.a","target":"product.id"},{"source":"properties.b","target":"product"}]`), p + "[1].target"},
		{"container beside a value", ev(`[{"source":"properties.b","target":"product"},{"source":"properties.a","target":"product.id"}]`), p + "[1].target"},
		{"index then key conflict", ev(`[{"source":"properties.b","target":"d[0]"},{"source":"properties.a","target":"d[0].code"}]`), p + "[1].target"},
		{"bad index", ev(`[{"source":"properties.a","target":"discounts[x].code"}]`), p + "[0].target"},
		{"index too large", ev(`[{"source":"properties.a","target":"discounts[100]"}]`), p + "[0].target"},
		{"leading index", ev(`[{"source":"properties.a","target":"[0].code"}]`), p + "[0].target"},
		{"empty name", ev(`[{"source":"properties.a","target":"product..id"}]`), p + "[0].target"},
		{"nested name breaks the vendor rule", ev(`[{"source":"properties.a","target":"product.id-x"}]`), p + "[0].target"},
		{"items too deep", ev(`[{"source":"properties.a","target":"a","items":[{"source":"b","target":"b","items":[{"source":"c","target":"c","items":[{"source":"d","target":"d","items":[{"source":"e","target":"e"}]}]}]}]}]`), p + "[0].items[0].items[0].items[0].items"},
		{"event version with control", `{"version":2,"events":{"E":{"vendor_event_name":"p","enabled":true,"event_version":"v\u0000"}}}`, "events.E.event_version"},
		{"contact source outside traits", `{"version":2,"contact":[{"source":"properties.city","target":"city"}]}`, "contact[0].source"},
		{"contact target", `{"version":2,"contact":[{"source":"traits.city","target":"ci ty"}]}`, "contact[0].target"},
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
			if f := signal.ErrorField(err); f != tt.wantField || signal.ErrorCode(err) != signal.EINVALID {
				t.Errorf("Validate() = %v (field %q), want EINVALID on %q", err, f, tt.wantField)
			}
		})
	}
}
