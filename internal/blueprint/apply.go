package blueprint

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/signalhq/signal/internal/signal"
)

// Default actions for events a blueprint does not name.
const (
	ActionDrop    = "drop"
	ActionForward = "forward"
)

// PageKey is the blueprint key of page calls.
const PageKey = "page"

// IdentifyKey is the blueprint key of identify calls, for vendors that
// take them (a profile update); its mappings are not applied: an identify
// sends the profile's traits.
const IdentifyKey = "identify"

// Result is what a blueprint makes of one event.
type Result struct {
	// Enabled is false when the event is not to be sent (reason
	// event_not_enabled); the other fields are then zero.
	Enabled         bool
	VendorEventName string
	// Properties are the mapped properties (never nil when Enabled).
	// marketing_consent is not among them: the caller adds it. Strings,
	// booleans and json.Number are as decoded; an object or array is its
	// raw JSON (json.RawMessage), so that it reaches the vendor with its
	// key order and number text untouched (a map or []any for a Source
	// made by NewSource). Marshal them with encoding/json.
	Properties map[string]any
	// Order lists the keys of Properties in mapping order (for forwarded
	// properties, their order in the message), for a payload that keeps it.
	Order []string
	// Priority is a signal.Priority* rank.
	Priority int
	// MaxAge is how long the event is worth delivering; 0 means no limit
	// beyond the retry window.
	MaxAge time.Duration
	// EventVersion is the blueprint event's vendor event version: nil
	// sends none, "" is sent as "".
	EventVersion *string
}

// Apply maps the event src with bp. eventKey is "page" for page calls and
// the event name for track calls.
//
// An event named in bp is sent if enabled: with its mappings, or with its
// properties unchanged when it has none. An event not named in bp is sent
// only if bp.Defaults.Action is "forward" and it is a track call (eventKey
// is not "page" and the message's type is "track" or absent), under its own
// name with its properties unchanged and normal priority.
//
// Apply expects a validated blueprint; should it meet an unknown priority it
// uses normal, an unreadable max_age it ignores, and of two mappings with
// the same target the last one found wins.
func Apply(bp signal.Blueprint, eventKey string, src Source) Result {
	be, named := bp.Events[eventKey]
	if !named {
		if bp.Defaults.Action == ActionForward && isTrack(eventKey, src) {
			props, order := forwarded(src)
			return Result{
				Enabled:         true,
				VendorEventName: eventKey,
				Properties:      props,
				Order:           order,
				Priority:        signal.PriorityNormal,
			}
		}
		return Result{}
	}
	if !be.Enabled {
		return Result{}
	}
	res := Result{
		Enabled:         true,
		VendorEventName: be.VendorEventName,
		Priority:        signal.PriorityNormal,
		EventVersion:    be.EventVersion,
	}
	if p, ok := signal.PriorityValue(be.Priority); ok {
		res.Priority = p
	}
	if be.MaxAge != "" {
		if d, err := time.ParseDuration(be.MaxAge); err == nil && d > 0 {
			res.MaxAge = d
		}
	}
	if len(be.Mappings) == 0 {
		res.Properties, res.Order = forwarded(src)
		return res
	}
	obj := mapAll(src, be.Mappings)
	res.Properties, res.Order = obj.vals, obj.keys
	return res
}

// ApplyContact maps a person's traits with bp's contact mappings (sources
// "traits.…") into the vendor's contact fields, in mapping order; nil when
// bp has none or none found a value.
func ApplyContact(bp signal.Blueprint, traits map[string]any) *Object {
	if len(bp.Contact) == 0 || len(traits) == 0 {
		return nil
	}
	obj := mapAll(NewSource(map[string]any{"traits": traits}), bp.Contact)
	if obj.Len() == 0 {
		return nil
	}
	return obj
}

