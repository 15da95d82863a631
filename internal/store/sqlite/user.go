package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// CountUsers counts Management API users.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// CreateUser stores a user; the email must be unique.
func (db *DB) CreateUser(ctx context.Context, u *signal.User) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO users (id, email, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?)`,
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
	q, arg := `SELECT `+userCols+` FROM users WHERE id = ?`, p.ID
	if p.ID == "" {
		q, arg = `SELECT `+userCols+` FROM users WHERE lower(email) = lower(?)`, p.Email
	}
	u, err := scanUser(db.read.QueryRowContext(ctx, q, arg).Scan)
	if err == sql.ErrNoRows {
		return nil, signal.Errorf(signal.ENOTFOUND, "user not found")
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// ListUsers pages users in ID order.
func (db *DB) ListUsers(ctx context.Context, p store.ListParams) ([]*signal.User, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+userCols+` FROM users WHERE id > ? ORDER BY id LIMIT ?`, p.After, store.PageLimit(p.Limit))
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

// otherAdmins counts the admins other than id, inside the write
// transaction (SQLite has one writer, so the count holds until commit).
func otherAdmins(ctx context.Context, tx *sql.Tx, id string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = ? AND id <> ?`, signal.RoleAdmin, id).Scan(&n)
	return n, err
}

// UpdateUser sets a user's role and/or password hash; the last admin
// cannot be demoted.
func (db *DB) UpdateUser(ctx context.Context, p store.UpdateUserParams) (*signal.User, error) {
	var u *signal.User
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, p.ID).Scan); err != nil {
			return err
		}
		if p.Role != nil && *p.Role != signal.RoleAdmin && u.Role == signal.RoleAdmin {
			n, err := otherAdmins(ctx, tx, u.ID)
			if err != nil {
				return err
			}
			if n == 0 {
				return store.LastAdminError("role")
			}
		}
		if p.Role != nil {
			u.Role = *p.Role
		}
		if p.PasswordHash != nil {
			u.PasswordHash = *p.PasswordHash
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET role = ?, password_hash = ? WHERE id = ?`, u.Role, u.PasswordHash, u.ID)
		return err
	})
	if err == sql.ErrNoRows {
		return nil, notFound("user", p.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("update user: %w", err)
	}
	return u, nil
}

// DeleteUser deletes a user and their refresh tokens; the last admin
// cannot be deleted.
func (db *DB) DeleteUser(ctx context.Context, p store.DeleteUserParams) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var role string
		if err := tx.QueryRowContext(ctx, `SELECT role FROM users WHERE id = ?`, p.ID).Scan(&role); err != nil {
			return err
		}
		if role == signal.RoleAdmin {
			n, err := otherAdmins(ctx, tx, p.ID)
			if err != nil {
				return err
			}
			if n == 0 {
				return store.LastAdminError("")
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE user_id = ?`, p.ID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, p.ID)
		return err
	})
	if err == sql.ErrNoRows {
		return notFound("user", p.ID)
	}
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	return nil
}

// CreateRefreshToken stores a refresh token's hash.
func (db *DB) CreateRefreshToken(ctx context.Context, t signal.RefreshToken) error {
	if _, err := db.write.ExecContext(ctx, `INSERT INTO refresh_tokens (hash, user_id, expires_at) VALUES (?, ?, ?)`,
		t.Hash, t.UserID, ms(t.ExpiresAt)); err != nil {
		return fmt.Errorf("create refresh token: %w", err)
	}
	return nil
}

// ConsumeRefreshToken deletes and returns an unexpired token.
func (db *DB) ConsumeRefreshToken(ctx context.Context, p store.ConsumeRefreshTokenParams) (*signal.RefreshToken, error) {
	var (
		t   signal.RefreshToken
		exp int64
	)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE expires_at <= ?`, ms(p.Now)); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `DELETE FROM refresh_tokens WHERE hash = ? RETURNING hash, user_id, expires_at`, p.Hash).Scan(&t.Hash, &t.UserID, &exp)
	})
	if err == sql.ErrNoRows {
		return nil, signal.Errorf(signal.ENOTFOUND, "refresh token is unknown, used or expired")
	}
	if err != nil {
		return nil, fmt.Errorf("consume refresh token: %w", err)
	}
	t.ExpiresAt = fromMS(exp)
	return &t, nil
}
