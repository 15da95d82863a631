package omnisend

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/integration"
)

var update = flag.Bool("update", false, "rewrite generated golden files")

const (
	testIntegrationID = "int_01JQ8Z5K3V7XG2M4N6P8R0T2W4"
	testPipelineID    = "pip_01JQ8Z4Y1B3D5F7H9K1M3P5R7T"
	testMessageID     = "ajs-next-1f3c9d2e7b"
	testAPIKey        = "AjWvksZpTG4JZBdc4Secret42"
)

var testTime = time.Date(2025, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

// decodeJSON decodes b keeping numbers as json.Number.
func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// assertSameJSON compares two documents semantically, numbers by their
// exact text (89.90 is not 89.9).
func assertSameJSON(t *testing.T, got, want []byte) {
	t.Helper()
	if g, w := decodeJSON(t, got), decodeJSON(t, want); !reflect.DeepEqual(g, w) {
		t.Errorf("JSON differs\n got: %s\nwant: %s", got, want)
	}
}

// topKeys returns the keys of the JSON object b in document order.
func topKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", b)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// generatedGolden compares got with testdata/name byte for byte, rewriting
// it with -update.
func generatedGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(filepath.Join("testdata", name), got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := readTestdata(t, name); !bytes.Equal(got, want) {
		t.Errorf("%s changed:\n got: %s\nwant: %s", name, got, want)
	}
}

func pageEvent() *integration.Event {
	return &integration.Event{
		IntegrationID:   testIntegrationID,
		PipelineID:      testPipelineID,
		MessageID:       testMessageID,
		VendorEventName: "placed order",
		Timestamp:       testTime,
		Contact:         integration.Contact{Email: "jane@example.com", Phone: "+447700900123", FirstName: "Jane"},
		Properties: map[string]any{
			"orderID":           "ORDER-5512",
			"value":             json.Number("89.90"),
			"currency":          "GBP",
			"discountCode":      "WELCOME10",
			"marketing_consent": "subscribed",
			"products": []any{
				map[string]any{"product_id": "SKU-1", "product_name": "Wool Scarf", "price": json.Number("39.95"), "quantity": json.Number("1")},
				map[string]any{"product_id": "SKU-2", "product_name": "Knit Hat", "price": json.Number("49.95"), "quantity": json.Number("1")},
			},
		},
		Order: []string{"orderID", "value", "currency", "discountCode", "marketing_consent", "products"},
	}
}
