// Package pipeline processes the event log: it resolves who each event is
// about (profiles), what they consented to, maps the event with each
// integration's blueprint and queues the vendor payload for delivery.
package pipeline

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/contact"
	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

// Hasher keys the hashes stored in place of identifiers.
type Hasher interface {
	Hash(s string) string
}

// Consent reads the visitor's marketing consent from the event:
// context.consent.canonical.marketing (Datafly) or
// context.consent.categoryPreferences.marketing (Segment). Only a JSON
// boolean counts; how a vendor expresses it is the vendor's business.
func Consent(src blueprint.Source) integration.Consent {
	for _, path := range []string{"context.consent.canonical.marketing", "context.consent.categoryPreferences.marketing"} {
		if v, ok := blueprint.Lookup(src, path); ok {
			if b, ok := v.(bool); ok {
				if b {
					return integration.ConsentGranted
				}
				return integration.ConsentDenied
			}
		}
	}
	return integration.ConsentUnknown
}

// eventSource is where ev came from: its name, its own consent and the
// visitor's IP and user agent from its context.
func eventSource(ev *signal.Event, src blueprint.Source) integration.EventSource {
	str := func(path string) string {
		v, _ := blueprint.Lookup(src, path)
		s, _ := v.(string)
		return strings.TrimSpace(s)
	}
	return integration.EventSource{Name: ev.Event, StatedConsent: Consent(src), IP: str("context.ip"), UserAgent: str("context.userAgent")}
}

// consentWord is how a profile remembers a stated consent ("" for none).
func consentWord(c integration.Consent) string {
	switch c {
	case integration.ConsentGranted:
		return signal.ConsentGranted
	case integration.ConsentDenied:
		return signal.ConsentDenied
	}
	return ""
}

// effectiveConsent is the event's own consent or, when it states none (a
// server-side order), the last one the visitor's profile heard
// (remembered: signal.ConsentGranted or ConsentDenied, "" unknown).
func effectiveConsent(src blueprint.Source, remembered string) integration.Consent {
	if c := Consent(src); c != integration.ConsentUnknown {
		return c
	}
	switch remembered {
	case signal.ConsentGranted:
		return integration.ConsentGranted
	case signal.ConsentDenied:
		return integration.ConsentDenied
	}
	return integration.ConsentUnknown
}

// eventTraits returns the traits an event carries: identify's traits, and
// context.traits on any call (identify's own traits win).
func eventTraits(src blueprint.Source, typ string) map[string]any {
	var out map[string]any
	merge := func(path string) {
		if v, ok := blueprint.Lookup(src, path); ok {
			if m, ok := v.(map[string]any); ok && len(m) > 0 {
				if out == nil {
					out = make(map[string]any, len(m))
				}
				for k, val := range m {
					out[k] = val
				}
			}
		}
	}
	merge("context.traits")
	if typ == signal.TypeIdentify {
		merge("traits")
	}
	return out
}

// profileKeys returns the keyed hashes of the ids an event carries.
func profileKeys(h Hasher, ev *signal.Event, src blueprint.Source) []string {
	var keys []string
	if ev.UserID != "" {
		keys = append(keys, h.Hash("u:"+ev.UserID))
	}
	if ev.AnonymousID != "" {
		keys = append(keys, h.Hash("a:"+ev.AnonymousID))
	}
	if ev.Type == signal.TypeAlias {
		if v, ok := blueprint.Lookup(src, "previousId"); ok {
			if s := idString(v); s != "" {
				// previousId may be either kind of id: link both readings.
				keys = append(keys, h.Hash("u:"+s), h.Hash("a:"+s))
			}
		}
	}
	return keys
}

func idString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return ""
}

