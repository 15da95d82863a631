package blueprint

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

func TestApply(t *testing.T) {
	t.Parallel()
	custom := signal.Blueprint{
		Version:  2,
		Defaults: signal.BlueprintDefaults{Action: "forward"},
		Events: map[string]signal.BlueprintEvent{
			"Raw":      {VendorEventName: "raw event", Enabled: true},
			"Disabled": {VendorEventName: "disabled", Enabled: false},
			"Mapped": {VendorEventName: "mapped", Enabled: true, Priority: "high", MaxAge: "90m", Mappings: []signal.Mapping{
				{Source: "properties.a", Else: signal.Paths{"properties.b", "context.c", "traits.d"}, Target: "x"},
				{Source: "properties.obj", Target: "obj"},
				{Source: "properties.products.1.price", Target: "secondPrice"},
				{Source: "userId", Target: "uid"},
				{Source: "properties.missing", Target: "missing"},
			}},
			"Odd": {VendorEventName: "odd", Enabled: true, Priority: "urgent", MaxAge: "soon"},
		},
	}
	tests := []struct {
		name        string
		bp          signal.Blueprint
		key         string
		msg         string
		wantEnabled bool
		wantName    string
		wantProps   string
		wantOrder   []string
		wantPrio    int
		wantAge     time.Duration
	}{
		{
			name: "no mappings forwards properties unchanged", bp: custom, key: "Raw",
			msg:         `{"type":"track","properties":{"a":1.50,"nested":{"b":[1,2]},"s":"x"}}`,
			wantEnabled: true, wantName: "raw event", wantProps: `{"a":1.50,"nested":{"b":[1,2]},"s":"x"}`,
			wantOrder: []string{"a", "nested", "s"}, wantPrio: signal.PriorityNormal,
		},
		{
			name: "no mappings and no properties", bp: custom, key: "Raw", msg: `{"type":"track"}`,
			wantEnabled: true, wantName: "raw event", wantProps: `{}`, wantOrder: []string{}, wantPrio: signal.PriorityNormal,
		},
		{
			name: "properties not an object", bp: custom, key: "Raw", msg: `{"type":"track","properties":[1]}`,
			wantEnabled: true, wantName: "raw event", wantProps: `{}`, wantOrder: []string{}, wantPrio: signal.PriorityNormal,
		},
		{
			name: "mapped source present", bp: custom, key: "Mapped",
			msg:         `{"type":"track","userId":"u1","properties":{"a":"A","b":"B","obj":{"k":[1,{"z":null}]},"products":[{"price":1},{"price":2.50}]}}`,
			wantEnabled: true, wantName: "mapped",
			wantProps: `{"x":"A","obj":{"k":[1,{"z":null}]},"secondPrice":2.50,"uid":"u1"}`,
			wantOrder: []string{"x", "obj", "secondPrice", "uid"},
			wantPrio:  signal.PriorityHigh, wantAge: 90 * time.Minute,
		},
		{
			name: "first fallback", bp: custom, key: "Mapped",
			msg:         `{"type":"track","properties":{"a":null,"b":"B"},"context":{"c":"C"}}`,
			wantEnabled: true, wantName: "mapped", wantProps: `{"x":"B"}`, wantOrder: []string{"x"},
			wantPrio: signal.PriorityHigh, wantAge: 90 * time.Minute,
		},
		{
			name: "later fallback", bp: custom, key: "Mapped",
			msg:         `{"type":"track","properties":{},"traits":{"d":false}}`,
			wantEnabled: true, wantName: "mapped", wantProps: `{"x":false}`, wantOrder: []string{"x"},
			wantPrio: signal.PriorityHigh, wantAge: 90 * time.Minute,
		},
		{
			name: "all absent leaves properties empty", bp: custom, key: "Mapped", msg: `{"type":"track"}`,
			wantEnabled: true, wantName: "mapped", wantProps: `{}`, wantOrder: []string{},
			wantPrio: signal.PriorityHigh, wantAge: 90 * time.Minute,
		},
		{
			name: "empty values are present", bp: custom, key: "Mapped", msg: `{"properties":{"a":"","obj":{}}}`,
			wantEnabled: true, wantName: "mapped", wantProps: `{"x":"","obj":{}}`, wantOrder: []string{"x", "obj"},
			wantPrio: signal.PriorityHigh, wantAge: 90 * time.Minute,
		},
		{name: "disabled", bp: custom, key: "Disabled", msg: `{"type":"track","properties":{"a":1}}`},
		{
			name: "unnamed track forwarded", bp: custom, key: "Coupon Applied",
			msg:         `{"type":"track","event":"Coupon Applied","properties":{"coupon":"X","amount":5.00}}`,
			wantEnabled: true, wantName: "Coupon Applied", wantProps: `{"coupon":"X","amount":5.00}`,
			wantOrder: []string{"coupon", "amount"}, wantPrio: signal.PriorityNormal,
		},
		{
			name: "unnamed without type forwarded", bp: custom, key: "Coupon Applied", msg: `{"properties":{"c":1}}`,
			wantEnabled: true, wantName: "Coupon Applied", wantProps: `{"c":1}`, wantOrder: []string{"c"}, wantPrio: signal.PriorityNormal,
		},
		{name: "unnamed page not forwarded", bp: custom, key: "page", msg: `{"type":"page","properties":{"url":"u"}}`},
		{name: "unnamed screen not forwarded", bp: custom, key: "Home", msg: `{"type":"screen","name":"Home"}`},
		{name: "empty key not forwarded", bp: custom, key: "", msg: `{"type":"track"}`},
		{name: "unnamed dropped by default", bp: Default(), key: "Coupon Applied", msg: `{"type":"track","properties":{"c":1}}`},
		{
			name: "drop when action empty", key: "X", msg: `{"type":"track"}`,
			bp: signal.Blueprint{Version: 2, Events: map[string]signal.BlueprintEvent{}},
		},
		{
			name: "nil events forward", key: "X", msg: `{"type":"track","properties":{"a":"b"}}`,
			bp:          signal.Blueprint{Version: 2, Defaults: signal.BlueprintDefaults{Action: "forward"}},
			wantEnabled: true, wantName: "X", wantProps: `{"a":"b"}`, wantOrder: []string{"a"}, wantPrio: signal.PriorityNormal,
		},
		{
			name: "unvalidated priority and max_age", bp: custom, key: "Odd", msg: `{"properties":{}}`,
			wantEnabled: true, wantName: "odd", wantProps: `{}`, wantOrder: []string{}, wantPrio: signal.PriorityNormal,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := Apply(tt.bp, tt.key, mustDecode(t, tt.msg))
			if res.Enabled != tt.wantEnabled {
				t.Fatalf("Enabled = %v, want %v", res.Enabled, tt.wantEnabled)
			}
			if !tt.wantEnabled {
				if res.VendorEventName != "" || res.Properties != nil {
					t.Errorf("disabled result carries data: %+v", res)
				}
				return
			}
			if res.VendorEventName != tt.wantName {
				t.Errorf("VendorEventName = %q, want %q", res.VendorEventName, tt.wantName)
			}
			if res.Priority != tt.wantPrio || res.MaxAge != tt.wantAge {
				t.Errorf("Priority, MaxAge = %d, %v; want %d, %v", res.Priority, res.MaxAge, tt.wantPrio, tt.wantAge)
			}
			if res.Properties == nil {
				t.Fatal("Properties is nil")
			}
			assertProps(t, res.Properties, tt.wantProps)
			if !slices.Equal(res.Order, tt.wantOrder) || (res.Order == nil) != (tt.wantOrder == nil) {
				t.Errorf("Order = %#v, want %#v", res.Order, tt.wantOrder)
			}
		})
	}
}

