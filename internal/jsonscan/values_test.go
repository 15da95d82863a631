package jsonscan

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
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
			if got, want := PathTo(doc, off), pathToByMembers(doc, off); got != want {
				t.Fatalf("PathTo(%q, %d) = %q, want %q", doc, off, got, want)
			}
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

// pathToByMembers is PathTo as it was first written, descending through
// Members and Elements, which rescan each level's rest: the fuzz target
// checks the one-pass PathTo against it.
func pathToByMembers(doc []byte, off int) string {
	var path []string
	v := doc[SkipSpace(doc, 0):]
	for {
		switch {
		case len(v) > 0 && v[0] == '{':
			found := false
			Members(v, func(k []byte, _ bool, val []byte) error {
				ko := offsetIn(doc, k) - 1
				vo := offsetIn(doc, val)
				key := strings.ToValidUTF8(string(k), "\uFFFD")
				if off >= ko && off < ko+len(k)+2 {
					path, found = append(path, key), false
					v = nil
					return errStop
				}
				if off >= vo && off < vo+len(val) {
					path, found = append(path, key), true
					v = val
					return errStop
				}
				return nil
			})
			if !found {
				return joinPath(path)
			}
		case len(v) > 0 && v[0] == '[':
			elems, _ := Elements(v)
			found := false
			for idx, e := range elems {
				eo := offsetIn(doc, e)
				if off >= eo && off < eo+len(e) {
					path = append(path, "["+strconv.Itoa(idx)+"]")
					v, found = e, true
					break
				}
			}
			if !found {
				return joinPath(path)
			}
		default:
			return joinPath(path)
		}
	}
}

type stopError struct{}

func (stopError) Error() string { return "stop" }

var errStop error = stopError{}

// offsetIn is the offset of sub, a slice of doc, within doc.
func offsetIn(doc, sub []byte) int { return cap(doc) - cap(sub) }

// deepDoc is a hostile body's shape: a bad string depth levels down, then
// pad bytes of a long string beside it.
func deepDoc(depth, pad int) []byte {
	doc := []byte(`{"x":`)
	doc = append(doc, strings.Repeat("[", depth)...)
	doc = append(doc, "\"\xff\",\""...)
	doc = append(doc, strings.Repeat("A", pad)...)
	doc = append(doc, '"')
	doc = append(doc, strings.Repeat("]", depth)...)
	return append(doc, `,"batch":[]}`...)
}

func TestPathToDeep(t *testing.T) {
	t.Parallel()
	doc := deepDoc(3000, 1000)
	off, p := BadValue(doc)
	if p != BadUTF8 {
		t.Fatalf("BadValue = %d, %v", off, p)
	}
	if got, want := PathTo(doc, off), "x"+strings.Repeat("[0]", 3000); got != want {
		t.Fatalf("PathTo = %.40q…, want x[0][0]…", got)
	}
}

// BenchmarkPathTo: naming the bad value of deepDoc(2000, 100_000), one
// pass against the descent through Members and Elements that rescanned
// each level's rest.
//
// Run: go test -bench PathTo -run XXX ./internal/jsonscan/
func BenchmarkPathTo(b *testing.B) {
	doc := deepDoc(2000, 100_000)
	off, _ := BadValue(doc)
	for _, bc := range []struct {
		name string
		fn   func([]byte, int) string
	}{{"OnePass", PathTo}, {"ByMembers", pathToByMembers}} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				bc.fn(doc, off)
			}
		})
	}
}
