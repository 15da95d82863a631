package omnisend

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/integration"
)

// recommendedPayload maps the Segment message in testdata/name with the
// recommended variant and builds Omnisend's body, as the pipeline does
// (the event's time is what eventTime and event_time read).
func recommendedPayload(t *testing.T, raw []byte, traits map[string]any) []byte {
	t.Helper()
	src, err := blueprint.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Event     string    `json:"event"`
		MessageID string    `json:"messageId"`
		Timestamp time.Time `json:"timestamp"`
	}
	if err := json.Unmarshal(raw, &msg); err != nil {
		t.Fatal(err)
	}
	bp := Recommended()
	res := blueprint.Apply(bp, msg.Event, src.WithEventTime(msg.Timestamp))
	if !res.Enabled {
		t.Fatalf("%q is not enabled in the recommended variant", msg.Event)
	}
	c := integration.Contact{Email: "jane@example.com", FirstName: "Jane"}
	if obj := blueprint.ApplyContact(bp, traits); obj != nil {
		c.Fields = map[string]any{}
		for _, k := range obj.Keys() {
			c.Fields[k], _ = obj.Get(k)
		}
		c.FieldOrder = obj.Keys()
	}
	got, err := New(Options{}).Payload(&integration.Event{
		IntegrationID: testIntegrationID, PipelineID: testPipelineID, MessageID: msg.MessageID,
		VendorEventName: res.VendorEventName, Call: integration.CallTrack, Timestamp: msg.Timestamp,
		Contact: c, Consent: integration.ConsentGranted, Properties: res.Properties, Order: res.Order,
		EventVersion: res.EventVersion,
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestRecommendedGolden: every recommended event's body, from a Segment
// e-commerce message, pinned byte for byte (testdata/recommended; -update
// rewrites them, each checked by hand against Omnisend's examples), with
// the documented name and eventVersion and never a null.
func TestRecommendedGolden(t *testing.T) {
	t.Parallel()
	tests := []struct{ file, name, version string }{
		{"placed_order", "placed order", "v2"},
		{"order_refunded", "order refunded", "v2"},
		{"order_canceled", "order canceled", "v2"},
		{"paid_for_order", "paid for order", "v2"},
		{"order_fulfilled", "order fulfilled", "v2"},
		{"ordered_product", "ordered product", "v2"},
		{"started_checkout", "started checkout", ""},
		{"added_product_to_cart", "added product to cart", ""},
		{"viewed_product", "viewed product", "v4"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got := recommendedPayload(t, readTestdata(t, "recommended/"+tt.file+".track.json"), nil)
			generatedGolden(t, "recommended/"+tt.file+".payload.golden", append(got, '\n'))
			var body struct {
				EventName    string  `json:"eventName"`
				EventVersion *string `json:"eventVersion"`
			}
			if err := json.Unmarshal(got, &body); err != nil {
				t.Fatal(err)
			}
			if body.EventName != tt.name || body.EventVersion == nil || *body.EventVersion != tt.version {
				t.Errorf("eventName %q, eventVersion %v; want %q, %q", body.EventName, body.EventVersion, tt.name, tt.version)
			}
			if bytes.Contains(got, []byte("null")) {
				t.Errorf("a null in %s", got)
			}
		})
	}
}

// TestRecommendedPageExample: the integration page's Order Completed
// example (two products, revenue 89.90, no total) arrives as placed order
// v2 with totalPrice 89.90, the currency upper case, a line item per
// product and createdAt the instant of eventTime.
func TestRecommendedPageExample(t *testing.T) {
	t.Parallel()
	raw := bytes.Replace(readTestdata(t, "order_completed.track.json"), []byte(`"GBP"`), []byte(`"gbp"`), 1)
	got := recommendedPayload(t, raw, nil)
	var body struct {
		EventName    string  `json:"eventName"`
		EventVersion *string `json:"eventVersion"`
		EventTime    string  `json:"eventTime"`
		Properties   struct {
			TotalPrice json.Number `json:"totalPrice"`
			Currency   string      `json:"currency"`
			CreatedAt  string      `json:"createdAt"`
			Discounts  []struct {
				Code string `json:"code"`
			} `json:"discounts"`
			LineItems []struct {
				ProductID    string      `json:"productID"`
				ProductTitle string      `json:"productTitle"`
				ProductPrice json.Number `json:"productPrice"`
				Quantity     json.Number `json:"productQuantity"`
			} `json:"lineItems"`
		} `json:"properties"`
	}
	dec := json.NewDecoder(bytes.NewReader(got))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		t.Fatal(err)
	}
	p := body.Properties
	if body.EventName != "placed order" || body.EventVersion == nil || *body.EventVersion != "v2" {
		t.Errorf("eventName %q eventVersion %v, want placed order v2", body.EventName, body.EventVersion)
	}
	if p.TotalPrice != "89.90" || p.Currency != "GBP" {
		t.Errorf("totalPrice %s currency %q, want 89.90 GBP", p.TotalPrice, p.Currency)
	}
	if p.CreatedAt == "" || p.CreatedAt != body.EventTime {
		t.Errorf("createdAt %q, want eventTime %q", p.CreatedAt, body.EventTime)
	}
	if len(p.Discounts) != 1 || p.Discounts[0].Code != "WELCOME10" {
		t.Errorf("discounts %+v, want [{code WELCOME10}]", p.Discounts)
	}
	if len(p.LineItems) != 2 || p.LineItems[0].ProductID != "SKU-1" || p.LineItems[0].ProductTitle != "Wool Scarf" ||
		p.LineItems[1].ProductPrice != "49.95" || p.LineItems[1].Quantity != "1" {
		t.Errorf("lineItems %+v, want one per product", p.LineItems)
	}
	if bytes.Contains(got, []byte("null")) {
		t.Errorf("a null in %s", got)
	}
}

