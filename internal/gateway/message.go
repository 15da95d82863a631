package gateway

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/signalhq/signal/internal/jsonscan"
	"github.com/signalhq/signal/internal/signal"
)

// parseMessage reads the fields of one message that the gateway needs,
// from a document already checked as valid JSON: one byte scan, no decoding
// of properties, traits or context (they are kept raw and only checked to be
// objects). Keys match exactly, as Segment writes them. Errors name the
// field.
func parseMessage(raw []byte) (signal.Message, error) {
	var m signal.Message
	var ferr error
	ok, _ := jsonscan.Members(raw, func(k []byte, escaped bool, v []byte) error {
		key := string(k)
		if escaped {
			if err := json.Unmarshal(append(append([]byte{'"'}, k...), '"'), &key); err != nil {
				return nil // not a key we read
			}
		}
		switch key {
		case "type":
			m.Type, ferr = stringField(key, v)
		case "event":
			m.Event, ferr = stringField(key, v)
		case "name":
			m.Name, ferr = stringField(key, v)
		case "timestamp":
			m.Timestamp, ferr = stringField(key, v)
		case "originalTimestamp":
			m.OriginalTimestamp, ferr = stringField(key, v)
		case "sentAt":
			m.SentAt, ferr = stringField(key, v)
		case "writeKey":
			m.WriteKey, ferr = stringField(key, v)
		case "userId":
			m.UserID, ferr = idField(key, v)
		case "anonymousId":
			m.AnonymousID, ferr = idField(key, v)
		case "groupId":
			m.GroupID, ferr = idField(key, v)
		case "previousId":
			m.PreviousID, ferr = idField(key, v)
		case "messageId":
			m.MessageID, ferr = idField(key, v)
		case "properties":
			m.Properties, ferr = objectField(key, v)
		case "traits":
			m.Traits, ferr = objectField(key, v)
		case "context":
			m.Context, ferr = objectField(key, v)
		}
		return ferr
	})
	if ferr != nil {
		return m, ferr
	}
	if !ok {
		return m, signal.Errorf(signal.EINVALID, "event must be a JSON object")
	}
	return m, nil
}

func isNull(v []byte) bool { return len(v) == 4 && string(v) == "null" }

// jsonKind names the kind of a raw JSON value for error messages.
func rawKind(v []byte) string {
	switch {
	case len(v) == 0:
		return "nothing"
	case v[0] == '"':
		return "string"
	case v[0] == '{':
		return "object"
	case v[0] == '[':
		return "array"
	case v[0] == 't' || v[0] == 'f':
		return "boolean"
	}
	return "number"
}

func stringField(name string, v []byte) (string, error) {
	if isNull(v) {
		return "", nil
	}
	if len(v) < 2 || v[0] != '"' {
		return "", signal.FieldErrorf(signal.EINVALID, name, "%s must be a string, not a JSON %s", name, rawKind(v))
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", signal.FieldErrorf(signal.EINVALID, name, "%s is not a valid JSON string", name)
	}
	// Only an escape can put a NUL in a JSON string; databases refuse it
	// in text, so it is refused here, for this event alone.
	if strings.IndexByte(s, 0) >= 0 {
		return "", signal.FieldErrorf(signal.EINVALID, name, "%s must not contain a NUL character (\\u0000)", name)
	}
	return s, nil
}

// idField reads an id given as a string or a number (Segment libraries
// accept both for userId).
func idField(name string, v []byte) (signal.ID, error) {
	if len(v) > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) {
		if _, err := strconv.ParseFloat(string(v), 64); err != nil {
			return "", signal.FieldErrorf(signal.EINVALID, name, "%s is not a valid number", name)
		}
		return signal.ID(v), nil
	}
	if len(v) > 0 && v[0] != '"' && !isNull(v) {
		return "", signal.FieldErrorf(signal.EINVALID, name, "%s must be a string or a number, not a JSON %s", name, rawKind(v))
	}
	s, err := stringField(name, v)
	return signal.ID(s), err
}

func objectField(name string, v []byte) (json.RawMessage, error) {
	if isNull(v) {
		return nil, nil
	}
	if v[0] != '{' {
		return nil, signal.FieldErrorf(signal.EINVALID, name, "%s must be a JSON object", name)
	}
	return v, nil
}
