package blueprint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/signalhq/signal/internal/jsonscan"
)

// Source is one decoded Segment message (track, page…) that mappings read
// from. Numbers are json.Number, so they keep the exact text they were sent
// with ("89.90" stays "89.90").
type Source struct {
	root map[string]any
	// raw is the message as received, from which Apply copies objects and
	// arrays verbatim (key order and number text kept); nil for NewSource.
	raw []byte
	// eventTime is the event's time as the pipeline resolved it, read by
	// the path "event_time" (zero: not known, the path is absent).
	eventTime time.Time
}

// EventTimePath is the source path of the event's own time (the instant a
// vendor is sent as the event's time), RFC 3339 in UTC.
const EventTimePath = "event_time"

// WithEventTime returns src whose path "event_time" reads t.
func (s Source) WithEventTime(t time.Time) Source {
	s.eventTime = t
	return s
}

// Decode reads a raw Segment message, a JSON object. Numbers are kept as
// json.Number. Errors never quote the message (it may hold personal data).
func Decode(raw []byte) (Source, error) {
	root, err := decodeObject(raw)
	if err != nil {
		return Source{}, fmt.Errorf("blueprint: decode event: %w", err)
	}
	if root == nil {
		return Source{}, errors.New("blueprint: decode event: not a JSON object")
	}
	return Source{root: root, raw: bytes.Clone(raw)}, nil
}

// NewSource wraps an already decoded message. For numbers to keep their
// exact form, it should have been decoded with json.Decoder.UseNumber.
// Without the raw message, Apply copies objects as maps, whose keys a
// payload then writes in sorted order.
func NewSource(msg map[string]any) Source { return Source{root: msg} }

// Type is the message's "type" field ("track", "page"…), or "" if absent.
func (s Source) Type() string {
	t, _ := s.root["type"].(string)
	return t
}

// Lookup returns the value at a dotted path ("properties.order_id",
// "context.page.url"). Segments walk into objects by key and into arrays by
// index ("properties.products.0.price"). An absent value, or a JSON null,
// is not found.
func Lookup(src Source, path string) (any, bool) {
	if src.root == nil || path == "" {
		return nil, false
	}
	if path == EventTimePath && !src.eventTime.IsZero() {
		if _, sent := src.root[EventTimePath]; !sent {
			return formatTime(src.eventTime), true
		}
	}
	var cur any = src.root
	for seg := range strings.SplitSeq(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[seg]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(v) || seg != strconv.Itoa(i) {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
	}
	if cur == nil {
		return nil, false
	}
	return cur, true
}

// verbatim returns the raw JSON of the object or array v found at path, so
// that a payload keeps its key order and number text; any other value, or
// one without raw text (NewSource, invalid UTF-8), is returned as is.
func (s Source) verbatim(path string, v any) any {
	switch v.(type) {
	case map[string]any, []any:
	default:
		return v
	}
	if s.raw == nil {
		return v
	}
	if r, ok := rawAt(s.raw, path); ok && utf8.Valid(r) {
		return r
	}
	return v
}

// rawAt returns the raw JSON at a dotted path of a JSON document, walking
// objects by key (the last of duplicate keys wins, as in decoding) and
// arrays by index.
func rawAt(doc []byte, path string) (json.RawMessage, bool) {
	cur := json.RawMessage(bytes.TrimSpace(doc))
	for seg := range strings.SplitSeq(path, ".") {
		if len(cur) == 0 {
			return nil, false
		}
		switch cur[0] {
		case '{':
			if raw, found, ok := jsonscan.MemberValue(cur, seg); ok {
				if !found {
					return nil, false
				}
				cur = raw
				continue
			}
			// An escaped key: unmarshal into raw members (the last of
			// duplicate keys wins, as in decoding).
			var vals map[string]json.RawMessage
			if err := json.Unmarshal(cur, &vals); err != nil {
				return nil, false
			}
			next, found := vals[seg]
			if !found {
				return nil, false
			}
			cur = next
		case '[':
			var items []json.RawMessage
			if err := json.Unmarshal(cur, &items); err != nil {
				return nil, false
			}
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(items) || seg != strconv.Itoa(i) {
				return nil, false
			}
			cur = bytes.TrimSpace(items[i])
		default:
			return nil, false
		}
	}
	return cur, true
}

// rawMembers splits a raw JSON object into its keys, in document order
// (a duplicate key keeps its first place), and their raw values (the last
// one wins).
func rawMembers(obj json.RawMessage) ([]string, map[string]json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, false
	}
	var keys []string
	vals := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, false
		}
		k, ok := tok.(string)
		if !ok {
			return nil, nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, false
		}
		if _, dup := vals[k]; !dup {
			keys = append(keys, k)
		}
		vals[k] = bytes.TrimSpace(v)
	}
	return keys, vals, true
}