func TestApplyKeepsNumberText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, number string
	}{
		{"trailing zero", "89.90"},
		{"two trailing zeros", "80.00"},
		{"integer", "120"},
		{"exponent", "1e3"},
		{"negative", "-0.50"},
		{"beyond float64 precision", "12345678901234567890.123456789"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := mustDecode(t, `{"type":"track","properties":{"order_id":"O","revenue":`+tt.number+`}}`)
			res := Apply(Default(), "Order Completed", src)
			v, ok := res.Properties["value"].(json.Number)
			if !ok || v.String() != tt.number {
				t.Fatalf("value = %#v, want json.Number(%q)", res.Properties["value"], tt.number)
			}
			out, err := json.Marshal(res.Properties)
			if err != nil {
				t.Fatal(err)
			}
			if want := `"value":` + tt.number; !strings.Contains(string(out), want) {
				t.Errorf("marshalled %s, want it to contain %s", out, want)
			}
		})
	}
}

func TestApplyDoesNotShareTopLevelProperties(t *testing.T) {
	t.Parallel()
	src := mustDecode(t, `{"type":"track","properties":{"a":1}}`)
	bp := signal.Blueprint{Version: 2, Events: map[string]signal.BlueprintEvent{"E": {VendorEventName: "e", Enabled: true}}}
	res := Apply(bp, "E", src)
	res.Properties["marketing_consent"] = "subscribed"
	if _, ok := Lookup(src, "properties.marketing_consent"); ok {
		t.Fatal("adding to Result.Properties changed the source")
	}
}

