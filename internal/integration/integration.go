// Package integration defines what a vendor package provides (a catalog
// entry, a payload builder and an answer classifier) and the registry that
// cmd/signal fills explicitly. Retry, back-off, rate limits and idempotency
// live in package delivery, once, for every vendor.
package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// Vendor is one destination (Omnisend, later Klaviyo, Customer.io…).
type Vendor interface {
	// Entry describes the vendor for the catalog and the install form.
	Entry() CatalogEntry
	// ValidateConfig checks an integration's config (field-naming errors:
	// signal.FieldErrorf(signal.EINVALID, "config.api_key", …)).
	ValidateConfig(cfg map[string]any) error
	// Payload builds the body to send for one mapped event. It is stored
	// and shown on Live Events exactly as sent.
	Payload(ev *Event) (json.RawMessage, error)
	// Request builds the HTTP request that sends payload with the
	// integration's current config (so a replaced key is used at once).
	Request(ctx context.Context, in *signal.Integration, payload json.RawMessage) (*http.Request, error)
	// Classify turns the vendor's answer (or the transport error) into an
	// outcome. body is at most a few KiB of the response. An error from
	// Request is classified too (resp nil, body nil): only the vendor knows
	// whether a request it could not build means a bad key (Pause) or a
	// bad event (Drop).
	Classify(resp *http.Response, body []byte, err error) Outcome

	// Calls lists the call types the vendor takes; an event of another
	// type is filtered (unsupported_type) before any payload is built.
	Calls() []CallType
	// Identified reports whether c carries an identifier the vendor keys
	// people by (Omnisend: email or phone; Klaviyo: email, phone or
	// external id). Without one the event is filtered (no_identifier).
	Identified(c Contact) bool
	// ValidateTarget checks one blueprint target (a vendor property name)
	// against the vendor's naming rule; the error says what is wrong
	// without naming the field (the caller adds the path).
	ValidateTarget(name string) error
	// RateLimitKey returns the secret that identifies the vendor account
	// an integration spends the budget of (two integrations with one key
	// share one limiter). The caller hashes it; it is never logged.
	RateLimitKey(in *signal.Integration) string
	// Timeout is the longest one request may take.
	Timeout() time.Duration
	// TestEvent is the event the integration page's "send test" sends to
	// the person c.
	TestEvent(in *signal.Integration, c Contact, now time.Time) *Event
}

// CallType is a Segment call type a vendor may take.
type CallType string

// Call types.
const (
	CallTrack    CallType = "track"
	CallPage     CallType = "page"
	CallIdentify CallType = "identify"
)

// Takes reports whether v declares call type c.
func Takes(v Vendor, c CallType) bool {
	for _, x := range v.Calls() {
		if x == c {
			return true
		}
	}
	return false
}

// Consent is the visitor's marketing consent as the event states it; each
// vendor decides how (and whether) to express it.
type Consent int

const (
	// ConsentUnknown: the event says nothing about marketing consent.
	ConsentUnknown Consent = iota
	// ConsentGranted: the visitor agreed to marketing.
	ConsentGranted
	// ConsentDenied: the visitor refused marketing.
	ConsentDenied
)

// String is the consent as the Management API shows it on a processed
// event ("subscribed", "unsubscribed", "nonSubscribed"): a display name,
// not a vendor value; each vendor maps Consent itself.
func (c Consent) String() string {
	switch c {
	case ConsentGranted:
		return "subscribed"
	case ConsentDenied:
		return "unsubscribed"
	}
	return "nonSubscribed"
}

// Event is a vendor-neutral event, mapped by the blueprint and enriched with
// the contact, ready for Payload.
type Event struct {
	IntegrationID string
	// PipelineID is the pipeline the message came in on: message ids are
	// the sender's, unique only within one pipeline.
	PipelineID      string
	MessageID       string
	VendorEventName string
	// Call is the event's call type (track, page or identify).
	Call      CallType
	Timestamp time.Time
	Contact   Contact
	// Consent is the visitor's marketing consent.
	Consent Consent
	// Properties are the mapped properties (for identify: the traits
	// other than the contact's own fields). Numbers are json.Number so
	// they keep their exact form.
	Properties map[string]any
	// Order lists Properties' keys in blueprint order, for a payload that
	// keeps it; keys not listed follow in sorted order.
	Order []string
	// EventVersion is the blueprint's vendor event version: nil sends
	// none, "" is sent as "" (vendors that have versions).
	EventVersion *string
	// Source says where the event came from, for vendors that record a
	// consent on the contact.
	Source EventSource
	// Config is the integration's config, for vendor options that shape
	// the payload (Omnisend's sync_consent). Read only.
	Config map[string]any
}

// EventSource is where and how an event was sent.
type EventSource struct {
	// Name is the sender's event name ("Signed Up"; "" for a page call).
	Name string
	// StatedConsent is the consent the event itself stated (Consent may
	// be one remembered from an earlier event).
	StatedConsent Consent
	// IP and UserAgent are the visitor's, from the event's context.ip and
	// context.userAgent ("" when absent).
	IP, UserAgent string
}

