package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// GetAlertSettings reads the sealed settings row.
func (s *Store) GetAlertSettings(ctx context.Context) (*signal.AlertSettings, error) {
	var sealed []byte
	err := s.X.QueryRow(ctx, `SELECT body FROM alert_settings WHERE id = 1`).Scan(&sealed)
	if NoRows(err) {
		return nil, signal.Errorf(signal.ENOTFOUND, "no alert settings yet")
	}
	if err != nil {
		return nil, fmt.Errorf("get alert settings: %w", err)
	}
	b, err := s.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("open alert settings: %w", err)
	}
	var a signal.AlertSettings
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("decode alert settings: %w", err)
	}
	return &a, nil
}

// PutAlertSettings replaces the settings, sealed whole: the webhook URL of
// a Slack incoming webhook is a credential too.
func (s *Store) PutAlertSettings(ctx context.Context, p store.PutAlertSettingsParams) error {
	b, err := json.Marshal(p.Settings)
	if err != nil {
		return fmt.Errorf("put alert settings: %w", err)
	}
	sealed, err := s.Seal(b)
	if err != nil {
		return fmt.Errorf("put alert settings: %w", err)
	}
	err = s.X.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM alert_settings WHERE id = 1`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO alert_settings (id, body, updated_at) VALUES (1, ?, ?)`, sealed, MS(p.Now))
		return err
	})
	if err != nil {
		return fmt.Errorf("put alert settings: %w", err)
	}
	return nil
}

// ListAlertIncidents lists the open incidents.
func (s *Store) ListAlertIncidents(ctx context.Context) ([]store.AlertIncident, error) {
	out, err := queryAll(ctx, s.X, func(scan func(...any) error) (store.AlertIncident, error) {
		var (
			in     store.AlertIncident
			opened int64
		)
		err := scan(&in.IntegrationID, &in.Kind, &opened)
		in.OpenedAt = FromMS(opened)
		return in, err
	}, `SELECT integration_id, kind, opened_at FROM alert_incidents ORDER BY integration_id, kind`)
	if err != nil {
		return nil, fmt.Errorf("list alert incidents: %w", err)
	}
	return out, nil
}

// OpenAlertIncident inserts the incident unless it is open: the unique key
// decides, so two nodes cannot both open (and post) it. Its post is queued
// in the same transaction.
func (s *Store) OpenAlertIncident(ctx context.Context, p store.AlertIncident) (bool, error) {
	changed, err := s.changeIncident(ctx, p, `INSERT INTO alert_incidents (integration_id, kind, opened_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		p.IntegrationID, p.Kind, MS(p.OpenedAt))
	if err != nil {
		return false, fmt.Errorf("open alert incident: %w", err)
	}
	return changed, nil
}

// CloseAlertIncident deletes the incident; only the node that deleted it
// queues the recovery's post.
func (s *Store) CloseAlertIncident(ctx context.Context, p store.AlertIncident) (bool, error) {
	changed, err := s.changeIncident(ctx, p, `DELETE FROM alert_incidents WHERE integration_id = ? AND kind = ?`, p.IntegrationID, p.Kind)
	if err != nil {
		return false, fmt.Errorf("close alert incident: %w", err)
	}
	return changed, nil
}

// changeIncident runs q (one row changed, or none) and, when it changed
// one, queues p.Post, in one transaction.
func (s *Store) changeIncident(ctx context.Context, p store.AlertIncident, q string, args ...any) (bool, error) {
	var changed bool
	err := s.X.InTx(ctx, func(tx *Tx) error {
		n, err := tx.Exec(ctx, q, args...)
		if err != nil || n != 1 {
			return err
		}
		changed = true
		if p.Post == nil {
			return nil
		}
		at := MS(p.Post.CreatedAt)
		_, err = tx.Exec(ctx, `INSERT INTO alert_posts (alert, integration_id, body, created_at, next_at, attempts) VALUES (?, ?, ?, ?, ?, 0)`,
			p.Post.Alert, p.IntegrationID, p.Post.Body, at, at)
		return err
	})
	return changed, err
}

// ClaimAlertPosts leases the due posts, oldest first; rows another node is
// claiming are skipped (the dialect's SkipLocked).
func (s *Store) ClaimAlertPosts(ctx context.Context, p store.ClaimAlertPostsParams) ([]store.AlertPost, error) {
	if p.Limit <= 0 {
		p.Limit = 20
	}
	var out []store.AlertPost
	err := s.X.InTx(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, alert, integration_id, body, created_at, attempts FROM alert_posts
			WHERE next_at <= ? ORDER BY next_at, id LIMIT ?`+s.X.d.SkipLocked, MS(p.Now), p.Limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				a       store.AlertPost
				created int64
			)
			if err := rows.Scan(&a.ID, &a.Alert, &a.IntegrationID, &a.Body, &created, &a.Attempts); err != nil {
				return err
			}
			a.CreatedAt = FromMS(created)
			out = append(out, a)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		for _, a := range out {
			if _, err := tx.Exec(ctx, `UPDATE alert_posts SET next_at = ? WHERE id = ?`, MS(p.LeaseUntil), a.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim alert posts: %w", err)
	}
	return out, nil
}

// FinishAlertPost deletes a post or schedules its next attempt.
func (s *Store) FinishAlertPost(ctx context.Context, p store.FinishAlertPostParams) error {
	var err error
	if p.Done {
		_, err = s.X.Exec(ctx, `DELETE FROM alert_posts WHERE id = ?`, p.ID)
	} else {
		_, err = s.X.Exec(ctx, `UPDATE alert_posts SET next_at = ?, attempts = ? WHERE id = ?`, MS(p.NextAt), p.Attempts, p.ID)
	}
	if err != nil {
		return fmt.Errorf("finish alert post %d: %w", p.ID, err)
	}
	return nil
}

// RecentAttempts reads the integration's last attempts (newest first, by
// attempt id) and counts the failed ones.
func (s *Store) RecentAttempts(ctx context.Context, p store.RecentAttemptsParams) (total, failed int, err error) {
	if p.Limit <= 0 {
		p.Limit = 50
	}
	err = s.X.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN bad THEN 1 ELSE 0 END), 0) FROM (
		SELECT (a.error <> '' OR a.vendor_status < 200 OR a.vendor_status >= 300) AS bad
		FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
		WHERE d.integration_id = ? ORDER BY a.id DESC LIMIT ?) recent`, p.IntegrationID, p.Limit).Scan(&total, &failed)
	if err != nil {
		return 0, 0, fmt.Errorf("recent attempts of %s: %w", p.IntegrationID, err)
	}
	return total, failed, nil
}
