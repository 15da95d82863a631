package sqlstore

import (
	"context"
	"fmt"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// CountUsers counts Management API users.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.X.QueryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// CreateUser stores a user; the email must be unique.
func (s *Store) CreateUser(ctx context.Context, p store.CreateUserParams) error {
	u := p.User
	_, err := s.X.Exec(ctx, `INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.PasswordHash, u.Role, MS(u.CreatedAt))
	if s.X.d.IsUnique(err) {
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
	u.CreatedAt = FromMS(created)
	return &u, nil
}

// GetUser finds a user by ID or email (case-insensitive).
func (s *Store) GetUser(ctx context.Context, p store.GetUserParams) (*signal.User, error) {
	q, arg := `SELECT `+userCols+` FROM users WHERE id = ?`, p.ID
	if p.ID == "" {
		q, arg = `SELECT `+userCols+` FROM users WHERE lower(email) = lower(?)`, p.Email
	}
	u, err := scanUser(s.X.QueryRow(ctx, q, arg).Scan)
	if NoRows(err) {
		return nil, signal.Errorf(signal.ENOTFOUND, "user not found")
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// ListUsers pages users in ID order.
func (s *Store) ListUsers(ctx context.Context, p store.ListParams) ([]*signal.User, error) {
	out, err := queryAll(ctx, s.X, scanUser, `SELECT `+userCols+` FROM users WHERE id > ? ORDER BY id LIMIT ?`, p.After, Limit(p.Limit))
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// lockedUser reads user id and counts the other admins, after the
// dialect's admins lock: of two transactions that could each remove an
// admin, one waits for the other and then counts what is left.
func (s *Store) lockedUser(ctx context.Context, tx *Tx, id string) (*signal.User, int, error) {
	if l := s.X.d.LockAdmins; l != "" {
		if _, err := tx.Exec(ctx, l); err != nil {
			return nil, 0, err
		}
	}
	u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id).Scan)
	if err != nil {
		return nil, 0, err
	}
	var others int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM users WHERE role = ? AND id <> ?`, signal.RoleAdmin, id).Scan(&others); err != nil {
		return nil, 0, err
	}
	return u, others, nil
}

// UpdateUser sets a user's role and/or password hash; the last admin
// cannot be demoted, even by two nodes at once.
func (s *Store) UpdateUser(ctx context.Context, p store.UpdateUserParams) (*signal.User, error) {
	var u *signal.User
	err := s.X.InTx(ctx, func(tx *Tx) error {
		var (
			others int
			err    error
		)
		if u, others, err = s.lockedUser(ctx, tx, p.ID); err != nil {
			return err
		}
		if p.Role != nil && *p.Role != signal.RoleAdmin && u.Role == signal.RoleAdmin && others == 0 {
			return LastAdminError("role")
		}
		if p.Role != nil {
			u.Role = *p.Role
		}
		if p.PasswordHash != nil {
			u.PasswordHash = *p.PasswordHash
		}
		if _, err = tx.Exec(ctx, `UPDATE users SET role = ?, password_hash = ? WHERE id = ?`, u.Role, u.PasswordHash, u.ID); err != nil {
			return err
		}
		if p.PasswordHash == nil {
			return nil
		}
		// A new password signs the user out everywhere else (a leaked
		// password's sessions end with it): their sessions are revoked
		// until their refresh tokens would have run out, and those deleted.
		if _, err := tx.Exec(ctx, `INSERT INTO revoked_sessions (session_id, expires_at)
			SELECT session_id, MAX(expires_at) FROM refresh_tokens WHERE user_id = ? AND session_id <> '' AND session_id <> ?
			GROUP BY session_id
			ON CONFLICT (session_id) DO UPDATE SET expires_at = `+s.X.d.Greatest+`(revoked_sessions.expires_at, excluded.expires_at)`,
			u.ID, p.KeepSessionID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM refresh_tokens WHERE user_id = ? AND session_id <> ?`, u.ID, p.KeepSessionID)
		return err
	})
	if NoRows(err) {
		return nil, NotFound("user", p.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("update user: %w", err)
	}
	return u, nil
}

// DeleteUser deletes a user and their refresh tokens; the last admin
// cannot be deleted, even by two nodes at once.
func (s *Store) DeleteUser(ctx context.Context, p store.DeleteUserParams) error {
	err := s.X.InTx(ctx, func(tx *Tx) error {
		u, others, err := s.lockedUser(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		if u.Role == signal.RoleAdmin && others == 0 {
			return LastAdminError("")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM refresh_tokens WHERE user_id = ?`, p.ID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM users WHERE id = ?`, p.ID)
		return err
	})
	if NoRows(err) {
		return NotFound("user", p.ID)
	}
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	return nil
}

// CreateRefreshToken stores a refresh token's hash.
func (s *Store) CreateRefreshToken(ctx context.Context, p store.CreateRefreshTokenParams) error {
	t := p.Token
	if _, err := s.X.Exec(ctx, `INSERT INTO refresh_tokens (hash, user_id, session_id, expires_at) VALUES (?, ?, ?, ?)`,
		t.Hash, t.UserID, t.SessionID, MS(t.ExpiresAt)); err != nil {
		return fmt.Errorf("create refresh token: %w", err)
	}
	return nil
}

// ConsumeRefreshToken deletes and returns an unexpired token. Of two nodes
// consuming one token at once, one gets it and the other ENOTFOUND.
func (s *Store) ConsumeRefreshToken(ctx context.Context, p store.ConsumeRefreshTokenParams) (*signal.RefreshToken, error) {
	var (
		t   signal.RefreshToken
		exp int64
	)
	err := s.X.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM refresh_tokens WHERE expires_at <= ?`, MS(p.Now)); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `DELETE FROM refresh_tokens WHERE hash = ? RETURNING hash, user_id, session_id, expires_at`, p.Hash).Scan(&t.Hash, &t.UserID, &t.SessionID, &exp)
	})
	if NoRows(err) {
		return nil, signal.Errorf(signal.ENOTFOUND, "refresh token is unknown, used or expired")
	}
	if err != nil {
		return nil, fmt.Errorf("consume refresh token: %w", err)
	}
	t.ExpiresAt = FromMS(exp)
	return &t, nil
}

