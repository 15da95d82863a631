package signal

import "time"

// Pipeline is a source of events: a website or a backend, identified by its
// public pipeline key and, for server-side events, a signing secret.
type Pipeline struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Key           string    `json:"pipeline_key"`
	SigningSecret string    `json:"signing_secret,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// User is a person who signs in to the Management API.
type User struct {
	ID           string
	Email        string
	PasswordHash string
	Role         string
	CreatedAt    time.Time
}

// Roles of a user.
const (
	RoleAdmin = "admin"
)

// RefreshToken is a rotating refresh token, stored by its hash.
type RefreshToken struct {
	Hash      string
	UserID    string
	ExpiresAt time.Time
}
