package signal

import "time"

// Pipeline is a source of events: a website or a backend, identified by its
// public pipeline key and, for server-side events, a signing secret.
type Pipeline struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Key           string `json:"pipeline_key"`
	SigningSecret string `json:"signing_secret,omitempty"`
	// SignedOnlyEvents are event names accepted only from signed requests
	// (/v1/events): the browser key is public.
	SignedOnlyEvents []string `json:"signed_only_events"`
	// PreviousKey and PreviousSigningSecret, after a rotation, keep working
	// until PreviousUntil.
	PreviousKey           string    `json:"-"`
	PreviousSigningSecret string    `json:"-"`
	PreviousUntil         time.Time `json:"-"`
	CreatedAt             time.Time `json:"created_at"`
	UpdatedAt             time.Time `json:"updated_at"`
}

// AlertSettings say where operational alerts are posted.
type AlertSettings struct {
	WebhookURL        string `json:"webhook_url"`
	Secret            string `json:"secret,omitempty"`
	BacklogAgeSeconds int    `json:"backlog_age_seconds"`
}

// DefaultBacklogAgeSeconds is how old the oldest pending event may get
// before backlog_stale fires, unless the settings say otherwise.
const DefaultBacklogAgeSeconds = 900

// User is a person who signs in to the Management API.
type User struct {
	ID           string
	Email        string
	PasswordHash string
	Role         string
	CreatedAt    time.Time
}

// Roles of a user: an admin may do everything, an editor everything but
// users, alert settings, the audit log and contacts, a viewer only reads.
const (
	RoleAdmin  = "admin"
	RoleEditor = "editor"
	RoleViewer = "viewer"
)

// ValidRole reports whether role is one of the roles above.
func ValidRole(role string) bool {
	return role == RoleAdmin || role == RoleEditor || role == RoleViewer
}

// AuditEntry records one change made through the Management API: who, what,
// when. Summary is a sentence for people; it never holds a secret.
type AuditEntry struct {
	ID      string      `json:"id"`
	At      time.Time   `json:"at"`
	Actor   AuditActor  `json:"actor"`
	Action  string      `json:"action"`
	Target  AuditTarget `json:"target"`
	Summary string      `json:"summary"`
}

// AuditActor is the user who made a change.
type AuditActor struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

// AuditTarget is what a change was made to ("pipeline", "integration",
// "user") and its ID.
type AuditTarget struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// RefreshToken is a rotating refresh token, stored by its hash.
type RefreshToken struct {
	Hash   string
	UserID string
	// SessionID names the login the token belongs to; every refresh
	// token and access token of one login carries it, so signing out ends
	// them all.
	SessionID string
	ExpiresAt time.Time
}
