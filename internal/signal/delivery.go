package signal

import (
	"encoding/json"
	"time"
)

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// Delivery statuses, as Live Events shows them.
const (
	StatusPending   DeliveryStatus = "pending"
	StatusDelivered DeliveryStatus = "delivered"
	StatusFiltered  DeliveryStatus = "filtered"
	StatusFailed    DeliveryStatus = "failed"
	StatusPaused    DeliveryStatus = "paused"
)

// Reason is why an event was not (yet) delivered, as a code.
type Reason string

// Reasons an event was not delivered, in the words Live Events uses. The UI
// turns each into a sentence a marketer understands (see ReasonText).
const (
	ReasonNoIntegration       Reason = "no_integration"
	ReasonNoIdentifier        Reason = "no_identifier"
	ReasonInvalidEmail        Reason = "invalid_email"
	ReasonEventNotEnabled     Reason = "event_not_enabled"
	ReasonConsentDenied       Reason = "consent_denied"
	ReasonIntegrationDisabled Reason = "integration_disabled"
	ReasonIntegrationDeleted  Reason = "integration_deleted"
	ReasonVendorRejected      Reason = "vendor_rejected"
	ReasonAuthFailed          Reason = "auth_failed"
	ReasonRetriesExhausted    Reason = "retries_exhausted"
	ReasonAPIVersionRetired   Reason = "api_version_retired"
	ReasonDryRun              Reason = "dry_run"
	ReasonDuplicate           Reason = "duplicate"
	ReasonExpired             Reason = "expired"
	ReasonUnsupportedType     Reason = "unsupported_type"
	ReasonPayloadError        Reason = "payload_error"
	ReasonUnreadableEvent     Reason = "unreadable_event"
	ReasonRetrying            Reason = "retrying"
	ReasonRateLimited         Reason = "rate_limited"
	ReasonContactErased       Reason = "contact_erased"
)

// ReasonText explains a reason code to a marketer.
func ReasonText(reason Reason) string {
	switch reason {
	case ReasonNoIntegration:
		return "No integration receives events from this pipeline yet."
	case ReasonNoIdentifier:
		return "The visitor had no email or phone yet, so the vendor cannot match a contact. Call identify() before tracking."
	case ReasonInvalidEmail:
		return "The visitor's email address is not a valid address and no other identifier was given, so the vendor cannot match a contact. Check the email the site or backend sends."
	case ReasonEventNotEnabled:
		return "This event is not enabled in the integration's blueprint."
	case ReasonConsentDenied:
		return "The visitor did not consent to marketing."
	case ReasonIntegrationDisabled:
		return "The integration is disabled."
	case ReasonIntegrationDeleted:
		return "The integration was deleted before this event was sent."
	case ReasonVendorRejected:
		return "The vendor refused the event as invalid; see its response."
	case ReasonAuthFailed:
		return "The vendor refused the API key. Events wait and are sent once the key is replaced."
	case ReasonRetriesExhausted:
		return "The vendor was unreachable or failing for 24 hours. The event can be replayed."
	case ReasonAPIVersionRetired:
		return "The vendor retired the API version this integration uses (it answered 410 Gone). Switch the integration's api_version setting to a current dated version, such as 2026-03-15, in its settings; no reinstall is needed. Events wait, spending no attempts, and flow again once it is changed."
	case ReasonDryRun:
		return "Dry run: the payload was built but not sent."
	case ReasonDuplicate:
		return "A message with the same id reached this integration in the last 24 hours; only its first copy is sent."
	case ReasonExpired:
		return "The event waited longer than its blueprint's max_age and was no longer worth sending."
	case ReasonUnsupportedType:
		return "This kind of call (identify, group, alias or screen) is not sent to this vendor; an identify's traits still reach later events."
	case ReasonUnreadableEvent:
		return "The stored event could not be read back, so it was not processed. Please report it: this is a Signal bug."
	case ReasonPayloadError:
		return "The vendor's payload could not be built from this event; see the note."
	case ReasonRetrying:
		return "The vendor failed to answer; Signal retries with back-off."
	case ReasonRateLimited:
		return "The vendor's rate limit was reached; the event waits its turn."
	case ReasonContactErased:
		return "The contact's data was erased on request before this event was sent, so it was not sent."
	}
	return ""
}