// RevokeSession records a signed-out session (again: the later Until
// stays) and forgets sessions whose record has expired.
func (s *Store) RevokeSession(ctx context.Context, p store.RevokeSessionParams) error {
	if p.SessionID == "" {
		return signal.Errorf(signal.EINVALID, "revoke session: no session id")
	}
	err := s.X.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM revoked_sessions WHERE expires_at <= ?`, MS(p.Now)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO revoked_sessions (session_id, expires_at) VALUES (?, ?)
			ON CONFLICT (session_id) DO UPDATE SET expires_at = `+s.X.d.Greatest+`(revoked_sessions.expires_at, excluded.expires_at)`, p.SessionID, MS(p.Until))
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

// SessionRevoked reports whether a session is recorded as signed out.
func (s *Store) SessionRevoked(ctx context.Context, p store.SessionRevokedParams) (bool, error) {
	var n int
	err := s.X.QueryRow(ctx, `SELECT COUNT(*) FROM revoked_sessions WHERE session_id = ? AND expires_at > ?`, p.SessionID, MS(p.Now)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("session revoked: %w", err)
	}
	return n > 0, nil
}

// AppendAudit stores an audit entry.
func (s *Store) AppendAudit(ctx context.Context, p store.AppendAuditParams) error {
	if _, err := s.X.Exec(ctx, `INSERT INTO audit_log (`+AuditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		AuditArgs(p.Entry)...); err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	return nil
}

// ListAudit lists audit entries newest first.
func (s *Store) ListAudit(ctx context.Context, p store.ListAuditParams) ([]*signal.AuditEntry, string, error) {
	before, err := ParseAuditCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.X.Query(ctx, `SELECT seq, `+AuditCols+` FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT ?`,
		before, Limit(p.Limit)+1)
	if err != nil {
		return nil, "", fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	out, next, err := ScanAuditPage(rows, p.Limit)
	if err != nil {
		return nil, "", fmt.Errorf("list audit: %w", err)
	}
	return out, next, nil
}
