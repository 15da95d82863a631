package klaviyo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

// uniqueIDNamespace is the UUID v5 namespace of unique_id. It must never
// change: Klaviyo drops an event whose unique_id it has seen, which is what
// makes a retry after a lost answer harmless.
var uniqueIDNamespace = uuid.MustParse("3f1d4c8e-2a57-4b7e-9a0c-6a1f0e2b9d41")

// UniqueID is the unique_id of a message sent through an integration: a
// name-based UUID of integrationID/pipelineID/messageID (message ids are
// the sender's, unique only within a pipeline).
func UniqueID(integrationID, pipelineID, messageID string) string {
	return uuid.NewSHA1(uniqueIDNamespace, []byte(integrationID+"/"+pipelineID+"/"+messageID)).String()
}

type document struct {
	Data any `json:"data"`
}

type eventData struct {
	Type       string          `json:"type"`
	Attributes eventAttributes `json:"attributes"`
}

type eventAttributes struct {
	Properties    map[string]any `json:"properties"`
	Time          string         `json:"time,omitempty"`
	Value         any            `json:"value,omitempty"`
	ValueCurrency string         `json:"value_currency,omitempty"`
	UniqueID      string         `json:"unique_id"`
	Metric        document       `json:"metric"`
	Profile       document       `json:"profile"`
}

type metricData struct {
	Type       string           `json:"type"`
	Attributes metricAttributes `json:"attributes"`
}

type metricAttributes struct {
	Name string `json:"name"`
}

type profileData struct {
	Type       string            `json:"type"`
	Attributes profileAttributes `json:"attributes"`
}

type profileAttributes struct {
	Email       string         `json:"email,omitempty"`
	PhoneNumber string         `json:"phone_number,omitempty"`
	ExternalID  string         `json:"external_id,omitempty"`
	FirstName   string         `json:"first_name,omitempty"`
	LastName    string         `json:"last_name,omitempty"`
	Properties  map[string]any `json:"properties,omitempty"`
}

// Payload builds the JSON:API document for ev: an event (track, page) for
// POST /api/events, or a profile (identify) for POST /api/profile-import.
//
// An event's properties are the mapped properties; "value" (a number) moves
// to attributes.value and "currency" to value_currency. time is the
// event's timestamp (RFC 3339, UTC). unique_id is UniqueID, the same on
// every try. Consent is not sent: Klaviyo records it through its
// subscription APIs, not event properties.
func (v *Vendor) Payload(ev *integration.Event) (json.RawMessage, error) {
	if ev == nil {
		return nil, signal.Errorf(signal.EINVALID, "klaviyo: payload: no event")
	}
	if !v.Identified(ev.Contact) {
		return nil, signal.Errorf(signal.EINVALID, "klaviyo: payload: the profile has no email, phone number or external id")
	}
	prof := profileAttributes{
		Email: ev.Contact.Email, PhoneNumber: ev.Contact.Phone, ExternalID: ev.Contact.ExternalID,
		FirstName: ev.Contact.FirstName, LastName: ev.Contact.LastName,
	}
	var doc document
	if ev.Call == integration.CallIdentify {
		if len(ev.Properties) > 0 {
			prof.Properties = ev.Properties
		}
		doc.Data = profileData{Type: "profile", Attributes: prof}
		return encode(doc, ProfileImportName)
	}
	if ev.VendorEventName == "" {
		return nil, signal.Errorf(signal.EINVALID, "klaviyo: payload: the event has no metric name")
	}
	if ev.IntegrationID == "" || ev.PipelineID == "" || ev.MessageID == "" {
		return nil, signal.Errorf(signal.EINVALID, "klaviyo: payload: an integration id, a pipeline id and a message id are needed for the unique_id")
	}
	attrs := eventAttributes{
		Properties: make(map[string]any, len(ev.Properties)),
		Time:       formatTime(ev.Timestamp),
		UniqueID:   UniqueID(ev.IntegrationID, ev.PipelineID, ev.MessageID),
		Metric:     document{Data: metricData{Type: "metric", Attributes: metricAttributes{Name: ev.VendorEventName}}},
		Profile:    document{Data: profileData{Type: "profile", Attributes: prof}},
	}
	for k, val := range ev.Properties {
		attrs.Properties[k] = val
	}
	if n, ok := number(attrs.Properties["value"]); ok {
		attrs.Value = n
		delete(attrs.Properties, "value")
	}
	if c, ok := attrs.Properties["currency"].(string); ok && c != "" {
		attrs.ValueCurrency = c
		delete(attrs.Properties, "currency")
	}
	doc.Data = eventData{Type: "event", Attributes: attrs}
	return encode(doc, ev.VendorEventName)
}

// number returns v when it is a JSON number (Klaviyo's value must be one).
func number(v any) (any, bool) {
	switch x := v.(type) {
	case json.Number:
		return x, true
	case float64, int, int64:
		return x, true
	}
	return nil, false
}

func encode(doc document, name string) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		// The error names a type or an invalid number, never a value.
		return nil, fmt.Errorf("klaviyo: payload for %q: %w", name, err)
	}
	return json.RawMessage(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// formatTime renders t as RFC 3339 in UTC, milliseconds only when not zero.
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
