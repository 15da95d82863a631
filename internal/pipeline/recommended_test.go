package pipeline

import (
	"strings"
	"testing"

	"github.com/signalhq/signal/internal/integration/omnisend"
	"github.com/signalhq/signal/internal/signal"
)

// TestRecommendedVariant: with the recommended variant the processor sends
// the page's Order Completed example as placed order v2 (totalPrice 89.90,
// currency upper case, a line item per product, createdAt the event's
// time even when the message has no timestamp), and the contact's fields
// from the profile's traits.
func TestRecommendedVariant(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.install(t, func(in *signal.Integration) {
		in.Variant, in.Blueprint = omnisend.VariantRecommended, omnisend.Recommended()
	})
	b.send(t,
		`{"type":"identify","messageId":"id-1","userId":"user-123","traits":{"email":"jane@example.com","first_name":"Jane",
		"address":{"city":"Leeds","postal_code":"LS1 4AP","country":"United Kingdom"},"birthday":"1990-02-03","gender":"female"}}`,
		`{"type":"track","event":"Order Completed","messageId":"order-5512","userId":"user-123",
		"properties":{"order_id":"ORDER-5512","revenue":89.90,"currency":"gbp","coupon":"WELCOME10","products":[
		{ "product_id": "SKU-1", "product_name": "Wool Scarf", "price": 39.95, "quantity": 1 },
		{ "product_id": "SKU-2", "product_name": "Knit Hat", "price": 49.95, "quantity": 1 }]}}`,
		`{"type":"track","event":"Checkout Started","messageId":"chk-1","userId":"user-123","properties":{"cart_id":"c1","value":5}}`)
	b.process(t)
	le := b.row(t, "order-5512")
	wantStatus(t, le, signal.StatusPending, "")
	p := string(le.Payload)
	for _, want := range []string{
		`"eventName":"placed order","origin":"api","eventVersion":"v2",`,
		`"contact":{"email":"jane@example.com","firstName":"Jane","city":"Leeds","postalCode":"LS1 4AP","country":"United Kingdom","birthdate":"1990-02-03","gender":"f"}`,
		`"properties":{"orderID":"ORDER-5512","currency":"GBP","totalPrice":89.90,`,
		`"discounts":[{"code":"WELCOME10"}]`,
		`"lineItems":[{"productID":"SKU-1","productTitle":"Wool Scarf","productPrice":39.95,"productQuantity":1},{"productID":"SKU-2","productTitle":"Knit Hat","productPrice":49.95,"productQuantity":1}]`,
	} {
		if !strings.Contains(p, want) {
			t.Errorf("payload %s\nwant it to hold %s", p, want)
		}
	}
	// No timestamp in the message: eventTime is the time of receipt, and
	// createdAt the same instant.
	_, after, _ := strings.Cut(p, `"eventTime":"`)
	eventTime, _, _ := strings.Cut(after, `"`)
	if eventTime == "" || !strings.Contains(p, `"createdAt":"`+eventTime+`"`) {
		t.Errorf("createdAt is not eventTime %q: %s", eventTime, p)
	}
	if c := string(b.row(t, "chk-1").Payload); !strings.Contains(c, `"eventName":"started checkout","origin":"api","eventVersion":"",`) {
		t.Errorf("started checkout: %s, want eventVersion \"\"", c)
	}
}

// TestPreviewRecommended: the blueprint editor's preview builds with the
// same engine: eventVersion, line items and the contact's fields from the
// message's own traits.
func TestPreviewRecommended(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := &signal.Integration{ID: "int_p", CatalogKey: omnisend.Key, Enabled: true, Status: signal.IntegrationActive,
		Config: map[string]any{"api_key": "k-0123456789abcdef"}, Blueprint: omnisend.Recommended()}
	msg := `{"type":"track","event":"Checkout Started","context":{"traits":{"email":"a@example.com","gender":"M"}},
		"properties":{"cart_id":"c1","revenue":"12.50","currency":"usd","products":[{"product_id":7,"price":12.5}]}}`
	d, err := Preview(b.box, omnisend.New(omnisend.Options{}), in, []byte(msg), b.now)
	if err != nil {
		t.Fatal(err)
	}
	want := `"eventVersion":"",`
	for _, w := range []string{want, `"gender":"m"`, `"value":12.50,"currency":"USD"`, `"lineItems":[{"productID":"7","productPrice":12.5}]`} {
		if !strings.Contains(string(d.Payload), w) {
			t.Errorf("preview %s (%s/%s)\nwant it to hold %s", d.Payload, d.Status, d.Reason, w)
		}
	}
}
