package jsonscan

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"unicode/utf8"
)

func TestBadValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want Problem
		path string
	}{
		{"clean", `{"a":"é ✓","n":[1.5e308,-1.7976931348623157e308,0.0001e-999999,12345678901234567890]}`, NoProblem, ""},
		{"escapes are not bytes", `{"a":"\u00ff\"\\","b":"\ud83d\ude00"}`, NoProblem, ""},
		{"bad UTF-8 in a value", "{\"a\":1,\"properties\":{\"email\":\"j\xffx@y\"}}", BadUTF8, "properties.email"},
		{"bad UTF-8 in a key", "{\"traits\":{\"e\xc3\":1}}", BadUTF8, "traits.e\uFFFD"},
		{"truncated sequence", "{\"n\":[\"ok\",\"\xe2\x82\"]}", BadUTF8, "n[1]"},
		{"overflow", `{"properties":{"revenue":1e999999}}`, BigNumber, "properties.revenue"},
		{"negative overflow", `{"p":{"items":[{"price":1},{"price":-2e308}]}}`, BigNumber, "p.items[1].price"},
		{"many digits", `{"x":` + string(make400Digits()) + `}`, BigNumber, "x"},
		{"top-level number", `1e400`, BigNumber, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := []byte(tt.doc)
			if !json.Valid(doc) {
				t.Fatalf("test document is not valid JSON")
			}
			off, p := BadValue(doc)
			if p != tt.want {
				t.Fatalf("BadValue = %d, %v; want %v", off, p, tt.want)
			}
			if p != NoProblem {
				if got := PathTo(doc, off); got != tt.path {
					t.Fatalf("PathTo(%d) = %q, want %q", off, got, tt.path)
				}
			}
		})
	}
}

func make400Digits() []byte {
	b := make([]byte, 400)
	for i := range b {
		b[i] = '9'
	}
	return b
}

// TestFitsFloatAgreesWithParseFloat checks the magnitude shortcut at the
// edge of the float64 range.
func TestFitsFloatAgreesWithParseFloat(t *testing.T) {
	t.Parallel()
	for _, n := range []string{"1.7976931348623157e308", "1.7976931348623159e308", "1e308", "1e309", "0.1e309", "10e308",
		"-1e309", "0.000e400", "0e999999", "123e306", "123e307", strconv.FormatFloat(math.MaxFloat64, 'g', -1, 64)} {
		_, err := strconv.ParseFloat(n, 64)
		if got := fitsFloat([]byte(n)); got != (err == nil) {
			t.Errorf("fitsFloat(%s) = %v, ParseFloat err %v", n, got, err)
		}
	}
}

// TestBadValueAllocatesNothing: the check runs on every message.
func TestBadValueAllocatesNothing(t *testing.T) {
	doc := []byte(`{"type":"track","event":"Order Completed","userId":"u-1","properties":{"revenue":89.9,"items":[{"sku":"a","price":1e10}],"name":"Crème brûlée"}}`)
	if n := testing.AllocsPerRun(100, func() { BadValue(doc) }); n != 0 {
		t.Fatalf("BadValue allocates %v times per run", n)
	}
}

func BenchmarkBadValue(b *testing.B) {
	doc := []byte(`{"event":"Product Viewed","userId":"user-123","anonymousId":"0b6b5c9e-2d7f-4c2e-9a57-3f7c1c1d9e11","properties":{"product_id":"SKU-1","name":"Wool Scarf","price":39.95,"currency":"GBP","url":"https://shop.example.com/p/sku-1"},"context":{"page":{"url":"https://shop.example.com/p/sku-1","title":"Wool Scarf"},"userAgent":"Mozilla/5.0 (X11; Linux x86_64)","locale":"en-GB","consent":{"canonical":{"marketing":true}}}}`)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		BadValue(doc)
	}
}

// FuzzBadValue: on any valid document, BadValue agrees with decoding (a
// document it passes decodes without error and re-encodes to valid UTF-8),
// and PathTo never panics.
func FuzzBadValue(f *testing.F) {
	for _, s := range []string{`{"a":"x","b":[1,2e308]}`, "{\"a\":\"\xff\"}", `{"n":1e999}`, `[{"k":-0.5e-3}]`, `"s"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if !json.Valid(doc) {
			return
		}
		off, p := BadValue(doc)
		if p != NoProblem {
			PathTo(doc, off)
			return
		}
		if !utf8.Valid(doc) {
			t.Fatalf("BadValue passed %q, which is not UTF-8", doc)
		}
		var v any
		if err := json.Unmarshal(doc, &v); err != nil {
			t.Fatalf("BadValue passed %q, decoding fails: %v", doc, err)
		}
	})
}
