package gateway

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/signalhq/signal/internal/jsonscan"
	"github.com/signalhq/signal/internal/signal"
)

// FuzzDecodeMessage feeds arbitrary bodies to the message decoder: it must
// never panic, and whatever it accepts must be a valid event.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"track","event":"Order Completed","userId":"u1","properties":{"revenue":89.90}}`,
		`{"type":"page","anonymousId":"a","context":{"page":{"url":"https://x"}}}`,
		`{"type":"identify","userId":42,"traits":{"email":"j@x.com"}}`,
		`{"type":"alias","userId":"u","previousId":"a","writeKey":"k"}`,
		`{"originalTimestamp":"2026-11-27T09:59:00Z","sentAt":"2026-11-27T10:00:30Z","event":"A","userId":"u"}`,
		`{}`, `[]`, `null`, `{"userId":{}}`,
	} {
		f.Add([]byte(s), "")
		f.Add([]byte(s), "cookie")
	}
	f.Fuzz(func(t *testing.T, raw []byte, cookie string) {
		if !json.Valid(raw) {
			return // split rejects it before any message is decoded
		}
		d := messageDefaults{PipelineID: "pip", ReceivedAt: time.Unix(1e9, 0).UTC(), MaxEvent: 32 << 10, Cookie: cookie}
		ev, _, err := decodeMessage(raw, d)
		if err != nil {
			if signal.ErrorCode(err) == signal.EINTERNAL {
				t.Fatalf("decode error is not a caller error: %v", err)
			}
			return
		}
		if ev.MessageID == "" || ev.Type == "" || (ev.UserID == "" && ev.AnonymousID == "") {
			t.Fatalf("accepted an incomplete event: %+v", ev)
		}
		if !json.Valid(ev.Payload) {
			t.Fatalf("stored payload is not JSON: %q", ev.Payload)
		}
	})
}

// FuzzParseMessage checks the byte-scan parser against encoding/json: on any
// JSON object both read, they read the same fields.
func FuzzParseMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"track","event":"Order \"Big\" Completed","userId":42,"anonymousId":"a","messageId":"m","properties":{"a":[1,{"b":"}"}]}}`,
		`{"type":"page","name":null,"context":{"page":{"url":"https://x"}},"timestamp":"2026-11-27T10:00:00Z"}`,
		`{"userId":-1.5e3,"groupId":"g","previousId":"p","sentAt":"s","originalTimestamp":"o","writeKey":"k","traits":{}}`,
		`{"event":"a","event":"b"}`, `{"e\u0076ent":"escaped key"}`, `{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		// encoding/json reads a JSON null into a struct as nothing at all;
		// an event must be an object, and parseMessage must say so.
		if doc := bytes.TrimSpace(raw); doc[0] != '{' {
			if _, err := parseMessage(raw); err == nil {
				t.Fatalf("parseMessage(%q) accepted a document that is not an object", raw)
			}
			return
		}
		var want signal.Message
		if json.Unmarshal(raw, &want) != nil {
			return
		}
		// encoding/json matches keys case-insensitively; the scan matches
		// them exactly, as Segment writes them. Compare only documents
		// whose keys are exactly ours or unrelated.
		exact := true
		jsonscan.Members(raw, func(k []byte, escaped bool, _ []byte) error {
			key := string(k)
			if escaped {
				json.Unmarshal(append(append([]byte{'"'}, k...), '"'), &key)
			}
			for _, f := range messageKeys {
				if strings.EqualFold(key, f) && key != f {
					exact = false
				}
			}
			return nil
		})
		if !exact {
			return
		}
		// encoding/json reads any JSON value into a RawMessage; properties,
		// traits and context must be objects (or null), and parseMessage
		// must refuse anything else.
		for _, v := range []json.RawMessage{want.Properties, want.Traits, want.Context} {
			if v := bytes.TrimSpace(v); len(v) > 0 && v[0] != '{' && string(v) != "null" {
				if _, err := parseMessage(raw); err == nil {
					t.Fatalf("parseMessage(%q) accepted a member that is not an object", raw)
				}
				return
			}
		}
		// A NUL in a string member (only an escape can put one there) is
		// refused: databases refuse it. encoding/json keeps it.
		for _, v := range []string{want.Type, want.Event, want.Name, string(want.UserID), string(want.AnonymousID), string(want.MessageID),
			string(want.GroupID), string(want.PreviousID), want.Timestamp, want.WriteKey} {
			if strings.ContainsRune(v, 0) {
				if _, err := parseMessage(raw); err == nil {
					t.Fatalf("parseMessage(%q) accepted a NUL in a string member", raw)
				}
				return
			}
		}
		got, err := parseMessage(raw)
		if err != nil {
			t.Fatalf("parseMessage(%q): %v; encoding/json read it", raw, err)
		}
		if got.Type != want.Type || got.Event != want.Event || got.Name != want.Name || got.UserID != want.UserID ||
			got.AnonymousID != want.AnonymousID || got.MessageID != want.MessageID || got.GroupID != want.GroupID ||
			got.PreviousID != want.PreviousID || got.Timestamp != want.Timestamp || got.WriteKey != want.WriteKey ||
			!bytes.Equal(got.Properties, want.Properties) || !bytes.Equal(got.Context, want.Context) || !bytes.Equal(got.Traits, want.Traits) {
			t.Fatalf("parseMessage(%q) = %+v; encoding/json reads %+v", raw, got, want)
		}
	})
}

