package pipeline

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/signalhq/signal/internal/integration/omnisend"
	"github.com/signalhq/signal/internal/signal"
)

// TestConsent: properties.marketing_consent on every event, from
// context.consent.canonical.marketing (Datafly) or
// context.consent.categoryPreferences.marketing (Segment), booleans only.
func TestConsent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		context string
		want    string
	}{
		{"canonical true", `{"consent":{"canonical":{"marketing":true}}}`, ConsentSubscribed},
		{"canonical false", `{"consent":{"canonical":{"marketing":false}}}`, ConsentUnsubscribed},
		{"categoryPreferences true", `{"consent":{"categoryPreferences":{"marketing":true}}}`, ConsentSubscribed},
		{"categoryPreferences false", `{"consent":{"categoryPreferences":{"marketing":false}}}`, ConsentUnsubscribed},
		{"no context", ``, ConsentNonSubscribed},
		{"no consent", `{"locale":"en-GB"}`, ConsentNonSubscribed},
		{"consent without marketing", `{"consent":{"canonical":{"analytics":true},"categoryPreferences":{"advertising":false}}}`, ConsentNonSubscribed},
		{"string true", `{"consent":{"canonical":{"marketing":"true"}}}`, ConsentNonSubscribed},
		{"string false", `{"consent":{"categoryPreferences":{"marketing":"false"}}}`, ConsentNonSubscribed},
		{"number 1", `{"consent":{"canonical":{"marketing":1}}}`, ConsentNonSubscribed},
		{"number 0", `{"consent":{"categoryPreferences":{"marketing":0}}}`, ConsentNonSubscribed},
		{"null", `{"consent":{"canonical":{"marketing":null}}}`, ConsentNonSubscribed},
		{"object", `{"consent":{"canonical":{"marketing":{"granted":true}}}}`, ConsentNonSubscribed},
		{"canonical not a boolean, categoryPreferences false", `{"consent":{"canonical":{"marketing":"yes"},"categoryPreferences":{"marketing":false}}}`, ConsentUnsubscribed},
		{"consent not an object", `{"consent":"granted"}`, ConsentNonSubscribed},
	}
	for _, tt := range tests {
		for _, typ := range []string{"track", "page"} {
			t.Run(tt.name+"/"+typ, func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				b.install(t)
				ctx := ""
				if tt.context != "" {
					ctx = `,"context":` + tt.context
				}
				msg := `{"type":"track","event":"Order Completed","messageId":"m1","userId":"u1"` + ctx + `,` + orderProps + `}`
				if typ == "page" {
					msg = `{"type":"page","messageId":"m1","userId":"u1"` + ctx + `,"properties":{"url":"https://shop.example.com/"}}`
				}
				b.send(t, `{"type":"identify","messageId":"id-1","userId":"u1","traits":{"email":"c@example.com"}}`, msg)
				b.process(t)
				le := b.row(t, "m1")
				wantStatus(t, le, signal.StatusPending, "")
				if got := payloadOf(t, le).Properties["marketing_consent"]; got != tt.want {
					t.Fatalf("marketing_consent %v, want %s (payload %s)", got, tt.want, le.Payload)
				}
			})
		}
	}
}

// TestOrderCompletedPayload: the integration page's Order Completed example
// is queued byte for byte as the page shows it (marketing_consent before
// products, 89.90 as written), plus eventID, eventTime and firstName.
func TestOrderCompletedPayload(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.install(t)
	b.send(t,
		`{"type":"identify","messageId":"id-1","userId":"user-123","traits":{"email":"jane@example.com","phone":"+447700900123","first_name":"Jane"}}`,
		`{"type":"track","event":"Order Completed","messageId":"order-5512","userId":"user-123","timestamp":"2026-11-27T09:30:00.250Z",
		"context":{"consent":{"canonical":{"marketing":true}}},
		"properties":{"order_id":"ORDER-5512","revenue":89.90,"currency":"GBP","coupon":"WELCOME10","products":[
		{ "product_id": "SKU-1", "product_name": "Wool Scarf", "price": 39.95, "quantity": 1 },
		{ "product_id": "SKU-2", "product_name": "Knit Hat", "price": 49.95, "quantity": 1 }]}}`)
	b.process(t)
	le := b.row(t, "order-5512")
	wantStatus(t, le, signal.StatusPending, "")
	want := `{"eventName":"placed order","origin":"api","eventID":"` + omnisend.EventID(in.ID, pipA, "order-5512") + `",` +
		`"eventTime":"2026-11-27T09:30:00.250Z","contact":{"email":"jane@example.com","phone":"+447700900123","firstName":"Jane"},` +
		`"properties":{"orderID":"ORDER-5512","value":89.90,"currency":"GBP","discountCode":"WELCOME10","marketing_consent":"subscribed",` +
		`"products":[{"product_id":"SKU-1","product_name":"Wool Scarf","price":39.95,"quantity":1},` +
		`{"product_id":"SKU-2","product_name":"Knit Hat","price":49.95,"quantity":1}]}}`
	if string(le.Payload) != want {
		t.Fatalf("payload\n%s\nwant\n%s", le.Payload, want)
	}
	if le.VendorEventName != "placed order" {
		t.Fatalf("vendor_event_name %q", le.VendorEventName)
	}
	if got := propertyOrder(t, le.Payload); strings.Join(got, ",") != "orderID,value,currency,discountCode,marketing_consent,products" {
		t.Fatalf("property order %v", got)
	}
}

