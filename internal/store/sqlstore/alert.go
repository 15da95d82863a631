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
// decides, so two nodes cannot both open (and post) it.
func (s *Store) OpenAlertIncident(ctx context.Context, p store.AlertIncident) (bool, error) {
	n, err := s.X.Exec(ctx, `INSERT INTO alert_incidents (integration_id, kind, opened_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		p.IntegrationID, p.Kind, MS(p.OpenedAt))
	if err != nil {
		return false, fmt.Errorf("open alert incident: %w", err)
	}
	return n == 1, nil
}

// CloseAlertIncident deletes the incident; only the node that deleted it
// posts the recovery.
func (s *Store) CloseAlertIncident(ctx context.Context, p store.AlertIncident) (bool, error) {
	n, err := s.X.Exec(ctx, `DELETE FROM alert_incidents WHERE integration_id = ? AND kind = ?`, p.IntegrationID, p.Kind)
	if err != nil {
		return false, fmt.Errorf("close alert incident: %w", err)
	}
	return n == 1, nil
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