func TestApplyCopiesObjectsVerbatim(t *testing.T) {
	t.Parallel()
	const msg = `{"type":"track","properties":{"zeta":{"b":1.10,"a":[{"y":2,"x":"\u00e9"}]},"alpha":"s","zeta2":[3.0, {"k":"<&>"}],"dup":1,"dup":2}}`
	mapped := signal.Blueprint{Version: 2, Events: map[string]signal.BlueprintEvent{
		"M": {VendorEventName: "m", Enabled: true, Mappings: []signal.Mapping{
			{Source: "properties.zeta", Target: "z"},
			{Source: "properties.missing", Else: signal.Paths{"properties.zeta2"}, Target: "z2"},
			{Source: "properties.zeta.a.0", Target: "first"},
		}},
		"F": {VendorEventName: "f", Enabled: true},
	}}
	tests := []struct {
		name, key string
		src       func(t *testing.T) Source
		want      string
		wantOrder []string
	}{
		{
			name: "mapped", key: "M", src: func(t *testing.T) Source { return mustDecode(t, msg) },
			want:      `{"first":{"y":2,"x":"\u00e9"},"z":{"b":1.10,"a":[{"y":2,"x":"\u00e9"}]},"z2":[3.0,{"k":"<&>"}]}`,
			wantOrder: []string{"z", "z2", "first"},
		},
		{
			name: "forwarded", key: "F", src: func(t *testing.T) Source { return mustDecode(t, msg) },
			want:      `{"alpha":"s","dup":2,"zeta":{"b":1.10,"a":[{"y":2,"x":"\u00e9"}]},"zeta2":[3.0,{"k":"<&>"}]}`,
			wantOrder: []string{"zeta", "alpha", "zeta2", "dup"},
		},
		{
			name: "NewSource falls back to maps", key: "F",
			src:       func(t *testing.T) Source { return NewSource(decodeNumbers(t, msg)) },
			want:      `{"alpha":"s","dup":2,"zeta":{"a":[{"x":"é","y":2}],"b":1.10},"zeta2":[3.0,{"k":"<&>"}]}`,
			wantOrder: []string{"alpha", "dup", "zeta", "zeta2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := Apply(mapped, tt.key, tt.src(t))
			var buf strings.Builder
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(res.Properties); err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(buf.String()); got != tt.want {
				t.Errorf("properties =\n%s\nwant\n%s", got, tt.want)
			}
			if !slices.Equal(res.Order, tt.wantOrder) {
				t.Errorf("Order = %v, want %v", res.Order, tt.wantOrder)
			}
		})
	}
}

func TestApplyInvalidUTF8FallsBack(t *testing.T) {
	t.Parallel()
	src := mustDecode(t, "{\"properties\":{\"o\":{\"s\":\"a\xffb\"}}}")
	bp := signal.Blueprint{Version: 2, Events: map[string]signal.BlueprintEvent{"E": {VendorEventName: "e", Enabled: true}}}
	res := Apply(bp, "E", src)
	if _, ok := res.Properties["o"].(map[string]any); !ok {
		t.Fatalf("o = %T, want the decoded map (raw text is not valid UTF-8)", res.Properties["o"])
	}
}