var messageKeys = []string{"type", "event", "name", "timestamp", "originalTimestamp", "sentAt", "writeKey", "userId",
	"anonymousId", "groupId", "previousId", "messageId", "properties", "traits", "context"}

// FuzzReadBody feeds arbitrary bodies, labelled gzip or not, to the body
// reader: it never panics, refuses only as too large or invalid (a 4xx),
// and never returns more than the limit once decompressed.
func FuzzReadBody(f *testing.F) {
	for _, s := range []string{`{"event":"A","userId":"u"}`, strings.Repeat("x", 5000), ""} {
		f.Add(gzipBytes(s), true)
		f.Add(gzipBytes(s), false) // gzip recognised by its magic bytes
		f.Add([]byte(s), false)
	}
	f.Add(gzipBytes(`{"a":1}`)[:12], true) // truncated
	f.Add([]byte{0x1f, 0x8b, 0, 0}, false)
	f.Fuzz(func(t *testing.T, wire []byte, labelled bool) {
		const max = 4096
		r := httptest.NewRequest(http.MethodPost, "/v1/t", bytes.NewReader(wire))
		if labelled {
			r.Header.Set("Content-Encoding", "gzip")
		}
		body, _, err := readBody(r, max)
		switch {
		case errors.Is(err, errTooLarge):
		case err != nil:
			if signal.ErrorCode(err) != signal.EINVALID {
				t.Fatalf("readBody error %v is not a caller error", err)
			}
		case len(body) > max:
			t.Fatalf("readBody returned %d bytes, over the %d limit", len(body), max)
		}
	})
}

// FuzzIngest sends arbitrary bodies through the whole gateway: never a
// 5xx, and whatever is stored is valid UTF-8 JSON.
func FuzzIngest(f *testing.F) {
	for _, s := range []string{
		`{"batch":[{"type":"track","event":"A","userId":"u"},{"type":"identify","anonymousId":"a","traits":{"email":"x@y.z"}}]}`,
		`{"writeKey":"dk_live_testkey","batch":[{"type":"page","userId":1}]}`,
		`{"type":"track","event":"A","userId":"u","timestamp":"2026-11-27T10:00:00Z","properties":{"revenue":1e308}}`,
		"{\"batch\":[{\"type\":\"track\",\"event\":\"\xff\",\"userId\":\"u\"}]}",
		`{"batch":[{"type":"track","event":"A","userId":"u","properties":{"n":1e999}}]}`,
	} {
		f.Add([]byte(s), false)
		f.Add(gzipBytes(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, gz bool) {
		st := &fakeStore{}
		srv := New(DefaultConfig(), st, st, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC) })
		r := httptest.NewRequest(http.MethodPost, "/v1/batch", bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+testKey)
		if gz {
			r.Header.Set("Content-Encoding", "gzip")
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		}
		for _, ev := range st.stored() {
			if !json.Valid(ev.Payload) || !utf8.Valid(ev.Payload) {
				t.Fatalf("stored payload %q is not UTF-8 JSON", ev.Payload)
			}
		}
	})
}

func gzipBytes(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}
