package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// CreateIntegration stores a new integration, its config sealed.
func (db *DB) CreateIntegration(ctx context.Context, in *signal.Integration) error {
	args, err := store.IntegrationArgs(db.cipher, in)
	if err != nil {
		return fmt.Errorf("create integration: %w", err)
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO integrations (`+store.IntegrationColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::jsonb, $11::text::jsonb, $12, $13)`, args...)
	if isUnique(err) {
		return signal.Errorf(signal.ECONFLICT, "integration %q already exists", in.ID)
	}
	if err != nil {
		return fmt.Errorf("create integration: %w", err)
	}
	return nil
}

// selectIntegrations reads jsonb columns back as text.
const selectIntegrations = `SELECT id, catalog_key, name, variant, delivery_mode, config, enabled, status, status_reason,
	pipeline_ids::text, blueprint::text, created_at, updated_at FROM integrations`

// GetIntegration finds an integration by ID.
func (db *DB) GetIntegration(ctx context.Context, id string) (*signal.Integration, error) {
	in, err := store.ScanIntegration(db.cipher, db.pool.QueryRow(ctx, selectIntegrations+` WHERE id = $1`, id).Scan)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("integration", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get integration: %w", err)
	}
	return in, nil
}

// ListIntegrations pages integrations in ID order.
func (db *DB) ListIntegrations(ctx context.Context, p store.ListParams) ([]*signal.Integration, error) {
	rows, err := db.pool.Query(ctx, selectIntegrations+` WHERE id > $1 ORDER BY id LIMIT $2`, p.After, limit(p.Limit))
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
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list integrations: %w", err)
	}
	return out, nil
}

// UpdateIntegration rewrites an integration (all but its creation time).
func (db *DB) UpdateIntegration(ctx context.Context, in *signal.Integration) error {
	args, err := store.IntegrationArgs(db.cipher, in)
	if err != nil {
		return fmt.Errorf("update integration: %w", err)
	}
	tag, err := db.pool.Exec(ctx, `UPDATE integrations SET catalog_key = $2, name = $3, variant = $4, delivery_mode = $5, config = $6,
		enabled = $7, status = $8, status_reason = $9, pipeline_ids = $10::text::jsonb, blueprint = $11::text::jsonb, updated_at = $12
		WHERE id = $1`, append(args[:11:11], args[12])...)
	if err != nil {
		return fmt.Errorf("update integration: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("integration", in.ID)
	}
	return nil
}

// DeleteIntegration removes an integration and its queue; delivered and
// filtered rows stay in Live Events.
func (db *DB) DeleteIntegration(ctx context.Context, id string) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM integrations WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("integration", id)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO deleted_integrations (id, deleted_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
			id, ms(time.Now())); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE deliveries SET status = 'filtered', reason = $3, updated_at = $2
			WHERE integration_id = $1 AND status = 'pending'`, id, ms(time.Now()), signal.ReasonIntegrationDeleted)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete integration: %w", err)
	}
	return nil
}

// PauseIntegration pauses an active integration unchanged since
// p.IfUpdatedAt.
func (db *DB) PauseIntegration(ctx context.Context, p store.PauseIntegrationParams) (bool, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE integrations SET status = 'paused', status_reason = $1, updated_at = $2
		WHERE id = $3 AND updated_at = $4 AND status = 'active'`, p.Reason, ms(p.Now), p.ID, ms(p.IfUpdatedAt))
	if err != nil {
		return false, fmt.Errorf("pause integration: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