// TestDefaultBlueprintPayloads: each default blueprint row, end to end
// through the processor (the mapping itself is tested in blueprint).
func TestDefaultBlueprintPayloads(t *testing.T) {
	t.Parallel()
	tests := []struct {
		msg, eventName, props string
	}{
		{`{"type":"page","name":"Home","context":{"page":{"url":"https://s.example/?a=1&b=2","title":"Home","referrer":"https://www.google.com/"}}}`,
			"page viewed", `{"url":"https://s.example/?a=1&b=2","title":"Home","referrer":"https://www.google.com/","marketing_consent":"nonSubscribed"}`},
		{`{"type":"track","event":"Signed Up","properties":{"method":"email","plan":"free"}}`,
			"signed up", `{"signUpMethod":"email","marketing_consent":"nonSubscribed"}`},
		{`{"type":"track","event":"Product Viewed","properties":{"product_id":"SKU-1","name":"Wool Scarf","price":39.95,"currency":"GBP","url":"https://s.example/p/1","image_url":"https://s.example/1.jpg"}}`,
			"product viewed", `{"productID":"SKU-1","title":"Wool Scarf","price":39.95,"currency":"GBP","url":"https://s.example/p/1","imageUrl":"https://s.example/1.jpg","marketing_consent":"nonSubscribed"}`},
		{`{"type":"track","event":"Product Added","properties":{"product_id":"SKU-1","name":"Wool Scarf","price":39.95,"quantity":2,"currency":"GBP","cart_id":"c-1"}}`,
			"added to cart", `{"productID":"SKU-1","title":"Wool Scarf","price":39.95,"quantity":2,"currency":"GBP","cartID":"c-1","marketing_consent":"nonSubscribed"}`},
		{`{"type":"track","event":"Checkout Started","context":{"page":{"url":"https://s.example/checkout"}},"properties":{"revenue":10.50,"currency":"EUR","products":[{"product_id":"SKU-1"}]}}`,
			"started checkout", `{"value":10.50,"currency":"EUR","marketing_consent":"nonSubscribed","products":[{"product_id":"SKU-1"}],"abandonedCheckoutURL":"https://s.example/checkout"}`},
		{`{"type":"track","event":"Order Completed","properties":{"order_id":"O-1","total":12,"currency":"EUR"}}`,
			"placed order", `{"orderID":"O-1","value":12,"currency":"EUR","marketing_consent":"nonSubscribed"}`},
	}
	for _, tt := range tests {
		t.Run(tt.eventName, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.install(t)
			msg := strings.Replace(tt.msg, `{"type"`, `{"messageId":"m1","userId":"u1","type"`, 1)
			b.send(t, `{"type":"identify","messageId":"id-1","userId":"u1","traits":{"email":"d@example.com"}}`, msg)
			b.process(t)
			le := b.row(t, "m1")
			wantStatus(t, le, signal.StatusPending, "")
			if le.VendorEventName != tt.eventName {
				t.Fatalf("vendor_event_name %q, want %q", le.VendorEventName, tt.eventName)
			}
			var body struct {
				EventName  string          `json:"eventName"`
				Properties json.RawMessage `json:"properties"`
			}
			if err := json.Unmarshal(le.Payload, &body); err != nil {
				t.Fatal(err)
			}
			if body.EventName != tt.eventName || string(body.Properties) != tt.props {
				t.Fatalf("eventName %q properties\n%s\nwant %q\n%s", body.EventName, body.Properties, tt.eventName, tt.props)
			}
		})
	}
}

// propertyOrder returns the keys of a payload's properties in order.
func propertyOrder(t *testing.T, payload []byte) []string {
	t.Helper()
	var body struct {
		Properties json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(payload, &body); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(body.Properties)))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}
