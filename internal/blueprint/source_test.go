package blueprint

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		raw     string
		wantErr bool
	}{
		{name: "object", raw: `{"type":"track","properties":{"a":1}}`},
		{name: "empty object", raw: `{}`},
		{name: "surrounding whitespace", raw: " \n{\"a\":1}\n "},
		{name: "empty input", raw: ``, wantErr: true},
		{name: "null", raw: `null`, wantErr: true},
		{name: "array", raw: `[{}]`, wantErr: true},
		{name: "string", raw: `"x"`, wantErr: true},
		{name: "truncated", raw: `{"a":`, wantErr: true},
		{name: "trailing data", raw: `{"a":1} {"b":2}`, wantErr: true},
		{name: "trailing garbage", raw: `{"a":1}x`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode([]byte(tt.raw))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Decode() error = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "blueprint: decode event") {
				t.Errorf("error %q lacks context", err)
			}
		})
	}
}

func TestDecodeErrorHidesContent(t *testing.T) {
	t.Parallel()
	_, err := Decode([]byte(`{"traits":{"email":"jane@example.com"}} {"x":1}`))
	if err == nil || strings.Contains(err.Error(), "jane") {
		t.Fatalf("Decode() error = %v", err)
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	src := mustDecode(t, `{"type":"track","userId":"u1","event":"Order Completed","timestamp":"2024-05-01T10:00:00Z",
		"properties":{"price":89.90,"zero":0,"f":false,"empty":"","nil":null,"obj":{"deep":{"x":"y"}},
		"products":[{"price":39.95},{"price":49.95}],"dotted.key":1},
		"context":{"page":{"url":"https://a.example/?q=1&r=2"},"locale":"en-GB"}}`)
	tests := []struct {
		path   string
		want   any
		wantOK bool
	}{
		{path: "userId", want: "u1", wantOK: true},
		{path: "event", want: "Order Completed", wantOK: true},
		{path: "timestamp", want: "2024-05-01T10:00:00Z", wantOK: true},
		{path: "properties.price", want: json.Number("89.90"), wantOK: true},
		{path: "properties.zero", want: json.Number("0"), wantOK: true},
		{path: "properties.f", want: false, wantOK: true},
		{path: "properties.empty", want: "", wantOK: true},
		{path: "properties.obj.deep.x", want: "y", wantOK: true},
		{path: "properties.obj.deep", want: map[string]any{"x": "y"}, wantOK: true},
		{path: "properties.products.1.price", want: json.Number("49.95"), wantOK: true},
		{path: "context.page.url", want: "https://a.example/?q=1&r=2", wantOK: true},
		{path: "properties.nil"},
		{path: "properties.missing"},
		{path: "properties.price.x"},
		{path: "properties.products.2.price"},
		{path: "properties.products.-1.price"},
		{path: "properties.products.01.price"},
		{path: "properties.products.x"},
		{path: "properties.dotted.key"},
		{path: "anonymousId"},
		{path: ""},
		{path: "properties."},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			got, ok := Lookup(src, tt.path)
			if ok != tt.wantOK || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Lookup(%q) = %#v, %v; want %#v, %v", tt.path, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestSourceType(t *testing.T) {
	t.Parallel()
	tests := []struct{ raw, want string }{
		{`{"type":"track"}`, "track"},
		{`{"type":"page"}`, "page"},
		{`{"type":7}`, ""},
		{`{}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			if got := mustDecode(t, tt.raw).Type(); got != tt.want {
				t.Errorf("Type() = %q, want %q", got, tt.want)
			}
		})
	}
	if got := NewSource(map[string]any{"type": "track"}).Type(); got != "track" {
		t.Errorf("NewSource().Type() = %q", got)
	}
	if _, ok := Lookup(Source{}, "properties"); ok {
		t.Error("zero Source found a value")
	}
}
