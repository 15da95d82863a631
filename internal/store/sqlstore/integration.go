package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// selectIntegrations reads an integration row as ScanIntegration
// takes it (JSON columns as text).
func (s *Store) selectIntegrations() string {
	j := s.X.d.JSONText
	return `SELECT id, catalog_key, name, variant, delivery_mode, config, enabled, status, status_reason,
	pipeline_ids` + j + `, blueprint` + j + `, created_at, updated_at FROM integrations`
}

// CreateIntegration stores a new integration, its config sealed.
func (s *Store) CreateIntegration(ctx context.Context, p store.CreateIntegrationParams) error {
	in := p.Integration
	args, err := IntegrationArgs(s.Cipher, in)
	if err != nil {
		return fmt.Errorf("create integration: %w", err)
	}
	j := s.X.d.JSONParam
	_, err = s.X.Exec(ctx, `INSERT INTO integrations (`+IntegrationColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, `+j+`, `+j+`, ?, ?)`, args...)
	if s.X.d.IsUnique(err) {
		return signal.Errorf(signal.ECONFLICT, "integration %q already exists", in.ID)
	}
	if err != nil {
		return fmt.Errorf("create integration: %w", err)
	}
	return nil
}

// GetIntegration finds an integration by ID.
func (s *Store) GetIntegration(ctx context.Context, p store.GetIntegrationParams) (*signal.Integration, error) {
	in, err := ScanIntegration(s.Cipher, s.X.QueryRow(ctx, s.selectIntegrations()+` WHERE id = ?`, p.ID).Scan)
	if NoRows(err) {
		return nil, NotFound("integration", p.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("get integration: %w", err)
	}
	return in, nil
}

// ListIntegrations pages integrations in ID order.
func (s *Store) ListIntegrations(ctx context.Context, p store.ListParams) ([]*signal.Integration, error) {
	scan := func(scan func(...any) error) (*signal.Integration, error) {
		return ScanIntegration(s.Cipher, scan)
	}
	out, err := queryAll(ctx, s.X, scan, s.selectIntegrations()+` WHERE id > ? ORDER BY id LIMIT ?`, p.After, Limit(p.Limit))
	if err != nil {
		return nil, fmt.Errorf("list integrations: %w", err)
	}
	return out, nil
}

// UpdateIntegration rewrites an integration (all but its creation time).
func (s *Store) UpdateIntegration(ctx context.Context, p store.UpdateIntegrationParams) error {
	in := p.Integration
	args, err := IntegrationArgs(s.Cipher, in)
	if err != nil {
		return fmt.Errorf("update integration: %w", err)
	}
	j := s.X.d.JSONParam
	err = s.X.InTx(ctx, func(tx *Tx) error {
		if in.Status != signal.IntegrationPaused {
			// Flowing again after a pause: the held deliveries' clocks
			// move on by the time they were held (resumeHeld).
			if err := resumeHeld(ctx, tx, in.ID, MS(in.UpdatedAt)); err != nil {
				return err
			}
		}
		n, err := tx.Exec(ctx, `UPDATE integrations SET catalog_key = ?, name = ?, variant = ?, delivery_mode = ?, config = ?,
			enabled = ?, status = ?, status_reason = ?, pipeline_ids = `+j+`, blueprint = `+j+`, updated_at = ?,
			held_since = CASE WHEN ? = `+IntegrationPaused+` THEN held_since ELSE 0 END WHERE id = ?`,
			append(args[1:11:11], args[12], in.Status, args[0])...)
		if err != nil {
			return err
		}
		if n == 0 {
			return NotFound("integration", in.ID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("update integration: %w", err)
	}
	return nil
}

// resumeHeld moves on the clocks of a paused integration's waiting
// deliveries as it flows again at now (ms): a paused integration's events
// "wait, spend no attempts, and flow again once the key is replaced", so the
// time each was held (from the pause, or from its own arrival if later,
// until now) counts neither toward its max_age (expires_at, from its
// receipt; one that had expired before the pause stays expired) nor toward
// the 24 h its retries may take (created_at; delivery.Engine). It reads the
// integration's row locked (two nodes resuming it at once shift once) and
// does nothing for an integration that is not paused. One statement over
// the integration's queue: on a long pause of a busy store, a few seconds of
// the writer, once.
func resumeHeld(ctx context.Context, tx *Tx, integrationID string, now int64) error {
	var since int64
	err := tx.QueryRow(ctx, `SELECT held_since FROM integrations WHERE id = ? AND status = `+IntegrationPaused+tx.x.d.ForUpdate,
		integrationID).Scan(&since)
	if NoRows(err) || (err == nil && since <= 0) {
		return nil
	}
	if err != nil {
		return err
	}
	g := tx.x.d.Greatest
	_, err = tx.Exec(ctx, `UPDATE deliveries SET
		expires_at = CASE WHEN expires_at > `+g+`(?, received_at) THEN expires_at + `+g+`(? - `+g+`(?, received_at), 0) ELSE expires_at END,
		created_at = created_at + `+g+`(? - `+g+`(?, created_at), 0)
		WHERE integration_id = ? AND status = `+Pending,
		since, now, since, now, since, integrationID)
	return err
}

// DeleteIntegration removes an integration and its queue; delivered and
// filtered rows stay in Live Events.
func (s *Store) DeleteIntegration(ctx context.Context, p store.DeleteIntegrationParams) error {
	id, now := p.ID, MS(p.Now)
	if p.Now.IsZero() {
		now = MS(time.Now())
	}
	err := s.X.InTx(ctx, func(tx *Tx) error {
		n, err := tx.Exec(ctx, `DELETE FROM integrations WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return NotFound("integration", id)
		}
		// Its blueprint history and property types go with it (ids are
		// never reused).
		for _, q := range []string{`DELETE FROM blueprint_versions WHERE integration_id = ?`, `DELETE FROM property_types WHERE integration_id = ?`} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO deleted_integrations (id, deleted_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`, id, now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE deliveries SET status = ?, reason = ?, updated_at = ? WHERE integration_id = ? AND status = `+Pending,
			signal.StatusFiltered, signal.ReasonIntegrationDeleted, now, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete integration: %w", err)
	}
	return nil
}

// PauseIntegration pauses an active integration unchanged since
// p.IfUpdatedAt.
func (s *Store) PauseIntegration(ctx context.Context, p store.PauseIntegrationParams) (bool, error) {
	n, err := s.X.Exec(ctx, `UPDATE integrations SET status = ?, status_reason = ?, updated_at = ?, held_since = ?
		WHERE id = ? AND updated_at = ? AND status = ?`,
		signal.IntegrationPaused, p.Reason, MS(p.Now), MS(p.Now), p.ID, MS(p.IfUpdatedAt), signal.IntegrationActive)
	if err != nil {
		return false, fmt.Errorf("pause integration: %w", err)
	}
	return n == 1, nil
}