// mapAll applies mappings to src. Of two mappings with the same target the
// last one found wins.
func mapAll(src Source, mappings []signal.Mapping) *Object {
	obj := newObject(len(mappings))
	for _, m := range mappings {
		v, ok := value(src, m)
		if !ok {
			continue
		}
		steps, ok := parseTarget(m.Target)
		if !ok {
			continue
		}
		put(obj, steps, v)
	}
	return obj
}

// value is what one mapping makes of src: its source (else its fallbacks,
// else its default) or its constant, mapped per item when it has items,
// then transformed and translated. ok is false when it makes nothing.
func value(src Source, m signal.Mapping) (any, bool) {
	if m.Value != nil {
		v, ok := constant(m.Value)
		return finish(m, v, ok)
	}
	v, path, ok := resolve(src, m)
	if !ok {
		if m.Default == nil {
			return nil, false
		}
		v, ok := constant(m.Default)
		return finish(m, v, ok)
	}
	if len(m.Items) > 0 {
		return items(src, path, v, m.Items)
	}
	if len(m.Transform) == 0 && m.Values == nil {
		return src.verbatim(path, v), true
	}
	return finish(m, v, true)
}

// finish applies m's transforms and values table to v.
func finish(m signal.Mapping, v any, ok bool) (any, bool) {
	for _, name := range m.Transform {
		if !ok {
			return nil, false
		}
		v, ok = transform(name, v)
	}
	if ok && m.Values != nil {
		v, ok = translate(m.Values, v)
	}
	return v, ok
}

// items maps each object of the array v (found at path) with mappings,
// whose sources are paths inside the element. Elements that are not
// objects, or that make nothing, are left out; v not an array makes
// nothing.
func items(src Source, path string, v any, mappings []signal.Mapping) (any, bool) {
	arr, ok := v.([]any)
	if !ok {
		return nil, false
	}
	var raws []json.RawMessage
	if src.raw != nil {
		if r, ok := rawAt(src.raw, path); ok {
			if json.Unmarshal(r, &raws) != nil || len(raws) != len(arr) {
				raws = nil
			}
		}
	}
	out := make([]any, 0, len(arr))
	for i, el := range arr {
		m, ok := el.(map[string]any)
		if !ok {
			continue
		}
		item := Source{root: m, eventTime: src.eventTime}
		if raws != nil {
			item.raw = bytes.TrimSpace(raws[i])
		}
		if obj := mapAll(item, mappings); obj.Len() > 0 {
			out = append(out, obj)
		}
	}
	return out, true
}

// resolve reads a mapping's source, else its fallbacks in order, and says
// which path it found.
func resolve(src Source, m signal.Mapping) (any, string, bool) {
	if v, ok := Lookup(src, m.Source); ok {
		return v, m.Source, true
	}
	for _, p := range m.Else {
		if v, ok := Lookup(src, p); ok {
			return v, p, true
		}
	}
	return nil, "", false
}

// forwarded returns a copy of the event's properties object (objects and
// arrays in it verbatim) and its keys in message order, or an empty map if
// it has none.
func forwarded(src Source) (map[string]any, []string) {
	props, _ := src.root["properties"].(map[string]any)
	out := make(map[string]any, len(props)+1)
	if len(props) == 0 {
		return out, []string{}
	}
	for k, v := range props {
		out[k] = v
	}
	var order []string
	if src.raw != nil {
		if raw, ok := rawAt(src.raw, "properties"); ok {
			keys, vals, ok := rawMembers(raw)
			if ok && len(keys) == len(props) {
				order = keys
				for k, v := range props {
					switch v.(type) {
					case map[string]any, []any:
						if r := vals[k]; utf8.Valid(r) {
							out[k] = r
						}
					}
				}
			}
		}
	}
	if order == nil {
		order = slices.Sorted(maps.Keys(props))
	}
	return out, order
}

func isTrack(eventKey string, src Source) bool {
	if eventKey == "" || eventKey == PageKey {
		return false
	}
	t := src.Type()
	return t == "" || t == signal.TypeTrack
}
