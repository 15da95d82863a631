package pipeline

import (
	"testing"

	"github.com/signalhq/signal/internal/signal"
)

// TestDedupeScope: the duplicate window is per pipeline and signed-or-not,
// so a browser event with a guessed order id cannot make the real signed
// order a duplicate (issue 8, item 6).
func TestDedupeScope(t *testing.T) {
	t.Parallel()
	order := `{"type":"track","event":"Order Completed","messageId":"order-777","userId":"user-123",` + orderProps + `}`
	type sent struct{ pipeline, trust string }
	tests := []struct {
		name        string
		first, then sent
		wantReason  string // of the second; "" for pending
	}{
		{name: "unsigned then signed", first: sent{pipA, signal.TrustBrowser}, then: sent{pipA, signal.TrustSigned}},
		{name: "server then signed", first: sent{pipA, signal.TrustServer}, then: sent{pipA, signal.TrustSigned}},
		{name: "another pipeline", first: sent{pipB, signal.TrustSigned}, then: sent{pipA, signal.TrustSigned}},
		{name: "signed twice is a duplicate", first: sent{pipA, signal.TrustSigned}, then: sent{pipA, signal.TrustSigned}, wantReason: signal.ReasonDuplicate},
		{name: "unsigned twice is a duplicate", first: sent{pipA, signal.TrustBrowser}, then: sent{pipA, signal.TrustBrowser}, wantReason: signal.ReasonDuplicate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			in := b.install(t)
			b.sendAs(t, pipA, signal.TrustSigned, janeIdentify)
			b.sendAs(t, tt.first.pipeline, tt.first.trust, order)
			b.process(t)
			b.sendAs(t, tt.then.pipeline, tt.then.trust, order)
			b.process(t)
			rows := b.rows(t, "order-777") // newest first
			if len(rows) != 2 || rows[0].IntegrationID != in.ID {
				t.Fatalf("order-777 rows: %s", describe(rows))
			}
			if tt.wantReason == "" {
				wantStatus(t, rows[0], signal.StatusPending, "")
			} else {
				wantStatus(t, rows[0], signal.StatusFiltered, tt.wantReason)
			}
		})
	}
}

// TestIdentityTrust: a browser identify with a customer's userId and
// another email does not redirect the customer's signed order (issue 8,
// item 9); what a browser set, a browser may still change.
func TestIdentityTrust(t *testing.T) {
	t.Parallel()
	const (
		setEmail = `{"type":"identify","messageId":"id-1","userId":"user-123","traits":{"email":"jane@example.com","first_name":"Jane"}}`
		hijack   = `{"type":"identify","messageId":"id-2","userId":"user-123","anonymousId":"evil","traits":{"email":"evil@attacker.example","first_name":"Mallory"}}`
		order    = `{"type":"track","event":"Order Completed","messageId":"order-1","userId":"user-123",` + orderProps + `}`
	)
	tests := []struct {
		name                 string
		setBy, hijackBy      string
		wantEmail, wantFirst string
	}{
		{name: "signed identify holds against a browser one", setBy: signal.TrustSigned, hijackBy: signal.TrustBrowser, wantEmail: "jane@example.com", wantFirst: "Jane"},
		{name: "Segment server identify holds against a browser one", setBy: signal.TrustServer, hijackBy: signal.TrustBrowser, wantEmail: "jane@example.com", wantFirst: "Jane"},
		{name: "browser identify may be changed by a browser", setBy: signal.TrustBrowser, hijackBy: signal.TrustBrowser, wantEmail: "evil@attacker.example", wantFirst: "Mallory"},
		{name: "signed identify may change what a browser set", setBy: signal.TrustBrowser, hijackBy: signal.TrustSigned, wantEmail: "evil@attacker.example", wantFirst: "Mallory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, onePass := range []bool{true, false} {
				b := setup(t)
				b.install(t)
				b.sendAs(t, pipA, tt.setBy, setEmail)
				if !onePass {
					b.process(t)
				}
				b.sendAs(t, pipA, tt.hijackBy, hijack)
				if !onePass {
					b.process(t)
				}
				b.sendAs(t, pipA, signal.TrustSigned, order)
				b.process(t)
				checkContact(t, b, "order-1", contactWant{email: tt.wantEmail, firstName: tt.wantFirst})
			}
		})
	}
}
