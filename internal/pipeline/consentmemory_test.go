package pipeline

import (
	"testing"

	"github.com/signalhq/signal/internal/integration/omnisend"
	"github.com/signalhq/signal/internal/signal"
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
			b.install(t)
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
		})
	}
}
