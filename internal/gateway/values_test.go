package gateway

import (
	"encoding/json"
	"testing"
)

// TestBadValuesRefused: values Omnisend would refuse or misread are refused
// with 400 naming the field; in a batch, the event is listed in rejected
// and the others are kept. The test clock is 2026-11-27T10:00:00Z.
func TestBadValuesRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		msg   string
		field string // "" when the message is accepted
	}{
		{"invalid UTF-8 in a property", "{\"event\":\"A\",\"userId\":\"u\",\"properties\":{\"email\":\"j\xff@x.com\"}}", "properties.email"},
		{"invalid UTF-8 in the event name", "{\"event\":\"Order \xc3\",\"userId\":\"u\"}", "event"},
		{"invalid UTF-8 in a key", "{\"event\":\"A\",\"userId\":\"u\",\"traits\":{\"\xfe\":1}}", "traits.\uFFFD"},
		{"number over a double", `{"event":"A","userId":"u","properties":{"revenue":1e999999}}`, "properties.revenue"},
		{"number over a double in a list", `{"event":"A","userId":"u","properties":{"products":[{"price":1},{"price":-9e400}]}}`, "properties.products[1].price"},
		{"timestamp far ahead", `{"event":"A","userId":"u","timestamp":"9999-12-31T23:59:59Z"}`, "timestamp"},
		{"timestamp a day and a minute ahead", `{"event":"A","userId":"u","timestamp":"2026-11-28T10:01:00Z"}`, "timestamp"},
		{"timestamp year 0", `{"event":"A","userId":"u","timestamp":"0000-01-01T00:00:00Z"}`, "timestamp"},
		{"timestamp before 2000", `{"event":"A","userId":"u","timestamp":"1999-12-31T23:59:59Z"}`, "timestamp"},
		{"originalTimestamp far ahead", `{"event":"A","userId":"u","originalTimestamp":"9999-01-01T00:00:00Z"}`, "originalTimestamp"},
		{"sentAt far behind", `{"event":"A","userId":"u","originalTimestamp":"2026-11-27T10:00:00Z","sentAt":"1970-01-01T00:00:00Z"}`, "sentAt"},
		{"skew correction past the bound", `{"event":"A","userId":"u","originalTimestamp":"2026-11-28T09:00:00Z","sentAt":"2026-11-27T08:00:00Z"}`, "originalTimestamp"},
		{"timestamp within the day ahead", `{"event":"A","userId":"u","timestamp":"2026-11-28T09:00:00Z"}`, ""},
		{"timestamp in 2000", `{"event":"A","userId":"u","timestamp":"2000-01-01T00:00:00Z"}`, ""},
		{"big but finite", `{"event":"A","userId":"u","properties":{"revenue":1.7e308,"tiny":1e-999999}}`, ""},
		{"escaped non-ASCII", `{"event":"A","userId":"u","properties":{"name":"Cr\u00e8me ✓"}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			w := b.do(t, req{path: "/v1/t", body: tt.msg, header: bearer(testKey)})
			if tt.field == "" {
				if w.Code != 200 {
					t.Fatalf("single: status %d %s, want 200", w.Code, w.Body)
				}
			} else if e := decodeErr(t, w); w.Code != 400 || e.Error.Field != tt.field {
				t.Fatalf("single: status %d, error %+v; want 400 naming %q", w.Code, e.Error, tt.field)
			}

			b = setup(t)
			batch := `{"batch":[{"type":"track","event":"ok","userId":"u"},` + withType(tt.msg) + `]}`
			w = b.do(t, req{path: "/v1/batch", body: batch, header: bearer(testKey)})
			var res struct {
				Rejected []rejection `json:"rejected"`
			}
			if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &res) != nil {
				t.Fatalf("batch: status %d %s", w.Code, w.Body)
			}
			wantStored := 2
			if tt.field != "" {
				wantStored = 1
				if len(res.Rejected) != 1 || res.Rejected[0].Index != 1 || res.Rejected[0].Field != tt.field {
					t.Fatalf("batch: rejected %+v, want index 1 naming %q", res.Rejected, tt.field)
				}
			}
			if got := len(b.store.stored()); got != wantStored {
				t.Fatalf("batch: %d events stored, want %d", got, wantStored)
			}
		})
	}
}

func withType(msg string) string { return `{"type":"track",` + msg[1:] }

// TestBadValueOutsideBatchRefused: invalid UTF-8 or an oversized number in
// a batch body's other members refuses the request, naming the member.
func TestBadValueOutsideBatchRefused(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, body, field string }{
		{"context", "{\"context\":{\"library\":\"\xff\"},\"batch\":[{\"type\":\"track\",\"event\":\"A\",\"userId\":\"u\"}]}", "context.library"},
		{"number", `{"n":1e999,"batch":[{"type":"track","event":"A","userId":"u"}]}`, "n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			w := b.do(t, req{path: "/v1/batch", body: tt.body, header: bearer(testKey)})
			if e := decodeErr(t, w); w.Code != 400 || e.Error.Field != tt.field {
				t.Fatalf("status %d, error %+v; want 400 naming %q", w.Code, e.Error, tt.field)
			}
		})
	}
}
