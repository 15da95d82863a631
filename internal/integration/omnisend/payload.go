package omnisend

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

// eventIDNamespace is the UUID v5 namespace of Omnisend event IDs. It must
// never change: the same integration, pipeline and message must give the same
// eventID on every retry, on every node and across releases.
var eventIDNamespace = uuid.MustParse("7edc88e0-8090-4f6a-8bd6-d323de5242f7")

// maxNameLen is Omnisend's limit on contact.firstName and lastName.
const maxNameLen = 50

// origin tells Omnisend the event comes from the store's own server.
const origin = "api"

// EventID returns the eventID of a message sent through an integration: a
// name-based UUID (version 5) of integrationID + "/" + pipelineID + "/" +
// messageID. The pipeline is part of it because message ids are chosen by
// senders: two pipelines (two shops) may use the same one, and Omnisend
// would drop the second as a duplicate. Integration and pipeline ids never
// hold "/", so only the last part may and no two triples share a name.
func EventID(integrationID, pipelineID, messageID string) string {
	return uuid.NewSHA1(eventIDNamespace, []byte(integrationID+"/"+pipelineID+"/"+messageID)).String()
}

// body is the request body, fields in the order Omnisend documents them.
type body struct {
	EventName string `json:"eventName"`
	Origin    string `json:"origin"`
	// EventVersion is left out when the blueprint names none; a
	// recommended event's "" is sent as "".
	EventVersion *string       `json:"eventVersion,omitempty"`
	EventID      string        `json:"eventID"`
	EventTime    string        `json:"eventTime,omitempty"`
	Contact      contactBody   `json:"contact"`
	Properties   orderedObject `json:"properties"`
}

type contactBody struct {
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	// Consents, OptIns and OptOuts record the visitor's marketing
	// consent on the contact (sync_consent; see syncConsent).
	Consents []consentBody `json:"consents,omitempty"`
	OptIns   []optBody     `json:"optIns,omitempty"`
	OptOuts  []optBody     `json:"optOuts,omitempty"`
	// fields are the blueprint's contact mappings (address, birthdate,
	// customProperties…), written after the identifiers in their order.
	fields orderedObject
}

// contactFields are the keys contactBody writes itself; a contact mapping
// cannot replace them.
var contactFields = map[string]bool{"email": true, "phone": true, "firstName": true, "lastName": true,
	"consents": true, "optIns": true, "optOuts": true}

// MarshalJSON writes the identifiers, then the mapped fields.
func (c contactBody) MarshalJSON() ([]byte, error) {
	type plain contactBody
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // a name keeps its & as before contact fields
	if err := enc.Encode(plain(c)); err != nil {
		return nil, err
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(c.fields.m) == 0 {
		return b, nil
	}
	m := make(map[string]any, len(c.fields.m))
	for k, v := range c.fields.m {
		if !contactFields[k] && v != nil {
			m[k] = v
		}
	}
	if len(m) == 0 {
		return b, nil
	}
	extra, err := orderedObject{m: m, order: c.fields.order}.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("contact: %w", err)
	}
	if len(b) == 2 { // {}
		return extra, nil
	}
	out := append(b[:len(b)-1:len(b)-1], ',')
	return append(out, extra[1:]...), nil
}

// Payload builds the JSON body for ev: eventName, origin "api", eventID,
// eventTime, contact, properties, in that order; compact, without HTML
// escaping (URLs keep their &).
//
// eventTime is ev.Timestamp in UTC, RFC 3339 with milliseconds when it has
// any ("2024-05-01T10:00:00.123Z"); it is left out when ev.Timestamp is
// zero (Omnisend then uses the time of receipt). The contact's email and
// phone are sent as given (the caller normalises them); names are trimmed
// and cut to Omnisend's 50 characters; empty fields are left out.
// Properties are written in ev.Order, then any others in sorted order;
// json.Number and json.RawMessage values are written verbatim.
func (v *Vendor) Payload(ev *integration.Event) (json.RawMessage, error) {
	if ev == nil {
		return nil, signal.Errorf(signal.EINVALID, "omnisend: payload: no event")
	}
	if ev.VendorEventName == "" {
		return nil, signal.Errorf(signal.EINVALID, "omnisend: payload: the event has no Omnisend event name")
	}
	if ev.IntegrationID == "" || ev.PipelineID == "" || ev.MessageID == "" {
		return nil, signal.Errorf(signal.EINVALID, "omnisend: payload: an integration id, a pipeline id and a message id are needed for the eventID")
	}
	if ev.Contact.Email == "" && ev.Contact.Phone == "" {
		return nil, signal.Errorf(signal.EINVALID, "omnisend: payload: the contact has no email or phone")
	}
	props, order := withConsent(ev)
	b := body{
		EventName:    ev.VendorEventName,
		Origin:       origin,
		EventID:      EventID(ev.IntegrationID, ev.PipelineID, ev.MessageID),
		EventVersion: ev.EventVersion,
		EventTime:    formatTime(ev.Timestamp),
		Contact: contactBody{
			Email:     ev.Contact.Email,
			Phone:     ev.Contact.Phone,
			FirstName: name(ev.Contact.FirstName),
			LastName:  name(ev.Contact.LastName),
			fields:    orderedObject{m: ev.Contact.Fields, order: ev.Contact.FieldOrder},
		},
		Properties: orderedObject{m: props, order: order},
	}
	syncConsent(&b.Contact, ev)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(b); err != nil {
		// The error names a type or an invalid number, never a value.
		return nil, fmt.Errorf("omnisend: payload for %q: %w", ev.VendorEventName, err)
	}
	return json.RawMessage(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// formatTime renders t for eventTime: UTC, RFC 3339, milliseconds only when
// not zero.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC().Truncate(time.Millisecond)
	if t.Nanosecond() == 0 {
		return t.Format(time.RFC3339)
	}
	return t.Format("2006-01-02T15:04:05.000Z07:00")
}

// name trims s and cuts it to maxNameLen characters.
func name(s string) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= maxNameLen {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:maxNameLen]))
}

// orderedObject writes a map as a JSON object with its keys in order first
// (unknown and repeated names skipped), then the others sorted.
type orderedObject struct {
	m     map[string]any
	order []string
}

// MarshalJSON implements json.Marshaler, without HTML escaping.
func (o orderedObject) MarshalJSON() ([]byte, error) {
	keys := make([]string, 0, len(o.m))
	placed := make(map[string]bool, len(o.m))
	for _, k := range o.order {
		if _, ok := o.m[k]; ok && !placed[k] {
			placed[k] = true
			keys = append(keys, k)
		}
	}
	rest := make([]string, 0, len(o.m)-len(keys))
	for k := range o.m {
		if !placed[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	keys = append(keys, rest...)

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(k); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
		buf.WriteByte(':')
		if err := enc.Encode(o.m[k]); err != nil {
			return nil, fmt.Errorf("property %q: %w", k, err)
		}
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
