package omnisend

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/contact"
	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

// TestPayloadPlacedOrderGolden checks the integration page's Order
// Completed example against the hand-written golden file.
func TestPayloadPlacedOrderGolden(t *testing.T) {
	t.Parallel()
	got, err := New(Options{}).Payload(pageEvent())
	if err != nil {
		t.Fatalf("Payload() error = %v", err)
	}
	assertPlacedOrder(t, got)
	generatedGolden(t, "placed_order.payload.golden", append(got, '\n'))
}

// TestPayloadFromTrackCall runs the page's datafly.track call through the
// default blueprint, as the pipeline does, and expects the same body.
func TestPayloadFromTrackCall(t *testing.T) {
	t.Parallel()
	src, err := blueprint.Decode(readTestdata(t, "order_completed.track.json"))
	if err != nil {
		t.Fatal(err)
	}
	res := blueprint.Apply(blueprint.Default(), "Order Completed", src)
	if !res.Enabled {
		t.Fatal("Order Completed is not enabled in the default blueprint")
	}
	res.Properties["marketing_consent"] = "subscribed"
	// Where the page shows it: after the scalar properties, before products.
	order := slices.Insert(slices.Clone(res.Order), slices.Index(res.Order, "products"), "marketing_consent")
	phone, err := contact.NormalizePhone("07700 900123", contact.RegionFromLocale("en-GB"))
	if err != nil {
		t.Fatal(err)
	}
	ev := &integration.Event{
		IntegrationID:   testIntegrationID,
		PipelineID:      testPipelineID,
		MessageID:       testMessageID,
		VendorEventName: res.VendorEventName,
		Timestamp:       testTime.In(time.FixedZone("CET", 3600)),
		Contact:         integration.Contact{Email: contact.NormalizeEmail("  Jane@Example.com "), Phone: phone, FirstName: "Jane"},
		Properties:      res.Properties,
		Order:           order,
	}
	got, err := New(Options{}).Payload(ev)
	if err != nil {
		t.Fatal(err)
	}
	assertPlacedOrder(t, got)
	// Objects from the message keep their key order too, so the body is the
	// page's example byte for byte, but for whitespace.
	var want bytes.Buffer
	if err := json.Compact(&want, readTestdata(t, "placed_order.golden.json")); err != nil {
		t.Fatal(err)
	}
	if string(got) != want.String() {
		t.Errorf("payload =\n%s\nwant (compacted golden)\n%s", got, want.String())
	}
}

func assertPlacedOrder(t *testing.T, got []byte) {
	t.Helper()
	assertSameJSON(t, got, readTestdata(t, "placed_order.golden.json"))
	for _, verbatim := range []string{`"value":89.90`, `"price":39.95`, `"price":49.95`, `"quantity":1`} {
		if !strings.Contains(string(got), verbatim) {
			t.Errorf("payload lacks %s verbatim: %s", verbatim, got)
		}
	}
	wantKeys := []string{"eventName", "origin", "eventID", "eventTime", "contact", "properties"}
	if keys := topKeys(t, got); !slices.Equal(keys, wantKeys) {
		t.Errorf("keys = %v, want %v", keys, wantKeys)
	}
	var b struct{ Contact json.RawMessage }
	if err := json.Unmarshal(got, &b); err != nil {
		t.Fatal(err)
	}
	if keys := topKeys(t, b.Contact); !slices.Equal(keys, []string{"email", "phone", "firstName"}) {
		t.Errorf("contact keys = %v", keys)
	}
	if strings.Contains(string(got), "eventVersion") {
		t.Error("payload has an eventVersion")
	}
}

