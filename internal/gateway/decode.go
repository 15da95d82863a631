package gateway

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/signalhq/signal/internal/jsonscan"
	"github.com/signalhq/signal/internal/signal"
)

// errTooLarge means the body passed MAX_PAYLOAD_SIZE (after decompression).
var errTooLarge = errors.New("body too large")

// readAll reads r up to max+1 bytes (one more tells a body over max). A
// declared length within max sizes the buffer at once: io.ReadAll starts at
// 512 bytes and regrows, five copies for a batch of 20 events.
func readAll(r io.Reader, declared, max int64) ([]byte, error) {
	var b bytes.Buffer
	if declared > 0 && declared <= max {
		b.Grow(int(declared) + bytes.MinRead)
	}
	_, err := b.ReadFrom(io.LimitReader(r, max+1))
	return b.Bytes(), err
}

// readBody reads the request body, gunzipping it when it is gzip (by
// Content-Encoding or by its magic bytes, since some SDKs mislabel it), and
// enforces max on the decompressed size. It returns the body as sent on the
// wire too, for signature checks.
func readBody(r *http.Request, max int64) (body, wire []byte, err error) {
	wire, err = readAll(r.Body, r.ContentLength, max)
	if err != nil {
		return nil, nil, &bodyError{err: err}
	}
	gz := strings.EqualFold(strings.TrimSpace(r.Header.Get("Content-Encoding")), "gzip") ||
		(len(wire) > 2 && wire[0] == 0x1f && wire[1] == 0x8b)
	if !gz {
		if int64(len(wire)) > max {
			return nil, nil, errTooLarge
		}
		return wire, wire, nil
	}
	if int64(len(wire)) > max {
		// A compressed body larger than the limit cannot decompress to
		// less than it in practice.
		return nil, nil, errTooLarge
	}
	zr, err := gzip.NewReader(bytes.NewReader(wire))
	if err != nil {
		return nil, nil, signal.Errorf(signal.EINVALID, "body is labelled gzip but is not valid gzip: %v", err)
	}
	body, err = readAll(zr, -1, max)
	if err != nil {
		return nil, nil, signal.Errorf(signal.EINVALID, "body is labelled gzip but is not valid gzip: %v", err)
	}
	if int64(len(body)) > max {
		return nil, nil, errTooLarge
	}
	return body, wire, nil
}

// bodyError is a body the client did not finish sending: it went away
// (400) or stalled past the read deadline (408). The client's doing, not
// the server's: never a 5xx, never an error-level log line.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "read body: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

func (e *bodyError) timeout() bool {
	var ne interface{ Timeout() bool }
	return errors.Is(e.err, os.ErrDeadlineExceeded) || (errors.As(e.err, &ne) && ne.Timeout())
}

// jsonError turns a json decode error into a message naming where it is.
func jsonError(err error, what string) *signal.Error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return signal.Errorf(signal.EINVALID, "%s is not valid JSON: %s (at byte %d)", what, syn.Error(), syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return signal.Errorf(signal.EINVALID, "%s must be a JSON object", what)
		}
		return signal.FieldErrorf(signal.EINVALID, field, "%s must be a %s, not a JSON %s", field, jsonKind(typ.Type), typ.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return signal.Errorf(signal.EINVALID, "%s is empty or truncated JSON", what)
	}
	return signal.Errorf(signal.EINVALID, "%s is not valid JSON: %v", what, err)
}

func jsonKind(t any) string {
	s := fmt.Sprint(t)
	switch {
	case s == "string", s == "signal.ID":
		return "string"
	case strings.HasPrefix(s, "[]"):
		return "array"
	case strings.HasPrefix(s, "map"), strings.HasPrefix(s, "struct"), s == "json.RawMessage":
		return "JSON object"
	}
	return s
}

// messageDefaults are what the route implies for a message.
type messageDefaults struct {
	Type       string // the route's type ("" for batch routes: the message says)
	PipelineID string
	Cookie     string // _dfid, used when the message has no ids
	ReceivedAt time.Time
	MaxEvent   int
	SentAt     string // the batch's sentAt, for messages without their own
	Trust      string // signal.Trust*: how the route knew the sender
}