// Delivery is one event on its way to one integration: the row Live Events
// shows.
type Delivery struct {
	ID            int64
	EventSeq      int64
	MessageID     string
	PipelineID    string
	IntegrationID string
	Type          string
	Event         string
	Status        DeliveryStatus
	Reason        Reason
	Note          string
	// Warnings say what was noticed but did not stop the delivery (a
	// property whose type changed). Property names only, never values.
	Warnings        []Warning
	VendorEventName string
	Priority        int
	// ContactKey identifies the contact (a keyed hash, never the address)
	// so that one contact's events are delivered in order.
	ContactKey    string
	Attempts      int
	NextAttemptAt time.Time
	// LeaseUntil is the lease a claim took; finishing checks it is still
	// the one held.
	LeaseUntil     time.Time
	ExpiresAt      time.Time
	VendorStatus   int
	VendorResponse string
	Payload        json.RawMessage
	ReceivedAt     time.Time
	// CreatedAt is when the delivery was queued (or requeued by a
	// replay) and, from its first transient failure on, when its retries
	// began: the 24 h retry window counts from it. It and ExpiresAt move
	// on by the length of a pause when the integration flows again.
	CreatedAt time.Time
	UpdatedAt time.Time
	// BackfillID marks a delivery built from a backfill's line: the live
	// claim skips it; the backfill sender sends it in a vendor batch.
	BackfillID string
	// Signed is whether the event came signed (TrustSigned). It scopes
	// the duplicate window when the delivery is recorded (an unsigned
	// event never suppresses a signed one) and is not stored.
	Signed bool
	// Attempt is the vendor request just made, kept with the delivery's
	// last attempts by FinishDeliveries (nil: none was made, e.g. a claim
	// given back).
	Attempt *Attempt
}

// Warning is something a Live Events row says beside its status and
// reason: the event was still sent.
type Warning struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WarningPropertyTypeChanged: a property's JSON type differs from the one
// it was first sent with (vendors such as Omnisend refuse the change).
const WarningPropertyTypeChanged = "property_type_changed"

// Attempt is one vendor request of a delivery, as Live Events shows it.
// Error says why no answer came (a transport failure); VendorResponse is
// the vendor's body when one did.
type Attempt struct {
	At             time.Time `json:"at"`
	VendorStatus   int       `json:"vendor_status"`
	VendorResponse string    `json:"vendor_response"`
	DurationMS     int64     `json:"duration_ms"`
	Error          string    `json:"error"`
}

// Processed is an event after identity and consent, vendor-neutral: who it
// is about and the profile traits its payloads were built from.
type Processed struct {
	UserID      string         `json:"user_id"`
	AnonymousID string         `json:"anonymous_id"`
	Traits      map[string]any `json:"traits"`
	Consent     string         `json:"consent"`
}

// LiveEventDetail is a Live Events row with every stage of the event.
// Processed is null for an event not processed yet (or processed before
// Signal kept it).
type LiveEventDetail struct {
	*LiveEvent
	Processed json.RawMessage `json:"processed"`
	Attempts  []Attempt       `json:"attempts"`
}

// LiveEvent is one row of Live Events: an event and what happened to it on
// one integration (or, before processing or without integrations, on none).
type LiveEvent struct {
	ID              string          `json:"id"`
	MessageID       string          `json:"message_id"`
	ReceivedAt      time.Time       `json:"received_at"`
	PipelineID      string          `json:"pipeline_id"`
	Type            string          `json:"type"`
	Event           string          `json:"event"`
	IntegrationID   string          `json:"integration_id"`
	Status          DeliveryStatus  `json:"status"`
	Reason          Reason          `json:"reason"`
	ReasonText      string          `json:"reason_text,omitempty"`
	Note            string          `json:"note,omitempty"`
	Warnings        []Warning       `json:"warnings,omitempty"`
	VendorEventName string          `json:"vendor_event_name"`
	Attempts        int             `json:"attempts"`
	VendorStatus    int             `json:"vendor_status"`
	VendorResponse  string          `json:"vendor_response"`
	Payload         json.RawMessage `json:"payload"`
	// NextAttemptAt is when a pending delivery that failed is tried again.
	NextAttemptAt *time.Time      `json:"next_attempt_at,omitempty"`
	Input         json.RawMessage `json:"input,omitempty"`
	UpdatedAt     time.Time       `json:"updated_at"`
}

// RateLimitState is a vendor API key's rate limit as the delivery engine
// knows it: requests per window, what remains of the current one and the
// requests this node sent in the last minute.
type RateLimitState struct {
	Limit          int `json:"limit"`
	Remaining      int `json:"remaining"`
	WindowSeconds  int `json:"window_seconds"`
	UsedLastMinute int `json:"used_last_minute"`
}
