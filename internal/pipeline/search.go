package pipeline

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// searchKeys returns the keyed hashes an event is found by. Live Events
// searches by its user id, the email of the profile it was processed with
// and its order id (the admin hashes a search the same three ways). A
// privacy request (contacts export and erase) finds a person's events by
// their user and anonymous ids, and by every email or phone number written
// anywhere in the event, so that it reads no event outside the index.
func searchKeys(h Hasher, ev *signal.Event, src blueprint.Source, traits map[string]any, hasProfile bool) []store.SearchKey {
	raw := make([]string, 0, 8)
	if ev.UserID != "" {
		raw = append(raw, "u:"+ev.UserID)
	}
	// The anonymous id only for an event without a profile: one with a
	// profile is found through it (store.ProcessedEvent.ProfileItem), and
	// Live Events does not search by anonymous id.
	if ev.AnonymousID != "" && !hasProfile {
		raw = append(raw, "a:"+ev.AnonymousID)
	}
	if email := SearchEmail(traitString(traits, "email")); email != "" {
		raw = append(raw, "e:"+email)
	}
	if v, ok := blueprint.Lookup(src, "properties.order_id"); ok {
		if id := idString(v); id != "" {
			raw = append(raw, "o:"+id)
		}
	}
	blueprint.EachString(src, func(v string) {
		if strings.Contains(v, "@") {
			raw = append(raw, "e:"+SearchEmail(v))
		} else if d, ok := PhoneDigits(v); ok {
			raw = append(raw, "p:"+d)
		}
	})
	out := make([]store.SearchKey, 0, len(raw))
	for i, k := range raw {
		if !slices.Contains(raw[:i], k) { // an event holds a few keys: no map
			out = append(out, store.SearchKey{EventSeq: ev.Seq, Key: h.Hash(k)})
		}
	}
	return out
}

// PhoneDigits returns the digits of s when s reads as a phone number: 6 to
// 15 digits, with nothing else but spaces, "+", "-", ".", "/" and
// parentheses, after an optional "tel:". A privacy request by phone matches
// these digits exactly.
func PhoneDigits(s string) (string, bool) {
	if len(s) > 4 && strings.EqualFold(s[:4], "tel:") {
		s = s[4:]
	}
	n := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			n++
		case c == ' ' || c == '+' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')':
		default:
			return "", false
		}
	}
	if n < 6 || n > 15 {
		return "", false
	}
	if n == len(s) {
		return s, true
	}
	b := make([]byte, 0, n)
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b), true
}

// SearchEmail is the form an email is searched by: trimmed, lower-cased.
func SearchEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// SearchHashes are the keys a Live Events search q matches: q read as a
// user id, an email and an order id.
func SearchHashes(h Hasher, q string) []string {
	keys := []string{h.Hash("u:" + q), h.Hash("o:" + q)}
	if e := SearchEmail(q); e != "" {
		keys = append(keys, h.Hash("e:"+e))
	}
	return keys
}

// processedBody is the event after identity and consent, as Live Events
// shows it: kept (sealed) when processed, because the profile it was built
// with changes afterwards.
func processedBody(ev *signal.Event, traits map[string]any, consent integration.Consent) ([]byte, error) {
	if traits == nil {
		traits = map[string]any{}
	}
	return json.Marshal(signal.Processed{UserID: ev.UserID, AnonymousID: ev.AnonymousID, Traits: traits, Consent: consent.String()})
}