// decodeMessage decodes and validates one message and turns it into an
// event. Errors name the field at fault.
func decodeMessage(raw []byte, d messageDefaults) (*signal.Event, string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > d.MaxEvent {
		return nil, "", signal.Errorf("EVENT_TOO_LARGE", "event is %d bytes; at most %d are accepted per event", len(raw), d.MaxEvent)
	}
	if err := checkValues(raw, ""); err != nil {
		return nil, "", err
	}
	m, err := parseMessage(raw)
	if err != nil {
		return nil, "", err
	}
	typ := m.Type
	switch {
	case typ == "" && d.Type != "":
		typ = d.Type
	case typ == "":
		return nil, "", signal.FieldErrorf(signal.EINVALID, "type", "type is required: one of track, page, screen, identify, group, alias")
	case d.Type != "" && typ != d.Type:
		return nil, "", signal.FieldErrorf(signal.EINVALID, "type", "type %q does not match this route, which takes %q events", clip(typ), d.Type)
	}
	name := ""
	switch typ {
	case signal.TypeTrack:
		if strings.TrimSpace(m.Event) == "" {
			return nil, "", signal.FieldErrorf(signal.EINVALID, "event", "event is required for track calls (the event name, e.g. \"Order Completed\")")
		}
		name = m.Event
	case signal.TypePage, signal.TypeScreen:
		name = m.Name
	}
	// The name is indexed for Live Events' filter: PostgreSQL refuses an
	// index entry over 2,704 bytes, which would fail the whole commit.
	if len(name) > maxNameBytes {
		field := "event"
		if typ != signal.TypeTrack {
			field = "name"
		}
		return nil, "", signal.FieldErrorf(signal.EINVALID, field, "%s is %d bytes long; at most %d are accepted", field, len(name), maxNameBytes)
	}
	switch typ {
	case signal.TypeTrack, signal.TypePage, signal.TypeScreen, signal.TypeIdentify, signal.TypeAlias:
	case signal.TypeGroup:
		if m.GroupID == "" {
			return nil, "", signal.FieldErrorf(signal.EINVALID, "groupId", "groupId is required for group calls")
		}
	default:
		return nil, "", signal.FieldErrorf(signal.EINVALID, "type", "type %q is not one of track, page, screen, identify, group, alias", clip(typ))
	}
	if typ == signal.TypeAlias && m.PreviousID == "" {
		return nil, "", signal.FieldErrorf(signal.EINVALID, "previousId", "previousId is required for alias calls")
	}
	if len(m.MessageID) > 255 {
		return nil, "", signal.FieldErrorf(signal.EINVALID, "messageId", "messageId is longer than 255 characters")
	}
	userID, anonID := string(m.UserID), string(m.AnonymousID)
	fromCookie := false
	if userID == "" && anonID == "" && d.Cookie != "" {
		anonID, fromCookie = d.Cookie, true
	}
	if userID == "" && anonID == "" {
		return nil, "", signal.FieldErrorf(signal.EINVALID, "userId", "userId or anonymousId is required")
	}
	if m.SentAt == "" {
		m.SentAt = d.SentAt
	}
	ts, err := eventTime(m, d.ReceivedAt)
	if err != nil {
		return nil, "", err
	}
	msgID := string(m.MessageID)
	if msgID == "" {
		msgID = uuid.NewString()
	}
	payload := raw
	if m.WriteKey != "" {
		payload, err = withoutWriteKey(raw)
		if err != nil {
			return nil, "", jsonError(err, "event")
		}
	}
	if fromCookie {
		payload, err = withAnonymousID(payload, anonID)
		if err != nil {
			return nil, "", jsonError(err, "event")
		}
	}
	return &signal.Event{
		MessageID:   msgID,
		PipelineID:  d.PipelineID,
		Type:        typ,
		Event:       name,
		UserID:      userID,
		AnonymousID: anonID,
		Timestamp:   ts,
		ReceivedAt:  d.ReceivedAt,
		Trust:       d.Trust,
		Payload:     payload,
	}, m.WriteKey, nil
}

