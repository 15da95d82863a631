package gateway

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

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
