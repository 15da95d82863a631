package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/signalhq/signal/internal/store"
)

// IntegrationHealth reads outcomes from deliveries_outcomes (covering:
// integration, updated_at, status) and the backlog from deliveries_queue,
// so it reads only the rows it counts.
func (db *DB) IntegrationHealth(ctx context.Context, p store.IntegrationHealthParams) (*store.IntegrationHealth, error) {
	now := ms(p.Now)
	h := &store.IntegrationHealth{}
	var first int64
	h.PerMinute, first = store.HealthMinutes(now)
	rows, err := db.read.QueryContext(ctx, `SELECT status, updated_at >= ?1 AS recent, CASE WHEN updated_at >= ?2 THEN (updated_at - ?2) / 60000 ELSE -1 END AS minute, COUNT(*)
		FROM deliveries WHERE integration_id = ?3 AND updated_at >= ?4 AND updated_at <= ?5 AND status IN ('delivered', 'filtered', 'failed')
		GROUP BY status, recent, minute`, now-3600_000, first, p.IntegrationID, now-86400_000, now)
	if err != nil {
		return nil, fmt.Errorf("integration health of %s: %w", p.IntegrationID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			status      string
			recent      bool
			minute, num int64
		)
		if err := rows.Scan(&status, &recent, &minute, &num); err != nil {
			return nil, fmt.Errorf("integration health of %s: %w", p.IntegrationID, err)
		}
		store.AddOutcome(&h.LastDay, status, int(num))
		if recent {
			store.AddOutcome(&h.LastHour, status, int(num))
		}
		if minute >= 0 && minute < int64(len(h.PerMinute)) {
			store.AddOutcome(&h.PerMinute[minute].Outcomes, status, int(num))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("integration health of %s: %w", p.IntegrationID, err)
	}
	// The backlog is the integration's part of the queue index; its lowest
	// id is its oldest event (ids follow the log's order).
	var oldestID sql.NullInt64
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*), MIN(id) FROM deliveries INDEXED BY deliveries_queue
		WHERE integration_id = ? AND status = 'pending'`, p.IntegrationID).Scan(&h.Backlog, &oldestID); err != nil {
		return nil, fmt.Errorf("integration health of %s: backlog: %w", p.IntegrationID, err)
	}
	if oldestID.Valid {
		var recv int64
		if err := db.read.QueryRowContext(ctx, `SELECT received_at FROM deliveries WHERE id = ?`, oldestID.Int64).Scan(&recv); err != nil {
			return nil, fmt.Errorf("integration health of %s: oldest pending: %w", p.IntegrationID, err)
		}
		h.OldestPending = fromMS(recv)
	}
	return h, nil
}