// Contact identifies the person an event is about, normalised (email trimmed
// and lower-cased, phone E.164).
type Contact struct {
	Email string
	Phone string
	// ExternalID is the sender's user id (userId).
	ExternalID string
	FirstName  string
	LastName   string
	// Fields are the blueprint's contact mappings (address, birthdate,
	// customProperties…), for vendors that keep them; keys in FieldOrder.
	Fields     map[string]any
	FieldOrder []string
}

// OutcomeKind says what to do after an attempt.
type OutcomeKind int

const (
	// Delivered: the vendor accepted the event.
	Delivered OutcomeKind = iota + 1
	// Retry: a transient failure (5xx, timeout, reset); try again with
	// back-off, spending an attempt.
	Retry
	// RateLimited: wait RetryAfter and try again without spending an attempt.
	RateLimited
	// Drop: the vendor refused this event for good (400); Reason says why.
	Drop
	// Pause: the vendor refused the integration (bad key, retired API);
	// hold every event of it, spending no attempts, until its config changes.
	Pause
)

func (k OutcomeKind) String() string {
	switch k {
	case Delivered:
		return "delivered"
	case Retry:
		return "retry"
	case RateLimited:
		return "rate_limited"
	case Drop:
		return "drop"
	case Pause:
		return "pause"
	}
	return fmt.Sprintf("outcome(%d)", int(k))
}

// Outcome is the classified answer to one attempt.
type Outcome struct {
	Kind OutcomeKind
	// Reason is a signal.Reason* code for Drop and Pause.
	Reason signal.Reason
	// RetryAfter is how long the vendor asked us to wait (0 if it did not).
	RetryAfter time.Duration
	// Status and Body are the vendor's answer, kept on the live event.
	Status int
	Body   string
	// Limit is what the vendor's rate-limit headers said, if anything.
	Limit *RateLimit
}

// RateLimit is the vendor's own account of its limit after an answer.
type RateLimit struct {
	// Limit is requests per window (0 if not said).
	Limit int
	// Remaining is requests left in the current window.
	Remaining int
	// Reset is the time until the window resets.
	Reset time.Duration
	// Window is the length of the window the limit counts over, when the
	// vendor states it; 0 when its headers do not say (Omnisend's), and
	// delivery learns it from the answers.
	Window time.Duration
}

// CatalogEntry describes a vendor in the integration catalog.
type CatalogEntry struct {
	Key           string        `json:"key"`
	Name          string        `json:"name"`
	Description   string        `json:"description"`
	Category      string        `json:"category"`
	CategoryLabel string        `json:"category_label"`
	Status        string        `json:"status"`
	Website       string        `json:"website,omitempty"`
	ConfigFields  []ConfigField `json:"config_fields"`
	Variants      []Variant     `json:"variants"`
	DeliveryModes []string      `json:"delivery_modes"`
	// RateLimit is the vendor's default request budget per minute per key.
	RateLimitPerMinute int `json:"rate_limit_per_minute,omitempty"`
	// SetupSteps are the install's steps as the integration page shows
	// them, in order.
	SetupSteps []string `json:"setup_steps,omitempty"`
}

// ConfigField is one field of the install form.
type ConfigField struct {
	Key         string `json:"key"`
	Label       string `json:"label"`
	Type        string `json:"type"` // secret, string, boolean
	Required    bool   `json:"required"`
	Placeholder string `json:"placeholder,omitempty"`
	HelpText    string `json:"help_text,omitempty"`
}

// Variant is a pre-built blueprint chosen at install.
type Variant struct {
	Key         string           `json:"key"`
	Name        string           `json:"name"`
	Description string           `json:"description"`
	Blueprint   signal.Blueprint `json:"default_blueprint"`
}

// Variant returns the entry's variant by key.
func (e CatalogEntry) Variant(key string) (Variant, bool) {
	for _, v := range e.Variants {
		if v.Key == key {
			return v, true
		}
	}
	return Variant{}, false
}

// Registry holds the vendors cmd/signal registers.
type Registry struct {
	vendors map[string]Vendor
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{vendors: map[string]Vendor{}} }

// Register adds a vendor under its catalog key; a duplicate or empty key is
// a programming error.
func (r *Registry) Register(v Vendor) {
	key := v.Entry().Key
	if key == "" {
		panic("integration: vendor with empty catalog key")
	}
	if _, dup := r.vendors[key]; dup {
		panic("integration: vendor registered twice: " + key)
	}
	r.vendors[key] = v
}

// Vendor returns the vendor of a catalog key.
func (r *Registry) Vendor(key string) (Vendor, bool) {
	v, ok := r.vendors[key]
	return v, ok
}

// Entries lists the catalog, by key.
func (r *Registry) Entries() []CatalogEntry {
	out := make([]CatalogEntry, 0, len(r.vendors))
	for _, v := range r.vendors {
		out = append(out, v.Entry())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
