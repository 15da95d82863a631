package omnisend

import (
	"encoding/json"
	"time"

	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

// Omnisend's marketing consent values, sent as properties.marketing_consent
// on every event.
const (
	ConsentSubscribed    = "subscribed"
	ConsentUnsubscribed  = "unsubscribed"
	ConsentNonSubscribed = "nonSubscribed"
)

// ConsentProperty is the property Signal sets from the visitor's consent; a
// blueprint mapping may not write it.
const ConsentProperty = "marketing_consent"

// MaxTargetLen is the longest property name Omnisend accepts for a custom
// property.
const MaxTargetLen = 128

// consentValue is how Omnisend reads a consent state.
func consentValue(c integration.Consent) string {
	switch c {
	case integration.ConsentGranted:
		return ConsentSubscribed
	case integration.ConsentDenied:
		return ConsentUnsubscribed
	}
	return ConsentNonSubscribed
}

// Calls: Omnisend's Events API takes track and page events; it has no
// profile call here (identify only feeds the profile Signal keeps).
func (v *Vendor) Calls() []integration.CallType {
	return []integration.CallType{integration.CallTrack, integration.CallPage}
}

// Identified: Omnisend keys contacts by email or phone.
func (v *Vendor) Identified(c integration.Contact) bool { return c.Email != "" || c.Phone != "" }

// ValidateTarget applies Omnisend's rule for custom property names:
// letters, digits and _, at most 128 characters; marketing_consent is
// Signal's.
func (v *Vendor) ValidateTarget(t string) error {
	if len(t) > MaxTargetLen {
		return signal.Errorf(signal.EINVALID, "must be at most %d characters", MaxTargetLen)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return signal.Errorf(signal.EINVALID, "may hold only letters, digits and _")
		}
	}
	if t == ConsentProperty {
		return signal.Errorf(signal.EINVALID, "%q is set by Signal from the visitor's consent", ConsentProperty)
	}
	return nil
}

// RateLimitKey: Omnisend counts requests per API key (per store).
func (v *Vendor) RateLimitKey(in *signal.Integration) string { return in.ConfigString(ConfigAPIKey) }

// Timeout is the contract's 10 s per request.
func (v *Vendor) Timeout() time.Duration { return Timeout }

// TestEvent is a custom "signal test event" for the person c.
func (v *Vendor) TestEvent(in *signal.Integration, c integration.Contact, now time.Time) *integration.Event {
	return integration.NewTestEvent(in, c, "signal test event", now)
}

// withConsent returns ev's properties with marketing_consent, placed after
// the plain properties and before the first object or list (products), as
// the integration page shows.
func withConsent(ev *integration.Event) (map[string]any, []string) {
	props := make(map[string]any, len(ev.Properties)+1)
	for k, val := range ev.Properties {
		props[k] = val
	}
	props[ConsentProperty] = consentValue(ev.Consent)
	order := make([]string, 0, len(ev.Order)+1)
	placed := false
	for _, k := range ev.Order {
		if k == ConsentProperty {
			continue
		}
		if !placed && isNested(props[k]) {
			order = append(order, ConsentProperty)
			placed = true
		}
		order = append(order, k)
	}
	if !placed {
		order = append(order, ConsentProperty)
	}
	return props, order
}

func isNested(v any) bool {
	switch x := v.(type) {
	case map[string]any, []any, *blueprint.Object:
		return true
	case json.RawMessage:
		return len(x) > 0 && (x[0] == '{' || x[0] == '[')
	}
	return false
}
