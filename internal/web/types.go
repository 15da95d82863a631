package web

import (
	"encoding/json"
	"time"
)

// The API's shapes, as much of them as the pages show.

type integrationJSON struct {
	ID           string         `json:"id"`
	CatalogKey   string         `json:"catalog_key"`
	Name         string         `json:"name"`
	Variant      string         `json:"variant"`
	DeliveryMode string         `json:"delivery_mode"`
	Config       map[string]any `json:"config"`
	Enabled      bool           `json:"enabled"`
	Status       string         `json:"status"`
	StatusReason string         `json:"status_reason"`
	StatusText   string         `json:"status_text"`
	PipelineIDs  []string       `json:"pipeline_ids"`
	CreatedAt    time.Time      `json:"created_at"`
}

// troubled is true when the integration needs attention (the sidebar dot).
func (in integrationJSON) troubled() bool {
	return in.Status == "paused" || in.Status == "failing" || in.Status == "failed" || in.Status == "error"
}

type catalogEntry struct {
	Key           string        `json:"key"`
	Name          string        `json:"name"`
	Description   string        `json:"description"`
	Category      string        `json:"category"`
	CategoryLabel string        `json:"category_label"`
	Status        string        `json:"status"`
	Website       string        `json:"website"`
	ConfigFields  []configField `json:"config_fields"`
	Variants      []variant     `json:"variants"`
	DeliveryModes []string      `json:"delivery_modes"`
}

type configField struct {
	Key         string `json:"key"`
	Label       string `json:"label"`
	Type        string `json:"type"`
	Required    bool   `json:"required"`
	Placeholder string `json:"placeholder"`
	HelpText    string `json:"help_text"`
}

type variant struct {
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

type pipelineJSON struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Key           string    `json:"pipeline_key"`
	SigningSecret string    `json:"signing_secret"`
	CreatedAt     time.Time `json:"created_at"`
	// SignedOnlyEvents are accepted only from signed /v1/events requests.
	SignedOnlyEvents []string `json:"signed_only_events"`
	// PreviousKeyUntil: the rotated-out key works until then (nil: none).
	PreviousKeyUntil *time.Time `json:"previous_key_until"`
}

type liveEvent struct {
	ID            string    `json:"id"`
	MessageID     string    `json:"message_id"`
	ReceivedAt    time.Time `json:"received_at"`
	PipelineID    string    `json:"pipeline_id"`
	Type          string    `json:"type"`
	Event         string    `json:"event"`
	IntegrationID string    `json:"integration_id"`
	Status        string    `json:"status"`
	Reason        string    `json:"reason"`
	ReasonText    string    `json:"reason_text"`
	Note          string    `json:"note"`
	Warnings      []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"warnings"`
	VendorEventName string          `json:"vendor_event_name"`
	Attempts        json.RawMessage `json:"attempts"`
	VendorStatus    int             `json:"vendor_status"`
	VendorResponse  string          `json:"vendor_response"`
	Payload         json.RawMessage `json:"payload"`
	NextAttemptAt   string          `json:"next_attempt_at"`
	UpdatedAt       time.Time       `json:"updated_at"`
}

type userJSON struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

type auditEntry struct {
	ID    string `json:"id"`
	At    string `json:"at"`
	Actor struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	} `json:"actor"`
	Action string `json:"action"`
	Target struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"target"`
	Summary string `json:"summary"`
}
