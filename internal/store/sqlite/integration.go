package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// CreateIntegration stores a new integration, its config sealed.
func (db *DB) CreateIntegration(ctx context.Context, in *signal.Integration) error {
	args, err := store.IntegrationArgs(db.cipher, in)
	if err != nil {
		return fmt.Errorf("create integration: %w", err)
	}
	_, err = db.write.ExecContext(ctx, `INSERT INTO integrations (`+store.IntegrationColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`, args...)
	if isUnique(err) {
		return signal.Errorf(signal.ECONFLICT, "integration %q already exists", in.ID)
	}
	if err != nil {
		return fmt.Errorf("create integration: %w", err)
	}
	return nil
}

// GetIntegration finds an integration by ID.
func (db *DB) GetIntegration(ctx context.Context, id string) (*signal.Integration, error) {
	in, err := store.ScanIntegration(db.cipher, db.read.QueryRowContext(ctx, `SELECT `+store.IntegrationColumns+` FROM integrations WHERE id = ?`, id).Scan)
	if err == sql.ErrNoRows {
		return nil, notFound("integration", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get integration: %w", err)
	}
	return in, nil
}

// ListIntegrations pages integrations in ID order.
func (db *DB) ListIntegrations(ctx context.Context, p store.ListParams) ([]*signal.Integration, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+store.IntegrationColumns+` FROM integrations WHERE id > ? ORDER BY id LIMIT ?`, p.After, limit(p.Limit))
	if err != nil {
		return nil, fmt.Errorf("list integrations: %w", err)
	}
	defer rows.Close()
	var out []*signal.Integration
	for rows.Next() {
		in, err := store.ScanIntegration(db.cipher, rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("list integrations: %w", err)
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// UpdateIntegration rewrites an integration.
func (db *DB) UpdateIntegration(ctx context.Context, in *signal.Integration) error {
	args, err := store.IntegrationArgs(db.cipher, in)
	if err != nil {
		return fmt.Errorf("update integration: %w", err)
	}
	res, err := db.write.ExecContext(ctx, `UPDATE integrations SET catalog_key = ?, name = ?, variant = ?, delivery_mode = ?, config = ?,
		enabled = ?, status = ?, status_reason = ?, pipeline_ids = ?, blueprint = ?, updated_at = ? WHERE id = ?`,
		append(args[1:11], args[12], args[0])...)
	if err != nil {
		return fmt.Errorf("update integration: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("integration", in.ID)
	}
	return nil
}

// DeleteIntegration removes an integration and its queue; delivered and
// filtered rows stay in Live Events.
func (db *DB) DeleteIntegration(ctx context.Context, id string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM integrations WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete integration: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("integration", id)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO deleted_integrations (id, deleted_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`,
			id, ms(time.Now())); err != nil {
			return fmt.Errorf("delete integration: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'filtered', reason = ?, updated_at = ?
			WHERE integration_id = ? AND status = 'pending'`, signal.ReasonIntegrationDeleted, ms(time.Now()), id); err != nil {
			return fmt.Errorf("delete integration: %w", err)
		}
		return nil
	})
}

// PauseIntegration pauses an active integration unchanged since
// p.IfUpdatedAt.
func (db *DB) PauseIntegration(ctx context.Context, p store.PauseIntegrationParams) (bool, error) {
	res, err := db.write.ExecContext(ctx, `UPDATE integrations SET status = 'paused', status_reason = ?, updated_at = ?
		WHERE id = ? AND updated_at = ? AND status = 'active'`, p.Reason, ms(p.Now), p.ID, ms(p.IfUpdatedAt))
	if err != nil {
		return false, fmt.Errorf("pause integration: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
