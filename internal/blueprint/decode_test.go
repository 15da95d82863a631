package blueprint

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// decodeStd is Decode as it was written over encoding/json: the reference
// decodeObject must agree with.
func decodeStd(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON object")
	}
	return root, nil
}

// sameDecode fails t unless decodeObject and encoding/json agree on raw:
// both refuse it, or both give the same value.
func sameDecode(t *testing.T, raw []byte) {
	t.Helper()
	want, wantErr := decodeStd(raw)
	got, err := decodeObject(raw)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("decodeObject(%q) error = %v, encoding/json's = %v", raw, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeObject(%q) = %#v, encoding/json gives %#v", raw, got, want)
	}
}

var decodeCases = []string{
	`{}`, ` {"a":1} `, "\t{\n}\r\n", `null`, ` null `, `null x`, `nul`, `[]`, `"s"`, `1`, `true`, ``, ` `,
	`{"a":1}{}`, `{"a":1} x`, `{"a":1}}`, `{"a":1,}`, `{,}`, `{"a"}`, `{"a":}`, `{"a" 1}`, `{a:1}`, `{"a":1 "b":2}`,
	`{"a":[1,2,[3,{}],[]],"b":{"c":null,"d":true,"e":false}}`, `{"a":[1,]}`, `{"a":[,1]}`, `{"a":[1 2]}`,
	`{"a":1,"a":2}`, `{"a":{"x":1},"a":[2]}`,
	`{"n":-0,"m":0.5,"o":1e10,"p":1E+2,"q":-1.25e-7,"r":89.90,"s":123456789012345678901234567890}`,
	`{"n":01}`, `{"n":-}`, `{"n":1.}`, `{"n":.5}`, `{"n":1e}`, `{"n":1e+}`, `{"n":+1}`, `{"n":0x1}`, `{"n":1.5.5}`, `{"n":NaN}`,
	`{"s":"a\"b\\c\/d\be\ff\ng\rh\ti"}`, `{"s":"\u00e9\u20AC\uD83D\uDE00"}`, `{"s":"\uD83D"}`, `{"s":"\uD83Dx"}`,
	`{"s":"\uD83D\u0041"}`, `{"s":"\uDE00\uD83D"}`, `{"s":"\uD83D\uD83D\uDE00"}`, `{"s":"\u12"}`, `{"s":"\u12G4"}`, `{"s":"\x"}`,
	`{"s":"\u+123"}`, `{"s":"\u_123"}`, "{\"s\":\"a\x01b\"}", "{\"s\":\"a\x7fb\"}", "{\"s\":\"\xff\xfe\"}", "{\"\xc3\":\"\xc3\xa9\xe2\x82\"}",
	"{\"s\":\"\xed\xa0\x80\"}", "{\"s\":\"\xef\xbf\xbd\"}", `{"s":"unterminated}`, `{"s":"\`, `{"a":tru}`, `{"a":truex}`, `{"a":nulll}`,
	"\xef\xbb\xbf{}", `{"a":1}` + "\x00",
	strings.Repeat(`[`, 10001) + strings.Repeat(`]`, 10001), `{"a":` + strings.Repeat(`[`, 9999) + strings.Repeat(`]`, 9999) + `}`,
	`{"a":` + strings.Repeat(`[`, 10000) + strings.Repeat(`]`, 10000) + `}`,
}

func TestDecodeObjectMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, raw := range decodeCases {
		t.Run(raw[:min(len(raw), 40)], func(t *testing.T) {
			t.Parallel()
			sameDecode(t, []byte(raw))
		})
	}
}

func FuzzDecodeSame(f *testing.F) {
	for _, raw := range decodeCases {
		f.Add([]byte(raw))
	}
	f.Add(benchEvent)
	f.Fuzz(func(t *testing.T, raw []byte) {
		sameDecode(t, raw)
	})
}

// benchEvent is the gateway benchmark's Product Viewed event as stored.
var benchEvent = []byte(`{"type":"track","event":"Product Viewed","userId":"user-123","anonymousId":"0b6b5c9e-2d7f-4c2e-9a57-3f7c1c1d9e11",` +
	`"messageId":"6c3f2a9e-1b1d-4a53-9f0e-2d1c9b8a7e65","timestamp":"2026-11-30T07:00:00.000Z","properties":{"product_id":"SKU-1",` +
	`"name":"Wool Scarf","price":39.95,"currency":"GBP","url":"https://shop.example.com/p/sku-1"},"context":{"page":{"url":` +
	`"https://shop.example.com/p/sku-1","title":"Wool Scarf"},"userAgent":"Mozilla/5.0 (X11; Linux x86_64)","locale":"en-GB",` +
	`"ip":"203.0.113.9","consent":{"canonical":{"marketing":true}}},"receivedAt":"2026-11-30T07:00:00.012Z"}`)

// BenchmarkDecode compares Decode with the encoding/json decoding it
// replaced, on the event the processor decodes under the bench load.
func BenchmarkDecode(b *testing.B) {
	b.Run("decodeObject", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchEvent)))
		for b.Loop() {
			if _, err := decodeObject(benchEvent); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchEvent)))
		for b.Loop() {
			if _, err := decodeStd(benchEvent); err != nil {
				b.Fatal(err)
			}
		}
	})
}
