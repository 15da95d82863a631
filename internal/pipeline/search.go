package pipeline

import (
	"encoding/json"
	"strings"

	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// searchKeys returns the keyed hashes Live Events finds an event by: its
// user id, the email of the profile it was processed with and its order id,
// each only when present. The admin hashes a search the same three ways.
func searchKeys(h Hasher, ev *signal.Event, src blueprint.Source, traits map[string]any) []store.SearchKey {
	var out []store.SearchKey
	add := func(k string) { out = append(out, store.SearchKey{EventSeq: ev.Seq, Key: h.Hash(k)}) }
	if ev.UserID != "" {
		add("u:" + ev.UserID)
	}
	if email := SearchEmail(traitString(traits, "email")); email != "" {
		add("e:" + email)
	}
	if v, ok := blueprint.Lookup(src, "properties.order_id"); ok {
		if id := idString(v); id != "" {
			add("o:" + id)
		}
	}
	return out
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
