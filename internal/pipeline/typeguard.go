package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// TypeStore keeps the JSON type each property of a vendor event was first
// sent with.
type TypeStore interface {
	PropertyTypes(ctx context.Context, p store.PropertyTypesParams) (map[store.PropertyKey]string, error)
	RememberPropertyTypes(ctx context.Context, p store.RememberPropertyTypesParams) (map[store.PropertyKey]string, error)
}

// maxTypedProperties bounds the properties remembered per integration: with
// a forwarding blueprint the property names come from the events (anyone
// with the public pipeline key), so neither this cache nor the table may
// grow without end. Properties past the bound are sent unchecked.
const maxTypedProperties = 5000

// typeGuard is the type guard (see docs/decisions.md, "Property type
// guard"): it compares each payload property's JSON type with the one the
// vendor event was first sent with, warns on a change and, with config
// coerce_property_types, converts the value back where nothing is lost.
// Types are remembered when the processor builds a payload it will send,
// so the stored payload is the exact body sent. One goroutine (the
// processor's).
type typeGuard struct {
	store TypeStore
	// known are stored types; pending those first seen this pass, not
	// stored yet. A stored type never changes, so the cache stays true.
	known, pending map[store.PropertyKey]string
	loaded         map[string]int // integration id → properties known
}

func newTypeGuard(s TypeStore) *typeGuard {
	return &typeGuard{store: s, known: map[store.PropertyKey]string{}, pending: map[store.PropertyKey]string{},
		loaded: map[string]int{}}
}

// load reads the stored types of the integrations not read yet.
func (g *typeGuard) load(ctx context.Context, ins []*signal.Integration) error {
	for _, in := range ins {
		if _, ok := g.loaded[in.ID]; ok {
			continue
		}
		types, err := g.store.PropertyTypes(ctx, store.PropertyTypesParams{IntegrationID: in.ID})
		if err != nil {
			return fmt.Errorf("property types of %s: %w", in.ID, err)
		}
		for k, t := range types {
			g.known[k] = t
		}
		g.loaded[in.ID] = len(types)
	}
	return nil
}

// flush stores the types first seen this pass; where another node stored
// one first, its type is the one kept.
func (g *typeGuard) flush(ctx context.Context, now time.Time) error {
	if len(g.pending) == 0 {
		return nil
	}
	stored, err := g.store.RememberPropertyTypes(ctx, store.RememberPropertyTypesParams{Types: g.pending, Now: now})
	if err != nil {
		return err
	}
	for k, t := range stored {
		g.known[k] = t
	}
	clear(g.pending)
	return nil
}

// check compares props with the types vendor event name was first sent
// with. It returns the properties to send (a converted copy when it
// coerced), the warnings, and learn, to call when the payload will be sent:
// it remembers the types seen for the first time.
func (g *typeGuard) check(in *signal.Integration, name string, props map[string]any) (map[string]any, []signal.Warning, func()) {
	coerce := in.ConfigBool(signal.ConfigCoercePropertyTypes)
	var (
		warnings []signal.Warning
		fresh    map[store.PropertyKey]string
		out      = props
		copied   bool // out is a copy: props (the blueprint's result) is never changed
	)
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys) // warnings in a stable order
	for _, prop := range keys {
		v := props[prop]
		now := jsonType(v)
		if now == "" {
			continue
		}
		key := store.PropertyKey{IntegrationID: in.ID, VendorEventName: name, Property: prop}
		first, ok := g.known[key]
		if !ok {
			first, ok = g.pending[key]
		}
		if !ok {
			if fresh == nil {
				fresh = map[store.PropertyKey]string{}
			}
			fresh[key] = now
			continue
		}
		if first == now {
			continue
		}
		msg := fmt.Sprintf("property %q was a %s, now a %s", prop, typeNoun(first), typeNoun(now))
		if coerce {
			if c, ok := coerceTo(v, first); ok {
				if !copied {
					out, copied = make(map[string]any, len(props)), true
					for k, val := range props {
						out[k] = val
					}
				}
				out[prop] = c
				msg += "; sent converted to a " + typeNoun(first) + " (coerce_property_types)"
			} else {
				msg += "; it cannot be converted without losing information, so it was sent as it is"
			}
		}
		warnings = append(warnings, signal.Warning{Code: signal.WarningPropertyTypeChanged, Message: msg})
	}
	learn := func() {
		for k, t := range fresh {
			if g.loaded[k.IntegrationID] >= maxTypedProperties {
				continue
			}
			if _, ok := g.pending[k]; !ok {
				g.pending[k] = t
				g.loaded[k.IntegrationID]++
			}
		}
	}
	return out, warnings, learn
}

// jsonType is the JSON type of a decoded value ("" for null).
func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number, float64, float32, int, int64, int32, uint, uint64:
		return "number"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case json.RawMessage:
		// The engine keeps objects and arrays as their raw JSON.
		b := bytes.TrimLeft(x, " \t\r\n")
		if len(b) == 0 {
			return ""
		}
		switch b[0] {
		case '{':
			return "object"
		case '[':
			return "array"
		case '"':
			return "string"
		case 't', 'f':
			return "boolean"
		case 'n':
			return ""
		}
		return "number"
	}
	return "other"
}

// typeNoun names a JSON type in a warning.
func typeNoun(t string) string {
	switch t {
	case "array":
		return "list"
	case "other":
		return "value"
	}
	return t
}

// coerceTo converts v to JSON type to when nothing is lost: a string that
// is a JSON number to that number (digits kept as written), a number to
// its decimal string, a boolean to "true"/"false" and back.
func coerceTo(v any, to string) (any, bool) {
	switch to {
	case "number":
		// A JSON number alone, fitting a double: json.Valid also takes
		// "12 " (trailing space) and "1e999", which written as a number
		// would make the payload invalid or unreadable.
		s, ok := v.(string)
		if !ok || s == "" || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) || strings.TrimSpace(s) != s || !json.Valid([]byte(s)) {
			return nil, false
		}
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return nil, false
		}
		return json.Number(s), true
	case "string":
		switch x := v.(type) {
		case json.Number:
			return x.String(), true
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), true
		case bool:
			return strconv.FormatBool(x), true
		}
	case "boolean":
		switch v {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return nil, false
}
