package pipeline

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// TestSearchKeys: the processor records the keys Live Events searches by
// (user id, the profile's email, order id) and the admin's SearchHashes of
// a query find the events.
func TestSearchKeys(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.install(t)
	b.send(t, janeIdentify,
		`{"type":"track","event":"Order Completed","messageId":"m1","anonymousId":"anon-1",`+orderProps+`}`,
		`{"type":"track","event":"Order Completed","messageId":"m2","anonymousId":"anon-9","properties":{"order_id":7731}}`,
		`{"type":"page","messageId":"m3","anonymousId":"anon-8"}`,
	)
	b.process(t)
	tests := []struct {
		q    string
		want []string
	}{
		{"user-123", []string{"id-1"}},
		// The track carries only the anonymous id: its email comes from the profile.
		{"  Jane@Example.com ", []string{"m1", "id-1"}},
		{"ORDER-5512", []string{"m1"}},
		{"7731", []string{"m2"}},
		{"anon-8", nil}, // anonymous ids are not searched
		{"nobody@example.com", nil},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			t.Parallel()
			rows, _, err := b.db.ListLiveEvents(context.Background(), store.ListLiveEventsParams{SearchKeys: SearchHashes(b.box, tt.q), Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rows {
				got = append(got, r.MessageID)
			}
			if len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) {
				t.Fatalf("search %q found %v, want %v", tt.q, got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("search %q found %v, want %v", tt.q, got, tt.want)
				}
			}
		})
	}
}

// TestProcessedIsKept: the detail shows the event as processed, with the
// profile's traits as they stood then, not as they are now.
func TestProcessedIsKept(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.install(t)
	b.send(t, janeIdentify, `{"type":"track","event":"Order Completed","messageId":"m1","anonymousId":"anon-1",`+
		`"context":{"consent":{"categoryPreferences":{"marketing":true}}},`+orderProps+`}`)
	b.process(t)
	b.send(t, `{"type":"identify","messageId":"id-2","userId":"user-123","traits":{"email":"jane.new@example.com"}}`)
	b.process(t)

	det, err := b.db.GetLiveEvent(context.Background(), store.GetLiveEventParams{ID: b.row(t, "m1").ID})
	if err != nil {
		t.Fatal(err)
	}
	var got signal.Processed
	if err := json.Unmarshal(det.Processed, &got); err != nil {
		t.Fatalf("processed %s: %v", det.Processed, err)
	}
	if got.UserID != "" || got.AnonymousID != "anon-1" || got.Consent != "subscribed" || got.Traits["email"] != "jane@example.com" ||
		got.Traits["phone"] != "+447700900123" {
		t.Fatalf("processed = %+v, want anon-1's profile as it was (jane@example.com), subscribed", got)
	}
}

// TestPersonKeys: every event is also indexed by every email and phone
// number in it, and by its anonymous id unless it has a profile (then the
// profile recorded with it finds it), so a privacy request finds it
// without reading the log.
func TestPersonKeys(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.install(t)
	b.send(t,
		`{"type":"page","messageId":"m-anon","anonymousId":"anon-8"}`,
		`{"type":"track","event":"Referred","messageId":"m-ref","anonymousId":"anon-7","properties":{"friend":{"emails":[" Friend@Example.com "]},"sms":"tel:+44 7700 900789"}}`,
		`{"type":"page","messageId":"m-consent","anonymousId":"anon-9","context":{"consent":{"categoryPreferences":{"marketing":true}}}}`,
	)
	b.process(t)
	// anon-9 stated consent, so it has a profile: not indexed by its id,
	// found through the profile, no payload read.
	if rows, _, err := b.db.ListLiveEvents(context.Background(), store.ListLiveEventsParams{SearchKeys: []string{b.box.Hash("a:anon-9")}, Limit: 100}); err != nil || len(rows) != 0 {
		t.Fatalf("a:anon-9 indexed %d rows (%v), want none: the event has a profile", len(rows), err)
	}
	read := 0
	c, err := b.db.FindContact(context.Background(), store.FindContactParams{ProfileKeys: []string{b.box.Hash("a:anon-9")}, Now: b.now,
		EventKeys: func([]byte) []string { read++; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Events) != 1 || c.Events[0].Event.MessageID != "m-consent" || read != 0 {
		t.Fatalf("contact anon-9: %d events (%d payloads read), want m-consent alone, none read", len(c.Events), read)
	}
	tests := []struct {
		key  string
		want string
	}{
		{"a:anon-8", "m-anon"},
		{"e:friend@example.com", "m-ref"},
		{"p:447700900789", "m-ref"},
	}
	for _, tt := range tests {
		rows, _, err := b.db.ListLiveEvents(context.Background(), store.ListLiveEventsParams{SearchKeys: []string{b.box.Hash(tt.key)}, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 || rows[0].MessageID != tt.want {
			t.Errorf("key %s found %d rows, want %s", tt.key, len(rows), tt.want)
		}
	}
}

func TestPhoneDigits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"+44 7700 900789", "447700900789", true},
		{"(020) 7946-0958", "02079460958", true},
		{"TEL:07700900789", "07700900789", true},
		{"12345", "", false},            // too short for a phone
		{"1234567890123456", "", false}, // longer than E.164
		{"2026-11-30T10:00:00Z", "", false},
		{"order 7731234", "", false},
	}
	for _, tt := range tests {
		got, ok := PhoneDigits(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("PhoneDigits(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
