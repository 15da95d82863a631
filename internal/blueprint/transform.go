package blueprint

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Transforms a mapping may name, applied to its value in order. A value a
// transform cannot convert is left out (never sent as null or as a guess).
const (
	TransformUpper    = "upper-case" // strings only
	TransformLower    = "lower-case" // strings only
	TransformTrim     = "trim"       // strings only
	TransformNumber   = "to-number"  // a number, or a string holding one
	TransformString   = "to-string"  // a string, number or boolean
	TransformDate     = "date"       // a date or RFC 3339 time → "YYYY-MM-DD"
	TransformDateTime = "date-time"  // an RFC 3339 time → UTC RFC 3339
)

var transforms = []string{
	TransformUpper, TransformLower, TransformTrim, TransformNumber,
	TransformString, TransformDate, TransformDateTime,
}

// transform applies one named transform to v.
func transform(name string, v any) (any, bool) {
	switch name {
	case TransformUpper, TransformLower, TransformTrim:
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		switch name {
		case TransformUpper:
			return strings.ToUpper(s), true
		case TransformLower:
			return strings.ToLower(s), true
		}
		return strings.TrimSpace(s), true
	case TransformNumber:
		switch x := v.(type) {
		case json.Number:
			return x, true
		case float64:
			return json.Number(strconv.FormatFloat(x, 'f', -1, 64)), true
		case string:
			s := strings.TrimSpace(x)
			if json.Valid([]byte(s)) {
				if _, err := strconv.ParseFloat(s, 64); err == nil && s != "" && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) {
					return json.Number(s), true
				}
			}
		}
		return nil, false
	case TransformString:
		switch x := v.(type) {
		case string:
			return x, true
		case json.Number:
			return x.String(), true
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), true
		case bool:
			return strconv.FormatBool(x), true
		}
		return nil, false
	case TransformDate, TransformDateTime:
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		s = strings.TrimSpace(s)
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			if name == TransformDateTime {
				return nil, false
			}
			if t, err = time.Parse(time.DateOnly, s); err != nil {
				return nil, false
			}
			return t.Format(time.DateOnly), true
		}
		if name == TransformDate {
			// The date as written, not shifted to UTC: a birthdate is a day.
			return t.Format(time.DateOnly), true
		}
		return formatTime(t), true
	}
	return nil, false
}

// formatTime renders t as vendors take event times: UTC, RFC 3339,
// milliseconds only when not zero.
func formatTime(t time.Time) string {
	t = t.UTC().Truncate(time.Millisecond)
	if t.Nanosecond() == 0 {
		return t.Format(time.RFC3339)
	}
	return t.Format("2006-01-02T15:04:05.000Z07:00")
}

// constant decodes a mapping's value or default (numbers as json.Number);
// an object or array stays its raw JSON.
func constant(raw json.RawMessage) (any, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, false
	}
	if raw[0] == '{' || raw[0] == '[' {
		return raw, true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

// translate looks v up in a mapping's values table.
func translate(values map[string]json.RawMessage, v any) (any, bool) {
	var key string
	switch x := v.(type) {
	case string:
		key = x
	case json.Number:
		key = x.String()
	case bool:
		key = strconv.FormatBool(x)
	default:
		return nil, false
	}
	raw, ok := values[key]
	if !ok {
		return nil, false
	}
	return constant(raw)
}