// eventTime resolves when an event happened: timestamp; else
// originalTimestamp corrected for the client's clock skew (receivedAt -
// sentAt), as Segment does; else the receipt time.
func eventTime(m signal.Message, received time.Time) (time.Time, error) {
	parse := func(field, v string) (time.Time, error) {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return time.Time{}, signal.FieldErrorf(signal.EINVALID, field, "%s %q is not an ISO 8601 / RFC 3339 date-time (e.g. 2026-11-27T10:00:00Z)", field, clip(v))
		}
		return t.UTC(), inRange(field, t, received)
	}
	if m.Timestamp != "" {
		return parse("timestamp", m.Timestamp)
	}
	if m.OriginalTimestamp != "" {
		orig, err := parse("originalTimestamp", m.OriginalTimestamp)
		if err != nil {
			return time.Time{}, err
		}
		if m.SentAt != "" {
			sent, err := parse("sentAt", m.SentAt)
			if err != nil {
				return time.Time{}, err
			}
			ts := orig.Add(received.Sub(sent))
			return ts, inRange("originalTimestamp", ts, received)
		}
		return orig, nil
	}
	return received, nil
}

// Event times outside [minEventTime, receipt + maxAhead] are refused:
// Omnisend refuses or misfiles them (year 0, 9999-12-31), and no real
// clock is that wrong. A day ahead allows any time zone mistake.
var minEventTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

const maxAhead = 24 * time.Hour

// maxNameBytes bounds a track event's or a page's name.
const maxNameBytes = 1024

func inRange(field string, t, received time.Time) error {
	if t.Before(minEventTime) {
		return signal.FieldErrorf(signal.EINVALID, field, "%s %s is before 2000", field, t.UTC().Format(time.RFC3339))
	}
	if t.After(received.Add(maxAhead)) {
		return signal.FieldErrorf(signal.EINVALID, field, "%s %s is more than a day ahead of the server's clock", field, t.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkValues refuses, naming the field, a string with invalid UTF-8
// (decoders would silently alter it) or a number that does not fit a double
// (1e999999: decoders fail or read infinity). prefix names doc's place in
// the body ("" for a message). One allocation-free scan when all is well.
func checkValues(doc []byte, prefix string) error {
	off, p := jsonscan.BadValue(doc)
	if p == jsonscan.NoProblem {
		return nil
	}
	field := jsonscan.PathTo(doc, off)
	if prefix != "" {
		field = strings.TrimSuffix(prefix+"."+field, ".")
	}
	if field == "" {
		field = "body"
	}
	if p == jsonscan.BadUTF8 {
		return signal.FieldErrorf(signal.EINVALID, field, "%s is not valid UTF-8: send text as UTF-8", field)
	}
	return signal.FieldErrorf(signal.EINVALID, field, "%s is a number too large for a double (at most about 1.8e308)", field)
}

// withoutWriteKey re-encodes a message without its writeKey: a pipeline key
// is a credential and is not kept with the event.
func withoutWriteKey(raw []byte) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	delete(obj, "writeKey")
	return json.Marshal(obj)
}

// withAnonymousID sets the anonymousId taken from the _dfid cookie on a
// message (a JSON object) that has no ids. An anonymousId it holds (null or
// empty, under any spelling of the key) is replaced, not kept beside it:
// the processor reads the last copy of a key. The message is re-encoded,
// as for withoutWriteKey; Datafly.js always sends an id, so this is rare.
func withAnonymousID(obj []byte, id string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		return nil, err
	}
	field, err := json.Marshal(id)
	if err != nil {
		return nil, err
	}
	m["anonymousId"] = field
	return json.Marshal(m)
}

// clip shortens a caller-supplied value quoted back in an error.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
