package gateway

import (
	"encoding/json"
	"testing"
	"time"

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