// TestRecommendedContact: traits become Omnisend's contact fields; absent
// or unreadable ones are left out.
func TestRecommendedContact(t *testing.T) {
	t.Parallel()
	raw := readTestdata(t, "recommended/started_checkout.track.json")
	tests := []struct {
		name   string
		traits map[string]any
		want   string
	}{
		{"every field", map[string]any{
			"address":  map[string]any{"street": "9709 Highland Rd.", "city": "New York", "state": "NY", "postal_code": json.Number("08723"), "country": "United States"},
			"birthday": "1997-05-28T00:00:00Z", "gender": " Female ", "plan": "gold",
		}, `"contact":{"email":"jane@example.com","firstName":"Jane","address":"9709 Highland Rd.","city":"New York","state":"NY","postalCode":"08723","country":"United States","birthdate":"1997-05-28","gender":"f"}`},
		{"gender m", map[string]any{"gender": "M"}, `"contact":{"email":"jane@example.com","firstName":"Jane","gender":"m"}`},
		{"unknown gender and bad birthday left out", map[string]any{"gender": "other", "birthday": "28/05/1997"}, `"contact":{"email":"jane@example.com","firstName":"Jane"}`},
		{"no traits", nil, `"contact":{"email":"jane@example.com","firstName":"Jane"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := recommendedPayload(t, raw, tt.traits)
			if !strings.Contains(string(got), tt.want) {
				t.Errorf("payload %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestPayloadEventVersionAndContactFields: nil sends no eventVersion, ""
// sends "", custom contact fields follow the identifiers in order, and a
// name keeps its & as before.
func TestPayloadEventVersionAndContactFields(t *testing.T) {
	t.Parallel()
	empty, v2 := "", "v2"
	tests := []struct {
		name    string
		version *string
		fields  map[string]any
		order   []string
		want    string
	}{
		{"no version", nil, nil, nil, `{"eventName":"e","origin":"api","eventID":`},
		{"empty version", &empty, nil, nil, `{"eventName":"e","origin":"api","eventVersion":"","eventID":`},
		{"v2", &v2, nil, nil, `"origin":"api","eventVersion":"v2","eventID":`},
		{"custom properties", nil, map[string]any{"customProperties": json.RawMessage(`{"vip":true}`), "city": "Leeds", "email": "other@example.com"}, []string{"city", "customProperties"},
			`"contact":{"email":"a@example.com","firstName":"Tom & Jerry","city":"Leeds","customProperties":{"vip":true}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := New(Options{}).Payload(&integration.Event{
				IntegrationID: testIntegrationID, PipelineID: testPipelineID, MessageID: testMessageID,
				VendorEventName: "e", EventVersion: tt.version,
				Contact: integration.Contact{Email: "a@example.com", FirstName: "Tom & Jerry", Fields: tt.fields, FieldOrder: tt.order},
			})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(got), tt.want) {
				t.Errorf("payload %s\nwant it to hold %s", got, tt.want)
			}
		})
	}
}
