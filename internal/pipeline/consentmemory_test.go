package pipeline

import (
	"encoding/json"
	"testing"

	"github.com/signalhq/signal/internal/integration/omnisend"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// TestConsentMemory: a server-side event without a consent context uses
// the visitor's last known consent, from a browser event that stated it;
// an event that states its own consent keeps it.
func TestConsentMemory(t *testing.T) {
	t.Parallel()
	consent := func(v string) string { return `,"context":{"consent":{"canonical":{"marketing":` + v + `}}}` }
	tests := []struct {
		name    string
		browser []string // browser events, in order (anonymous id a1)
		order   string   // the server-side order's context ("" none)
		want    string
	}{
		{"OptedInOnTheSite", []string{consent("true")}, "", omnisend.ConsentSubscribed},
		{"OptedOutOnTheSite", []string{consent("false")}, "", omnisend.ConsentUnsubscribed},
		{"NeverStated", []string{""}, "", omnisend.ConsentNonSubscribed},
		{"WithdrawnLater", []string{consent("true"), consent("false")}, "", omnisend.ConsentUnsubscribed},
		{"LaterEventWithoutConsentKeepsIt", []string{consent("true"), ""}, "", omnisend.ConsentSubscribed},
		{"OrderStatesItsOwn", []string{consent("true")}, consent("false"), omnisend.ConsentUnsubscribed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			in := b.install(t)
			var msgs []string
			for i, ctx := range tt.browser {
				msgs = append(msgs, `{"type":"page","messageId":"p`+string(rune('0'+i))+`","anonymousId":"a1","properties":{"url":"https://shop.example.com/"}`+ctx+`}`)
			}
			msgs = append(msgs, `{"type":"identify","messageId":"id-1","anonymousId":"a1","userId":"u1","traits":{"email":"c@example.com"}}`)
			b.send(t, msgs...)
			b.process(t)
			b.sendAs(t, pipA, signal.TrustServer, `{"type":"track","event":"Order Completed","messageId":"m1","userId":"u1"`+tt.order+`,`+orderProps+`}`)
			b.process(t)
			le := b.row(t, "m1")
			wantStatus(t, le, signal.StatusPending, "")
			if got := payloadOf(t, le).Properties["marketing_consent"]; got != tt.want {
				t.Fatalf("marketing_consent %v, want %s (payload %s)", got, tt.want, le.Payload)
			}
			// A replay rebuilds with the consent the event was processed
			// with, remembered or its own.
			det, err := b.db.GetLiveEvent(t.Context(), store.GetLiveEventParams{ID: le.ID})
			if err != nil {
				t.Fatal(err)
			}
			ev := &signal.Event{MessageID: "m1", PipelineID: pipA, Type: signal.TypeTrack, Event: "Order Completed",
				Timestamp: b.now, ReceivedAt: b.now, Trust: signal.TrustServer,
				Payload: []byte(`{"type":"track","event":"Order Completed","messageId":"m1","userId":"u1"` + tt.order + `,` + orderProps + `}`)}
			d, err := Rebuild(b.box, omnisend.New(omnisend.Options{BaseURL: "http://127.0.0.1:1"}), in, &signal.Delivery{ID: 1}, ev, det.Processed, b.now)
			if err != nil {
				t.Fatal(err)
			}
			if got := payloadOf(t, &signal.LiveEvent{Payload: d.Payload}).Properties["marketing_consent"]; got != tt.want {
				t.Fatalf("replayed marketing_consent %v, want %s (payload %s)", got, tt.want, d.Payload)
			}
		})
	}
}

// TestSyncConsentFromContext: with Omnisend's sync_consent, a sign-up's
// own consent reaches the contact with the IP and user agent of the
// event's context; the processor passes them, the vendor decides.
func TestSyncConsentFromContext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.install(t, withConfig(map[string]any{omnisend.ConfigSyncConsent: true}))
	b.send(t, `{"type":"track","event":"Signed Up","messageId":"s1","anonymousId":"a1","properties":{"method":"email"},
		"context":{"ip":"203.0.113.7","userAgent":"Mozilla/5.0 Test","consent":{"canonical":{"marketing":true}},"traits":{"email":"c@example.com"}}}`)
	b.process(t)
	le := b.row(t, "s1")
	wantStatus(t, le, signal.StatusPending, "")
	var p struct {
		Contact struct {
			Consents []struct{ Channel, Source, IP, UserAgent string }
			OptIns   []struct{ Channel string }
		}
	}
	if err := json.Unmarshal(le.Payload, &p); err != nil {
		t.Fatal(err)
	}
	c := p.Contact
	if len(c.Consents) != 1 || c.Consents[0].Channel != "email" || c.Consents[0].IP != "203.0.113.7" || c.Consents[0].UserAgent != "Mozilla/5.0 Test" ||
		c.Consents[0].Source != "Signal: Signed Up" || len(c.OptIns) != 1 {
		t.Fatalf("contact = %+v, want the email consent with the context's IP and user agent (payload %s)", c, le.Payload)
	}
}