func traitString(traits map[string]any, keys ...string) string {
	for _, k := range keys {
		switch v := traits[k].(type) {
		case string:
			if s := strings.TrimSpace(v); s != "" {
				return s
			}
		case json.Number:
			return v.String()
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	return ""
}

// blueprintKey is the key an event is found under in a blueprint, and its
// call type.
func blueprintKey(ev *signal.Event) (string, integration.CallType, bool) {
	switch ev.Type {
	case signal.TypePage:
		return blueprint.PageKey, integration.CallPage, true
	case signal.TypeTrack:
		return ev.Event, integration.CallTrack, true
	case signal.TypeIdentify:
		return blueprint.IdentifyKey, integration.CallIdentify, true
	}
	return "", "", false
}

// build decides what one event means for one integration: a filtered row
// with its reason, or a pending delivery with the vendor payload, with the
// event's own consent and no type guard (a preview must not remember
// types).
func build(h Hasher, phones *phoneCache, vendor integration.Vendor, in *signal.Integration, ev *signal.Event, src blueprint.Source, traits map[string]any, now time.Time) *signal.Delivery {
	return buildGuarded(h, phones, nil, vendor, in, ev, src, traits, Consent(src), now)
}

// buildGuarded is build with the processor's type guard (nil for none) and
// the event's effective consent (effectiveConsent: the profile's
// remembered one when the event states none).
func buildGuarded(h Hasher, phones *phoneCache, guard *typeGuard, vendor integration.Vendor, in *signal.Integration, ev *signal.Event, src blueprint.Source, traits map[string]any, consent integration.Consent, now time.Time) *signal.Delivery {
	d := &signal.Delivery{
		EventSeq: ev.Seq, MessageID: ev.MessageID, PipelineID: ev.PipelineID, IntegrationID: in.ID,
		Type: ev.Type, Event: ev.Event, Status: signal.StatusFiltered, Priority: signal.PriorityNormal,
		ReceivedAt: ev.ReceivedAt, NextAttemptAt: now, Signed: ev.Trust == signal.TrustSigned,
	}
	if !in.Enabled {
		d.Reason = signal.ReasonIntegrationDisabled
		return d
	}
	key, call, ok := blueprintKey(ev)
	if !ok || !integration.Takes(vendor, call) {
		d.Reason = signal.ReasonUnsupportedType
		return d
	}
	if call == integration.CallTrack && (key == blueprint.PageKey || key == blueprint.IdentifyKey) {
		// Those keys name page and identify calls in a blueprint: a track
		// event named so is neither.
		d.Reason = signal.ReasonEventNotEnabled
		d.Note = fmt.Sprintf("A track event named %q is not a %s call; send it as one, or give it another name.", key, key)
		return d
	}
	src = src.WithEventTime(ev.Timestamp)
	res := blueprint.Apply(in.Blueprint, key, src)
	if !res.Enabled {
		d.Reason = signal.ReasonEventNotEnabled
		return d
	}
	d.VendorEventName, d.Priority = res.VendorEventName, res.Priority
	if res.MaxAge > 0 {
		d.ExpiresAt = ev.ReceivedAt.Add(res.MaxAge)
	}

	c, notes, badEmail := contactOf(traits, src, in, phones)
	c.ExternalID = ev.UserID
	d.Note = strings.Join(notes, " ")
	if !vendor.Identified(c) {
		d.Reason = signal.ReasonNoIdentifier
		if badEmail {
			d.Reason = signal.ReasonInvalidEmail
		}
		return d
	}
	if obj := blueprint.ApplyContact(in.Blueprint, traits); obj != nil {
		c.Fields = make(map[string]any, obj.Len())
		for _, k := range obj.Keys() {
			c.Fields[k], _ = obj.Get(k)
		}
		c.FieldOrder = obj.Keys()
	}
	props, order := res.Properties, res.Order
	if call == integration.CallIdentify {
		props, order = profileTraits(traits)
	}
	var learn func()
	if guard != nil {
		props, d.Warnings, learn = guard.check(in, res.VendorEventName, props)
	}
	payload, err := vendor.Payload(&integration.Event{
		IntegrationID: in.ID, PipelineID: ev.PipelineID, MessageID: ev.MessageID, VendorEventName: res.VendorEventName,
		Call: call, Timestamp: ev.Timestamp, Contact: c, Consent: consent, Properties: props, Order: order,
		EventVersion: res.EventVersion, Config: in.Config, Source: eventSource(ev, src),
	})
	if err != nil {
		d.Status, d.Reason = signal.StatusFailed, signal.ReasonPayloadError
		d.Note = strings.TrimSpace(d.Note + " " + fmt.Sprintf("The payload could not be built: %v", err))
		return d
	}
	d.Payload = payload
	if in.DryRun() {
		d.Reason = signal.ReasonDryRun
		return d
	}
	d.Status = signal.StatusPending
	d.ContactKey = h.Hash("c:" + contactID(c))
	if learn != nil {
		learn() // types are those of payloads that are sent
	}
	return d
}

// contactID is what orders one person's deliveries: the first identifier
// the contact has. Events of one person with different identifier sets
// (email on one, only the user id on the next) may then run in parallel;
// the vendor merges them by its own rules either way.
func contactID(c integration.Contact) string {
	switch {
	case c.Email != "":
		return c.Email
	case c.Phone != "":
		return c.Phone
	}
	return "x:" + c.ExternalID
}

// contactTraits are the traits a Contact carries; profileTraits leaves them
// out of an identify's other properties.
var contactTraits = map[string]bool{
	"email": true, "phone": true, "first_name": true, "firstName": true, "last_name": true, "lastName": true,
}

// profileTraits returns the profile's traits other than the contact's own
// fields, sorted by name, for an identify call.
func profileTraits(traits map[string]any) (map[string]any, []string) {
	props := make(map[string]any, len(traits))
	order := make([]string, 0, len(traits))
	for k, v := range traits {
		if contactTraits[k] || v == nil {
			continue
		}
		props[k] = v
		order = append(order, k)
	}
	slices.Sort(order)
	return props, order
}

// contactOf builds the contact from the profile's and the event's traits:
// email trimmed and lower-cased, phone E.164. A national number is read
// with the region of context.locale, then with the integration's
// default_phone_region (an en-US browser in a GB shop). Unreadable values
// are left out and noted, without quoting them; badEmail says the email
// was one.
func contactOf(traits map[string]any, src blueprint.Source, in *signal.Integration, phones *phoneCache) (c integration.Contact, notes []string, badEmail bool) {
	if raw := traitString(traits, "email"); raw != "" {
		e, err := contact.ParseEmail(raw)
		if err != nil {
			badEmail = true
			notes = append(notes, "The email trait is not a valid address and was left out.")
		}
		c.Email = e
	}
	if raw := traitString(traits, "phone"); raw != "" {
		var regions []string
		if loc, ok := blueprint.Lookup(src, "context.locale"); ok {
			if s, ok := loc.(string); ok {
				if r := contact.RegionFromLocale(s); r != "" {
					regions = append(regions, r)
				}
			}
		}
		if r := strings.ToUpper(in.ConfigString(integration.ConfigDefaultPhoneRegion)); r != "" && !slices.Contains(regions, r) {
			regions = append(regions, r)
		}
		if len(regions) == 0 {
			regions = append(regions, "") // an international number needs none
		}
		if p, err := phones.best(raw, regions); err == nil {
			c.Phone = p
		} else {
			notes = append(notes, phoneNote(regions))
		}
	}
	c.FirstName = traitString(traits, "first_name", "firstName")
	c.LastName = traitString(traits, "last_name", "lastName")
	return c, notes, badEmail
}

// phoneNote says why a phone was left out, naming the regions tried (never
// the number).
func phoneNote(regions []string) string {
	tried := slices.DeleteFunc(slices.Clone(regions), func(r string) bool { return r == "" })
	if len(tried) == 0 {
		return "The phone trait could not be read as an international (E.164) number and was left out; set the integration's default_phone_region to read national numbers."
	}
	return fmt.Sprintf("The phone trait could not be read as an international (E.164) number, nor as a national number of %s, and was left out.", strings.Join(tried, " or "))
}

// phoneCache remembers phone normalisations: parsing is the costliest step
// of building a payload, and a visitor's phone comes back on every event.
// Phones come from outside (any identify call), so only plausible ones are
// parsed or kept (contact.CheckPhoneShape: at most 32 bytes, at least 4
// digits, no letters), and the cache is bounded by count (phoneCacheSize)
// and by the bytes of its keys and values (phoneCacheBytes); when either is
// reached it starts over. Bound: 50,000 entries, 1 MB of strings, about 6 MB
// with map overhead. Not safe for concurrent use (the processor is one
// goroutine).
type phoneCache struct {
	m     map[[2]string]phoneResult
	bytes int
}

type phoneResult struct {
	e164  string
	valid bool
	err   error
}

const (
	phoneCacheSize  = 50000
	phoneCacheBytes = 1 << 20
)

// best reads raw with each region in turn and keeps the first reading
// libphonenumber finds valid, else the first it finds possible: a visitor's
// browser may say en-US while the number is French, which the
// integration's default region (FR) reads as valid.
func (c *phoneCache) best(raw string, regions []string) (string, error) {
	var first phoneResult
	for i, region := range regions {
		r := c.read(raw, region)
		if r.err == nil && r.valid {
			return r.e164, nil
		}
		if i == 0 || (first.err != nil && r.err == nil) {
			first = r
		}
	}
	return first.e164, first.err
}

func (c *phoneCache) read(raw, region string) phoneResult {
	raw = strings.TrimSpace(raw)
	if err := contact.CheckPhoneShape(raw); err != nil {
		return phoneResult{err: err}
	}
	if len(region) > 2 {
		region = "" // not a region code: NormalizePhone refuses it anyway
	}
	if c == nil {
		e, valid, err := contact.ReadPhone(raw, region)
		return phoneResult{e, valid, err}
	}
	k := [2]string{raw, region}
	if r, ok := c.m[k]; ok {
		return r
	}
	e, valid, err := contact.ReadPhone(raw, region)
	size := len(raw) + len(region) + len(e)
	if c.m == nil || len(c.m) >= phoneCacheSize || c.bytes+size > phoneCacheBytes {
		c.m, c.bytes = make(map[[2]string]phoneResult, 1024), 0
	}
	// Copies, so a key never pins the (large) event payload it was cut from.
	k = [2]string{strings.Clone(raw), strings.Clone(region)}
	r := phoneResult{e, valid, err}
	c.m[k] = r
	c.bytes += size
	return r
}
