package blueprint

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

func TestDefaultIsValid(t *testing.T) {
	t.Parallel()
	if err := Validate(Default(), nil); err != nil {
		t.Fatalf("Validate(Default(), nil) = %v", err)
	}
}

func TestDefaultGolden(t *testing.T) {
	t.Parallel()
	got, err := json.MarshalIndent(Default(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "default_blueprint.golden.json", append(got, '\n'))
}

func TestDefaultIsFreshCopy(t *testing.T) {
	t.Parallel()
	a := Default()
	a.Events["Order Completed"].Mappings[0].Target = "changed"
	delete(a.Events, "page")
	b := Default()
	if b.Events["Order Completed"].Mappings[0].Target != "orderID" || b.Events["page"].VendorEventName == "" {
		t.Fatal("Default() shares state between calls")
	}
}

// TestDefaultRows runs one event per row of the contract's default
// blueprint table through Apply.
func TestDefaultRows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		key       string
		msg       string
		wantName  string
		wantProps string
		wantPrio  int
		wantAge   time.Duration
	}{
		{
			name: "page from properties",
			key:  "page",
			msg: `{"type":"page","properties":{"url":"https://shop.example/a?x=1&y=2","title":"Scarves","referrer":"https://google.com/","path":"/a"},
				"context":{"page":{"url":"https://ctx.example/","title":"ctx","referrer":"ctx-ref"}}}`,
			wantName:  "page viewed",
			wantProps: `{"url":"https://shop.example/a?x=1&y=2","title":"Scarves","referrer":"https://google.com/"}`,
			wantPrio:  signal.PriorityLow,
			wantAge:   24 * time.Hour,
		},
		{
			name:      "page from context.page",
			key:       "page",
			msg:       `{"type":"page","properties":{},"context":{"page":{"url":"https://shop.example/b","title":"Hats","referrer":"https://bing.com/"}}}`,
			wantName:  "page viewed",
			wantProps: `{"url":"https://shop.example/b","title":"Hats","referrer":"https://bing.com/"}`,
			wantPrio:  signal.PriorityLow,
			wantAge:   24 * time.Hour,
		},
		{
			name:      "page without referrer",
			key:       "page",
			msg:       `{"type":"page","context":{"page":{"url":"https://shop.example/","title":"Home","referrer":""}}}`,
			wantName:  "page viewed",
			wantProps: `{"url":"https://shop.example/","title":"Home","referrer":""}`,
			wantPrio:  signal.PriorityLow,
			wantAge:   24 * time.Hour,
		},
		{
			name:      "Signed Up",
			key:       "Signed Up",
			msg:       `{"type":"track","event":"Signed Up","properties":{"method":"email","plan":"free"}}`,
			wantName:  "signed up",
			wantProps: `{"signUpMethod":"email"}`,
			wantPrio:  signal.PriorityNormal,
		},
		{
			name: "Product Viewed",
			key:  "Product Viewed",
			msg: `{"type":"track","event":"Product Viewed","properties":{"product_id":"SKU-1","sku":"S1","name":"Wool Scarf",
				"price":39.95,"currency":"GBP","url":"https://shop.example/p/scarf","image_url":"https://cdn.example/scarf.jpg","category":"Winter"}}`,
			wantName: "product viewed",
			wantProps: `{"productID":"SKU-1","title":"Wool Scarf","price":39.95,"currency":"GBP",
				"url":"https://shop.example/p/scarf","imageUrl":"https://cdn.example/scarf.jpg"}`,
			wantPrio: signal.PriorityLow,
			wantAge:  24 * time.Hour,
		},
		{
			name: "Product Added",
			key:  "Product Added",
			msg: `{"type":"track","event":"Product Added","properties":{"product_id":"SKU-2","name":"Knit Hat","price":49.95,
				"quantity":2,"currency":"GBP","cart_id":"cart-77","brand":"Acme"}}`,
			wantName:  "added to cart",
			wantProps: `{"productID":"SKU-2","title":"Knit Hat","price":49.95,"quantity":2,"currency":"GBP","cartID":"cart-77"}`,
			wantPrio:  signal.PriorityNormal,
		},
		{
			name: "Checkout Started",
			key:  "Checkout Started",
			msg: `{"type":"track","event":"Checkout Started","properties":{"value":89.90,"revenue":80.00,"currency":"GBP",
				"products":[{"product_id":"SKU-1","price":39.95}],"checkout_url":"https://shop.example/checkout/abc"},
				"context":{"page":{"url":"https://shop.example/cart"}}}`,
			wantName: "started checkout",
			wantProps: `{"value":89.90,"currency":"GBP","products":[{"product_id":"SKU-1","price":39.95}],
				"abandonedCheckoutURL":"https://shop.example/checkout/abc"}`,
			wantPrio: signal.PriorityHigh,
		},
		{
			name: "Checkout Started fallbacks",
			key:  "Checkout Started",
			msg: `{"type":"track","event":"Checkout Started","properties":{"revenue":80.00,"currency":"GBP"},
				"context":{"page":{"url":"https://shop.example/cart?step=1&x=2"}}}`,
			wantName:  "started checkout",
			wantProps: `{"value":80.00,"currency":"GBP","abandonedCheckoutURL":"https://shop.example/cart?step=1&x=2"}`,
			wantPrio:  signal.PriorityHigh,
		},
		{
			name: "Order Completed (integration page example)",
			key:  "Order Completed",
			msg: `{"type":"track","event":"Order Completed","properties":{"order_id":"ORDER-5512","revenue":89.90,"currency":"GBP",
				"coupon":"WELCOME10","products":[
				{"product_id":"SKU-1","product_name":"Wool Scarf","price":39.95,"quantity":1},
				{"product_id":"SKU-2","product_name":"Knit Hat","price":49.95,"quantity":1}]}}`,
			wantName: "placed order",
			wantProps: `{"orderID":"ORDER-5512","value":89.90,"currency":"GBP","discountCode":"WELCOME10","products":[
				{"product_id":"SKU-1","product_name":"Wool Scarf","price":39.95,"quantity":1},
				{"product_id":"SKU-2","product_name":"Knit Hat","price":49.95,"quantity":1}]}`,
			wantPrio: signal.PriorityHigh,
		},
		{
			name:      "Order Completed total fallback, no coupon",
			key:       "Order Completed",
			msg:       `{"type":"track","event":"Order Completed","properties":{"order_id":"O-1","total":120,"currency":"EUR","coupon":null}}`,
			wantName:  "placed order",
			wantProps: `{"orderID":"O-1","value":120,"currency":"EUR"}`,
			wantPrio:  signal.PriorityHigh,
		},
	}
	bp := Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := Apply(bp, tt.key, mustDecode(t, tt.msg))
			if !res.Enabled {
				t.Fatal("not enabled")
			}
			if res.VendorEventName != tt.wantName {
				t.Errorf("VendorEventName = %q, want %q", res.VendorEventName, tt.wantName)
			}
			if res.Priority != tt.wantPrio {
				t.Errorf("Priority = %d, want %d", res.Priority, tt.wantPrio)
			}
			if res.MaxAge != tt.wantAge {
				t.Errorf("MaxAge = %v, want %v", res.MaxAge, tt.wantAge)
			}
			assertProps(t, res.Properties, tt.wantProps)
		})
	}
}

func TestDefaultDropsOtherEvents(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, key, msg string }{
		{"unknown track", "Coupon Applied", `{"type":"track","event":"Coupon Applied","properties":{"coupon":"X"}}`},
		{"order refunded", "Order Refunded", `{"type":"track","event":"Order Refunded"}`},
		{"case differs", "order completed", `{"type":"track","event":"order completed","properties":{"order_id":"1"}}`},
	}
	bp := Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if res := Apply(bp, tt.key, mustDecode(t, tt.msg)); res.Enabled {
				t.Fatalf("Apply() = %+v, want not enabled", res)
			}
		})
	}
}
