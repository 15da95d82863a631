package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// CountUsers counts Management API users.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// CreateUser stores a user; the email must be unique.
func (db *DB) CreateUser(ctx context.Context, u *signal.User) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO users (id, email, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)`,
		u.ID, u.Email, u.PasswordHash, u.Role, ms(u.CreatedAt))
	if isUnique(err) {
		return signal.FieldErrorf(signal.ECONFLICT, "email", "a user with that email already exists")
	}
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}

// GetUser finds a user by ID or email.
func (db *DB) GetUser(ctx context.Context, p store.GetUserParams) (*signal.User, error) {
	q, arg := `SELECT id, email, password_hash, role, created_at FROM users WHERE id = $1`, p.ID
	if p.ID == "" {
		q, arg = `SELECT id, email, password_hash, role, created_at FROM users WHERE email = $1`, p.Email
	}
	var (
		u       signal.User
		created int64
	)
	err := db.pool.QueryRow(ctx, q, arg).Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Role, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, signal.Errorf(signal.ENOTFOUND, "user not found")
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	u.CreatedAt = fromMS(created)
	return &u, nil
}

// CreateRefreshToken stores a refresh token's hash.
func (db *DB) CreateRefreshToken(ctx context.Context, t signal.RefreshToken) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO refresh_tokens (hash, user_id, expires_at) VALUES ($1, $2, $3)`,
		t.Hash, t.UserID, ms(t.ExpiresAt)); err != nil {
		return fmt.Errorf("create refresh token: %w", err)
	}
	return nil
}

// ConsumeRefreshToken deletes and returns an unexpired token. Of two nodes
// consuming one token at once, one gets it and the other ENOTFOUND.
func (db *DB) ConsumeRefreshToken(ctx context.Context, p store.ConsumeRefreshTokenParams) (*signal.RefreshToken, error) {
	var (
		t   signal.RefreshToken
		exp int64
	)
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM refresh_tokens WHERE expires_at <= $1`, ms(p.Now))
	b.Queue(`DELETE FROM refresh_tokens WHERE hash = $1 RETURNING hash, user_id, expires_at`, p.Hash).QueryRow(func(row pgx.Row) error {
		return row.Scan(&t.Hash, &t.UserID, &exp)
	})
	err := db.pool.SendBatch(ctx, b).Close()
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, signal.Errorf(signal.ENOTFOUND, "refresh token is unknown, used or expired")
	}
	if err != nil {
		return nil, fmt.Errorf("consume refresh token: %w", err)
	}
	t.ExpiresAt = fromMS(exp)
	return &t, nil
}
