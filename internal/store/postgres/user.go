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

const userCols = `id, email, password_hash, role, created_at`

func scanUser(scan func(dest ...any) error) (*signal.User, error) {
	var (
		u       signal.User
		created int64
	)
	if err := scan(&u.ID, &u.Email, &u.PasswordHash, &u.Role, &created); err != nil {
		return nil, err
	}
	u.CreatedAt = fromMS(created)
	return &u, nil
}

// GetUser finds a user by ID or email (case-insensitive).
func (db *DB) GetUser(ctx context.Context, p store.GetUserParams) (*signal.User, error) {
	q, arg := `SELECT `+userCols+` FROM users WHERE id = $1`, p.ID
	if p.ID == "" {
		q, arg = `SELECT `+userCols+` FROM users WHERE lower(email) = lower($1)`, p.Email
	}
	u, err := scanUser(db.pool.QueryRow(ctx, q, arg).Scan)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, signal.Errorf(signal.ENOTFOUND, "user not found")
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// ListUsers pages users in ID order.
func (db *DB) ListUsers(ctx context.Context, p store.ListParams) ([]*signal.User, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+userCols+` FROM users WHERE id > $1 ORDER BY id LIMIT $2`, p.After, store.PageLimit(p.Limit))
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []*signal.User
	for rows.Next() {
		u, err := scanUser(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// lockedUser takes the admins lock, so that of two transactions that could
// each remove an admin one waits for the other and then counts what is
// left, and reads user id and how many other admins there are.
func (db *DB) lockedUser(ctx context.Context, tx pgx.Tx, id string) (*signal.User, int, error) {
	if _, err := tx.Exec(ctx, db.lockSQL(lockAdmins)); err != nil {
		return nil, 0, err
	}
	u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id).Scan)
	if err != nil {
		return nil, 0, err
	}
	var others int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM users WHERE role = $1 AND id <> $2`, signal.RoleAdmin, id).Scan(&others); err != nil {
		return nil, 0, err
	}
	return u, others, nil
}

// UpdateUser sets a user's role and/or password hash; the last admin
// cannot be demoted, even by two nodes at once.
func (db *DB) UpdateUser(ctx context.Context, p store.UpdateUserParams) (*signal.User, error) {
	var u *signal.User
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var (
			others int
			err    error
		)
		if u, others, err = db.lockedUser(ctx, tx, p.ID); err != nil {
			return err
		}
		if p.Role != nil && *p.Role != signal.RoleAdmin && u.Role == signal.RoleAdmin && others == 0 {
			return store.LastAdminError("role")
		}
		if p.Role != nil {
			u.Role = *p.Role
		}
		if p.PasswordHash != nil {
			u.PasswordHash = *p.PasswordHash
		}
		_, err = tx.Exec(ctx, `UPDATE users SET role = $2, password_hash = $3 WHERE id = $1`, u.ID, u.Role, u.PasswordHash)
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("user", p.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("update user: %w", err)
	}
	return u, nil
}

// DeleteUser deletes a user and their refresh tokens; the last admin
// cannot be deleted, even by two nodes at once.
func (db *DB) DeleteUser(ctx context.Context, p store.DeleteUserParams) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		u, others, err := db.lockedUser(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		if u.Role == signal.RoleAdmin && others == 0 {
			return store.LastAdminError("")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM refresh_tokens WHERE user_id = $1`, p.ID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, p.ID)
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound("user", p.ID)
	}
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	return nil
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
