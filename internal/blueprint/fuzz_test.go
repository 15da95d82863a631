package blueprint

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/signalhq/signal/internal/signal"
)

func FuzzDecodeApply(f *testing.F) {
	seeds := []struct{ raw, key string }{
		{`{"type":"track","event":"Order Completed","properties":{"order_id":"O","revenue":89.90,"products":[{"price":1}]}}`, "Order Completed"},
		{`{"type":"page","properties":{},"context":{"page":{"url":"https://x/?a=1&b=2"}}}`, "page"},
		{`{"type":"track","properties":{"value":null,"revenue":1e400}}`, "Checkout Started"},
		{`{"type":"track","properties":[1,2]}`, "Anything"},
		{`{"properties":{"a":{"b":[{"c":null}]}}}`, "Raw"},
		{`null`, "page"},
		{`{"a":1} x`, ""},
	}
	for _, s := range seeds {
		f.Add([]byte(s.raw), s.key)
	}
	bps := []signal.Blueprint{
		Default(),
		{Version: 2, Defaults: signal.BlueprintDefaults{Action: ActionForward}, Events: map[string]signal.BlueprintEvent{
			"Raw": {VendorEventName: "raw", Enabled: true},
			"Deep": {VendorEventName: "deep", Enabled: true, Mappings: []signal.Mapping{
				{Source: "properties.a.b.0.c", Else: signal.Paths{"context", "traits.x.y"}, Target: "v"},
			}},
		}},
		// Every mapping form: items, nested targets, constants, transforms.
		{Version: 2, Events: map[string]signal.BlueprintEvent{
			"Order Completed": {VendorEventName: "placed order", Enabled: true, Mappings: []signal.Mapping{
				{Source: "properties.total", Else: signal.Paths{"properties.revenue"}, Transform: signal.Paths{"to-number"}, Target: "totalPrice"},
				{Source: "properties.currency", Transform: signal.Paths{"upper-case"}, Target: "currency"},
				{Source: "properties.coupon", Transform: signal.Paths{"to-string"}, Target: "discounts[0].code"},
				{Value: json.RawMessage(`"web"`), Target: "meta.origin"},
				{Source: "properties.nope", Default: json.RawMessage(`0`), Target: "meta.zero"},
				{Source: "timestamp", Transform: signal.Paths{"date-time"}, Target: "createdAt"},
				{Source: "properties.products", Target: "lineItems", Items: []signal.Mapping{
					{Source: "product_id", Transform: signal.Paths{"to-string"}, Target: "productID"},
					{Source: "price", Target: "productPrice"},
					{Source: "category", Target: "productCategories[0].title"},
					{Source: "tags", Target: "tags", Items: []signal.Mapping{{Source: "n", Target: "name"}}},
				}},
			}},
		}},
	}
	f.Fuzz(func(t *testing.T, raw []byte, key string) {
		src, err := Decode(raw)
		if err != nil {
			return
		}
		for i, bp := range bps {
			res := Apply(bp, key, src)
			if !res.Enabled {
				continue
			}
			if res.Properties == nil || res.VendorEventName == "" {
				t.Fatalf("enabled result without properties or name: %+v", res)
			}
			if len(res.Order) != len(res.Properties) {
				t.Fatalf("Order %v does not list the %d properties", res.Order, len(res.Properties))
			}
			for _, k := range res.Order {
				if _, ok := res.Properties[k]; !ok {
					t.Fatalf("Order names %q, not a property", k)
				}
				if v := res.Properties[k]; i == 0 && v == nil { // Default maps every event
					t.Fatalf("mapped property %q is null", k)
				}
			}
			got, err := json.Marshal(res.Properties)
			if err != nil {
				t.Fatalf("properties do not marshal: %v", err)
			}
			// Verbatim objects mean the same as the decoded ones.
			plain, err := json.Marshal(Apply(bp, key, NewSource(src.root)).Properties)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(decodeNumbers(t, string(got)), decodeNumbers(t, string(plain))) {
				t.Fatalf("verbatim %s differs from decoded %s", got, plain)
			}
		}
	})
}

func FuzzValidate(f *testing.F) {
	f.Add([]byte(`{"version":2,"defaults":{"action":"drop"},"events":{"Order Completed":{"vendor_event_name":"placed order","enabled":true,"mappings":[{"source":"properties.order_id","target":"orderID"}]}}}`))
	f.Add([]byte(`{"version":2,"events":{"E":{"enabled":true,"max_age":"-5m","mappings":[{"source":"a..b","else":["x"],"target":"€"}]}}}`))
	f.Add([]byte(`{"version":2,"contact":[{"source":"traits.a","target":"customProperties.a"}],"events":{"E":{"vendor_event_name":"e","enabled":true,"event_version":"","mappings":[{"value":1,"target":"d[0].x"},{"source":"properties.p","target":"l","items":[{"source":"c","transform":["lower-case","date"],"values":{"a":"b"},"target":"c[0].title"}]}]}}}`))
	f.Add([]byte(`{"version":2,"events":{"E":{"vendor_event_name":"e","enabled":true,"mappings":[{"source":"properties.a","target":"p.q"},{"source":"properties.b","target":"p[0]"},{"source":"properties.c","target":"x[99].y[1]"}]}}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var bp signal.Blueprint
		if err := json.Unmarshal(raw, &bp); err != nil {
			return
		}
		err := Validate(bp, nil)
		if err == nil {
			return
		}
		if signal.ErrorCode(err) != signal.EINVALID || signal.ErrorField(err) == "" {
			t.Fatalf("Validate() = %v, want EINVALID naming a field", err)
		}
	})
}
