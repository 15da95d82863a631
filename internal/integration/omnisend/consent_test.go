package omnisend

import (
	"cmp"
	"strings"
	"testing"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

// TestSyncConsentGolden: with sync_consent, a sign-up or checkout that
// states the visitor's consent records it on the contact (consents and
// optIns for email, and sms when a phone was given; optOuts when refused);
// without it, or for other events, or for a consent only remembered, the
// contact carries nothing more than before.
func TestSyncConsentGolden(t *testing.T) {
	t.Parallel()
	const ua = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
	on := map[string]any{ConfigAPIKey: testAPIKey, ConfigSyncConsent: true}
	tests := []struct {
		file   string
		config map[string]any
		name   string
		c      integration.Contact
		stated integration.Consent
		ip     string
	}{
		{"signed_up_granted", on, "Signed Up", integration.Contact{Email: "jane@example.com", Phone: "+447700900123"}, integration.ConsentGranted, "203.0.113.7"},
		{"checkout_granted_email_only", on, "Checkout Started", integration.Contact{Email: "jane@example.com"}, integration.ConsentGranted, "2001:db8::1"},
		{"order_completed_denied", on, "Order Completed", integration.Contact{Email: "jane@example.com", Phone: "+447700900123"}, integration.ConsentDenied, "203.0.113.7"},
		{"bad_ip_dropped", on, "Signed Up", integration.Contact{Phone: "+447700900123"}, integration.ConsentGranted, "not-an-ip"},
		{"off_by_default", map[string]any{ConfigAPIKey: testAPIKey}, "Signed Up", integration.Contact{Email: "jane@example.com"}, integration.ConsentGranted, "203.0.113.7"},
		{"other_event_untouched", on, "Product Viewed", integration.Contact{Email: "jane@example.com"}, integration.ConsentGranted, "203.0.113.7"},
		{"remembered_consent_untouched", on, "Order Completed", integration.Contact{Email: "jane@example.com"}, integration.ConsentUnknown, "203.0.113.7"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			ev := &integration.Event{IntegrationID: testIntegrationID, PipelineID: testPipelineID, MessageID: testMessageID,
				VendorEventName: strings.ToLower(tt.name), Call: integration.CallTrack, Timestamp: testTime, Contact: tt.c,
				Consent: cmp.Or(tt.stated, integration.ConsentGranted), Properties: map[string]any{"method": "email"}, Config: tt.config,
				Source: integration.EventSource{Name: tt.name, StatedConsent: tt.stated, IP: tt.ip, UserAgent: ua}}
			got, err := New(Options{}).Payload(ev)
			if err != nil {
				t.Fatal(err)
			}
			generatedGolden(t, "consent/"+tt.file+".payload.golden", append(got, '\n'))
		})
	}
}

func TestSyncConsentConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		val  any
		want bool // valid
	}{{true, true}, {false, true}, {nil, true}, {"yes", false}, {1, false}}
	for _, tt := range tests {
		err := New(Options{}).ValidateConfig(map[string]any{ConfigAPIKey: testAPIKey, ConfigSyncConsent: tt.val})
		if (err == nil) != tt.want {
			t.Errorf("sync_consent %v: err %v, want valid %v", tt.val, err, tt.want)
		}
		if err != nil && signal.ErrorField(err) != "config.sync_consent" {
			t.Errorf("sync_consent %v: error names %q, want config.sync_consent", tt.val, signal.ErrorField(err))
		}
	}
}

// TestSyncConsentCuts: Omnisend's limits (source 100, userAgent 200
// characters) are kept.
func TestSyncConsentCuts(t *testing.T) {
	t.Parallel()
	c := &contactBody{Email: "jane@example.com"}
	syncConsent(c, &integration.Event{Timestamp: testTime, Config: map[string]any{ConfigSyncConsent: true},
		Source: integration.EventSource{Name: "Signed Up", StatedConsent: integration.ConsentGranted, UserAgent: strings.Repeat("é", 300)}})
	if len(c.Consents) != 1 || len([]rune(c.Consents[0].UserAgent)) != maxUserAgent || c.Consents[0].Source != "Signal: Signed Up" {
		t.Fatalf("consents = %+v", c.Consents)
	}
}