func TestPayload(t *testing.T) {
	t.Parallel()
	base := func(edit func(*integration.Event)) *integration.Event {
		ev := &integration.Event{
			IntegrationID: "int_1", PipelineID: "pip_1", MessageID: "m1", VendorEventName: "page viewed", Timestamp: testTime,
			Contact:    integration.Contact{Email: "jane@example.com"},
			Properties: map[string]any{"url": "https://shop.example/?a=1&b=<2>", "marketing_consent": "nonSubscribed"},
		}
		edit(ev)
		return ev
	}
	id := EventID("int_1", "pip_1", "m1")
	tests := []struct {
		name    string
		ev      *integration.Event
		want    string
		wantErr bool
	}{
		{
			name: "no HTML escaping",
			ev:   base(func(*integration.Event) {}),
			want: `{"eventName":"page viewed","origin":"api","eventID":"` + id + `","eventTime":"2025-03-14T09:26:53.589Z","contact":{"email":"jane@example.com"},"properties":{"marketing_consent":"nonSubscribed","url":"https://shop.example/?a=1&b=<2>"}}`,
		},
		{
			name: "phone only, whole second, nil properties",
			ev: base(func(ev *integration.Event) {
				ev.Contact = integration.Contact{Phone: "+14155552671"}
				ev.Timestamp = time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("EST", -5*3600))
				ev.Properties = nil
			}),
			want: `{"eventName":"page viewed","origin":"api","eventID":"` + id + `","eventTime":"2025-01-02T08:04:05Z","contact":{"phone":"+14155552671"},"properties":{}}`,
		},
		{
			name: "sub-millisecond dropped, zero time left out, names trimmed and cut",
			ev: base(func(ev *integration.Event) {
				ev.Timestamp = time.Time{}
				ev.Contact.FirstName = "  Jane  "
				ev.Contact.LastName = strings.Repeat("é", 60)
				ev.Properties = map[string]any{}
			}),
			want: `{"eventName":"page viewed","origin":"api","eventID":"` + id + `","contact":{"email":"jane@example.com","firstName":"Jane","lastName":"` + strings.Repeat("é", 50) + `"},"properties":{}}`,
		},
		{
			name: "microseconds truncated to milliseconds",
			ev: base(func(ev *integration.Event) {
				ev.Timestamp = time.Date(2025, 1, 2, 3, 4, 5, 1_999_999, time.UTC)
				ev.Properties = nil
			}),
			want: `{"eventName":"page viewed","origin":"api","eventID":"` + id + `","eventTime":"2025-01-02T03:04:05.001Z","contact":{"email":"jane@example.com"},"properties":{}}`,
		},
		{
			name: "properties in Order, then sorted; unknown and repeated names skipped",
			ev: base(func(ev *integration.Event) {
				ev.Properties = map[string]any{"b": json.Number("2.50"), "a": 1, "d": json.RawMessage(`{"z":1,"y":[2.0]}`), "c": "x"}
				ev.Order = []string{"d", "nope", "b", "d"}
			}),
			want: `{"eventName":"page viewed","origin":"api","eventID":"` + id + `","eventTime":"2025-03-14T09:26:53.589Z","contact":{"email":"jane@example.com"},"properties":{"d":{"z":1,"y":[2.0]},"b":2.50,"a":1,"c":"x"}}`,
		},
		{name: "no event name", ev: base(func(ev *integration.Event) { ev.VendorEventName = "" }), wantErr: true},
		{name: "no message id", ev: base(func(ev *integration.Event) { ev.MessageID = "" }), wantErr: true},
		{name: "no integration id", ev: base(func(ev *integration.Event) { ev.IntegrationID = "" }), wantErr: true},
		{name: "no identifier", ev: base(func(ev *integration.Event) { ev.Contact = integration.Contact{FirstName: "Jane"} }), wantErr: true},
		{name: "unencodable property", ev: base(func(ev *integration.Event) { ev.Properties["f"] = func() {} }), wantErr: true},
		{name: "nil event", ev: nil, wantErr: true},
	}
	v := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := v.Payload(tt.ev)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Payload() = %s, want error", got)
				}
				if strings.Contains(err.Error(), "jane@example.com") {
					t.Errorf("error %q carries the email", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Payload() error = %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("Payload() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestEventID(t *testing.T) {
	t.Parallel()
	type ids struct{ integration, pipeline, message string }
	tests := []struct {
		name string
		a, b ids
		same bool
	}{
		{name: "same on every retry", a: ids{"int_1", "pip_1", "m1"}, b: ids{"int_1", "pip_1", "m1"}, same: true},
		{name: "per integration", a: ids{"int_1", "pip_1", "m1"}, b: ids{"int_2", "pip_1", "m1"}},
		{name: "per pipeline", a: ids{"int_1", "pip_1", "m1"}, b: ids{"int_1", "pip_2", "m1"}},
		{name: "per message", a: ids{"int_1", "pip_1", "m1"}, b: ids{"int_1", "pip_1", "m2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, b := EventID(tt.a.integration, tt.a.pipeline, tt.a.message), EventID(tt.b.integration, tt.b.pipeline, tt.b.message)
			if (a == b) != tt.same {
				t.Errorf("EventID %s vs %s, want same=%v", a, b, tt.same)
			}
			u, err := uuid.Parse(a)
			if err != nil || u.Version() != 5 || u.Variant() != uuid.RFC4122 {
				t.Errorf("EventID = %s (version %d, err %v), want an RFC 4122 v5 UUID", a, u.Version(), err)
			}
		})
	}
	// Pinned: the namespace and the name's form must never change.
	if got, want := EventID(testIntegrationID, testPipelineID, testMessageID), uuid.NewSHA1(eventIDNamespace, []byte(testIntegrationID+"/"+testPipelineID+"/"+testMessageID)).String(); got != want {
		t.Errorf("EventID = %s, want %s", got, want)
	}
}

func TestPayloadErrorsAreInvalid(t *testing.T) {
	t.Parallel()
	_, err := New(Options{}).Payload(&integration.Event{IntegrationID: "i", PipelineID: "p", MessageID: "m", VendorEventName: "x"})
	if signal.ErrorCode(err) != signal.EINVALID {
		t.Fatalf("error = %v, want %s", err, signal.EINVALID)
	}
}
