package store

import (
	"context"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// UserStore keeps Management API users and their refresh tokens.
type UserStore interface {
	CountUsers(ctx context.Context) (int, error)
	CreateUser(ctx context.Context, p CreateUserParams) error
	// GetUser finds a user by ID or by email (case-insensitive).
	GetUser(ctx context.Context, p GetUserParams) (*signal.User, error)
	// ListUsers pages users in ID order.
	ListUsers(ctx context.Context, p ListParams) ([]*signal.User, error)
	// UpdateUser sets a user's role and/or password hash. Demoting the last
	// admin is ECONFLICT, decided in the same transaction as the write, so
	// two concurrent demotions cannot leave no admin.
	UpdateUser(ctx context.Context, p UpdateUserParams) (*signal.User, error)
	// DeleteUser deletes a user and their refresh tokens at once. Deleting
	// the last admin is ECONFLICT (atomically, as for UpdateUser).
	DeleteUser(ctx context.Context, p DeleteUserParams) error
	CreateRefreshToken(ctx context.Context, p CreateRefreshTokenParams) error
	// ConsumeRefreshToken deletes the token and returns it; a token can be
	// consumed once (rotation). Unknown or expired: ENOTFOUND.
	ConsumeRefreshToken(ctx context.Context, p ConsumeRefreshTokenParams) (*signal.RefreshToken, error)
	// RevokeSession records a signed-out session until Until (when its
	// last access token expires), so every node refuses its tokens;
	// sessions revoked longer ago are forgotten.
	RevokeSession(ctx context.Context, p RevokeSessionParams) error
	// SessionRevoked reports whether a session was signed out (and its
	// record has not yet expired at Now).
	SessionRevoked(ctx context.Context, p SessionRevokedParams) (bool, error)
}

type RevokeSessionParams struct {
	SessionID string
	Until     time.Time
	Now       time.Time
}

type SessionRevokedParams struct {
	SessionID string
	Now       time.Time
}

type CreateUserParams struct {
	User *signal.User
}

type CreateRefreshTokenParams struct {
	Token signal.RefreshToken
}

type GetUserParams struct {
	ID    string
	Email string
}

// UpdateUserParams changes the non-nil fields of user ID.
type UpdateUserParams struct {
	ID           string
	Role         *string
	PasswordHash *string
	// KeepSessionID, with a new PasswordHash, is the one session of the
	// user that stays signed in (the user changing their own password);
	// every other session is revoked and its refresh token deleted.
	KeepSessionID string
}

type DeleteUserParams struct {
	ID string
}

// AuditStore keeps the audit log of changes.
type AuditStore interface {
	AppendAudit(ctx context.Context, p AppendAuditParams) error
	// ListAudit lists entries newest first, Limit at a time; it returns
	// the cursor of the next page ("" at the end).
	ListAudit(ctx context.Context, p ListAuditParams) ([]*signal.AuditEntry, string, error)
}

type AppendAuditParams struct {
	Entry *signal.AuditEntry
}

type ListAuditParams struct {
	Cursor string
	Limit  int
}

type ConsumeRefreshTokenParams struct {
	Hash string
	Now  time.Time
}
