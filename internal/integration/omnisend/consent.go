package omnisend

import (
	"net/netip"
	"unicode/utf8"

	"github.com/signalhq/signal/internal/integration"
)

// ConfigSyncConsent turns on consent to the contact: a sign-up or checkout
// event that states the visitor's marketing consent records it on the
// Omnisend contact (contact.consents and optIns, or optOuts).
const ConfigSyncConsent = "sync_consent"

// consentEvents are the Segment e-commerce spec events a consent is
// recorded from: the moments a shopper ticks (or unticks) the marketing
// box. Other events' consent only sets properties.marketing_consent.
var consentEvents = map[string]bool{"Signed Up": true, "Checkout Started": true, "Order Completed": true}

// Omnisend's length limits on a consent record's fields.
const (
	maxConsentSource = 100
	maxUserAgent     = 200
)

// consentBody is one of contact.consents: the proof of a consent.
type consentBody struct {
	Channel   string `json:"channel"`
	CreatedAt string `json:"createdAt,omitempty"`
	Source    string `json:"source"`
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
}

// optBody is one of contact.optIns or contact.optOuts: the subscription
// status of a channel.
type optBody struct {
	Channel   string `json:"channel"`
	CreatedAt string `json:"createdAt,omitempty"`
	Source    string `json:"source"`
}

// syncConsent fills c's consents and opt-ins (consent given) or opt-outs
// (consent refused) for each channel the contact has (email; sms where a
// phone was given), when the integration syncs consent and ev is a
// sign-up or checkout that stated the consent itself (one remembered from
// an earlier event is no new act of consent).
func syncConsent(c *contactBody, ev *integration.Event) {
	if on, _ := ev.Config[ConfigSyncConsent].(bool); !on || !consentEvents[ev.Source.Name] {
		return
	}
	stated := ev.Source.StatedConsent
	if stated == integration.ConsentUnknown {
		return
	}
	var channels []string
	if c.Email != "" {
		channels = append(channels, "email")
	}
	if c.Phone != "" {
		channels = append(channels, "sms")
	}
	at, source := formatTime(ev.Timestamp), cut("Signal: "+ev.Source.Name, maxConsentSource)
	for _, ch := range channels {
		if stated == integration.ConsentDenied {
			c.OptOuts = append(c.OptOuts, optBody{Channel: ch, CreatedAt: at, Source: source})
			continue
		}
		c.Consents = append(c.Consents, consentBody{Channel: ch, CreatedAt: at, Source: source,
			IP: validIP(ev.Source.IP), UserAgent: cut(ev.Source.UserAgent, maxUserAgent)})
		c.OptIns = append(c.OptIns, optBody{Channel: ch, CreatedAt: at, Source: source})
	}
}

// validIP returns s as a plain IPv4 or IPv6 address, else "": an
// IPv4-mapped IPv6 address is given as the IPv4 one, and an address with
// a zone (fe80::1%eth0, a link-local address of the sender's own network)
// is no client's public address.
func validIP(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return ""
	}
	return a.Unmap().String()
}

// cut shortens s to at most n characters.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
