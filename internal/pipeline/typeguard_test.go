package pipeline

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/integration/omnisend"
	"github.com/signalhq/signal/internal/signal"
)

// TestTypeGuard: a property whose JSON type differs from the type its
// vendor event was first sent with is flagged on the live event and still
// sent; with coerce_property_types it is converted back where nothing is
// lost.
func TestTypeGuard(t *testing.T) {
	t.Parallel()
	order := func(id, props string) string {
		return `{"type":"track","event":"Order Completed","messageId":"` + id + `","userId":"u1","properties":{` + props + `}}`
	}
	tests := []struct {
		name          string
		coerce        bool
		first, second string // properties of two orders
		wantWarnings  []string
		wantProp      string // property checked in the second payload
		wantValue     any
	}{
		{"SameTypes", false, `"order_id":"A1","revenue":89.9`, `"order_id":"A2","revenue":12`, nil, "value", json.Number("12")},
		{"NumberThenString", false, `"order_id":"A1","revenue":89.9`, `"order_id":"A2","revenue":"12.5"`,
			[]string{`property "value" was a number, now a string`}, "value", "12.5"},
		{"NumberThenStringCoerced", true, `"order_id":"A1","revenue":89.9`, `"order_id":"A2","revenue":"12.5"`,
			[]string{`property "value" was a number, now a string; sent converted to a number (coerce_property_types)`}, "value", json.Number("12.5")},
		{"NumberThenWordNotCoerced", true, `"order_id":"A1","revenue":89.9`, `"order_id":"A2","revenue":"lots"`,
			[]string{`property "value" was a number, now a string; it cannot be converted`}, "value", "lots"},
		{"NumberThenPaddedNumberNotCoerced", true, `"order_id":"A1","revenue":89.9`, `"order_id":"A2","revenue":"12 "`,
			[]string{`property "value" was a number, now a string; it cannot be converted`}, "value", "12 "},
		{"NumberThenHugeNumberNotCoerced", true, `"order_id":"A1","revenue":89.9`, `"order_id":"A2","revenue":"1e999"`,
			[]string{`property "value" was a number, now a string; it cannot be converted`}, "value", "1e999"},
		{"StringThenNumberCoerced", true, `"order_id":"A1","revenue":1`, `"order_id":5512,"revenue":2`,
			[]string{`property "orderID" was a string, now a number; sent converted to a string`}, "orderID", "5512"},
		{"StringThenBooleanCoerced", true, `"order_id":"A1","coupon":"true"`, `"order_id":"A2","coupon":false`,
			[]string{`property "discountCode" was a string, now a boolean; sent converted to a string`}, "discountCode", "false"},
		{"BooleanThenStringCoerced", true, `"order_id":"A1","coupon":true`, `"order_id":"A2","coupon":"false"`,
			[]string{`property "discountCode" was a boolean, now a string; sent converted to a boolean`}, "discountCode", false},
		{"TwoChangesInNameOrder", false, `"order_id":"A1","revenue":1`, `"order_id":7,"revenue":"2"`,
			[]string{`property "orderID" was a string, now a number`, `property "value" was a number, now a string`}, "value", "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			in := b.install(t, withConfig(map[string]any{signal.ConfigCoercePropertyTypes: tt.coerce}))
			b.send(t, `{"type":"identify","messageId":"id-1","userId":"u1","traits":{"email":"c@example.com"}}`, order("m1", tt.first))
			b.process(t)
			if w := b.rowOf(t, "m1", in.ID).Warnings; len(w) != 0 {
				t.Fatalf("first order warned %+v", w)
			}
			b.send(t, order("m2", tt.second))
			b.process(t)
			le := b.rowOf(t, "m2", in.ID)
			wantStatus(t, le, signal.StatusPending, "")
			if len(le.Warnings) != len(tt.wantWarnings) {
				t.Fatalf("warnings %+v, want %q", le.Warnings, tt.wantWarnings)
			}
			for i, w := range le.Warnings {
				if w.Code != signal.WarningPropertyTypeChanged || !strings.HasPrefix(w.Message, tt.wantWarnings[i]) {
					t.Fatalf("warning %d = %+v, want %s starting %q", i, w, signal.WarningPropertyTypeChanged, tt.wantWarnings[i])
				}
			}
			if got := payloadOf(t, le).Properties[tt.wantProp]; fmt.Sprintf("%T %v", got, got) != fmt.Sprintf("%T %v", tt.wantValue, tt.wantValue) {
				t.Fatalf("sent %s = %T %v, want %T %v", tt.wantProp, got, got, tt.wantValue, tt.wantValue)
			}
		})
	}
}

// TestTypeGuardRemembers: types are those of the first payload sent, per
// integration and vendor event, kept across processors (a restart).
func TestTypeGuardRemembers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.install(t)
	other := b.install(t)
	b.send(t,
		// Filtered (no identifier): not sent, so its types do not count.
		`{"type":"track","event":"Order Completed","messageId":"m0","userId":"nobody","properties":{"order_id":"A0","revenue":"free"}}`,
		`{"type":"identify","messageId":"id-1","userId":"u1","traits":{"email":"c@example.com"}}`,
		`{"type":"track","event":"Order Completed","messageId":"m1","userId":"u1","properties":{"order_id":"A1","revenue":10}}`,
		`{"type":"track","event":"Checkout Started","messageId":"c1","userId":"u1","properties":{"value":"10"}}`)
	b.process(t)
	for _, id := range []string{"m1", "c1"} {
		if w := b.rowOf(t, id, in.ID).Warnings; len(w) != 0 {
			t.Fatalf("%s warned %+v: a filtered event's types or another event's must not count", id, w)
		}
	}
	vendors := integration.NewRegistry()
	vendors.Register(omnisend.New(omnisend.Options{BaseURL: "http://127.0.0.1:1"}))
	b.proc = New(Config{Batch: 100}, Deps{Store: b.db, Hasher: b.box, Vendors: vendors, Now: func() time.Time { return b.now }})
	b.send(t, `{"type":"track","event":"Order Completed","messageId":"m2","userId":"u1","properties":{"order_id":"A2","revenue":"11"}}`)
	b.process(t)
	if w := b.rowOf(t, "m2", in.ID).Warnings; len(w) != 1 || !strings.Contains(w[0].Message, `"value" was a number`) {
		t.Fatalf("after a restart, m2 warnings = %+v, want value's change", w)
	}
	if w := b.rowOf(t, "m2", other.ID).Warnings; len(w) != 1 {
		t.Fatalf("other integration's m2 warnings = %+v, want value's change (it was sent the same first order)", w)
	}
}

func TestJSONType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    any
		want string
	}{
		{nil, ""},
		{"x", "string"},
		{true, "boolean"},
		{json.Number("1.5"), "number"},
		{12.0, "number"},
		{map[string]any{}, "object"},
		{[]any{}, "array"},
		{json.RawMessage(` [{"a":1}]`), "array"},
		{json.RawMessage(`{"a":1}`), "object"},
		{json.RawMessage(`"s"`), "string"},
		{json.RawMessage(`false`), "boolean"},
		{json.RawMessage(`-3`), "number"},
		{json.RawMessage(`null`), ""},
	}
	for _, tt := range tests {
		if got := jsonType(tt.v); got != tt.want {
			t.Errorf("jsonType(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
