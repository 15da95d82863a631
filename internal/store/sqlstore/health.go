package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// IntegrationHealth reads outcomes from deliveries_outcomes (covering:
// integration, updated_at, status) and the backlog from deliveries_queue,
// so it reads only the rows it counts.
func (s *Store) IntegrationHealth(ctx context.Context, p store.IntegrationHealthParams) (*store.IntegrationHealth, error) {
	now := MS(p.Now)
	h := &store.IntegrationHealth{}
	var first int64
	h.PerMinute, first = HealthMinutes(now)
	// Integer division truncates on both engines; the minute is counted
	// only from first on, where truncating is flooring.
	rows, err := s.X.Query(ctx, `SELECT status, updated_at >= ? AS recent, CASE WHEN updated_at >= ? THEN (updated_at - ?) / 60000 ELSE -1 END AS minute, COUNT(*)
		FROM deliveries WHERE integration_id = ? AND updated_at >= ? AND updated_at <= ? AND status IN `+Finished+`
		GROUP BY status, recent, minute`, now-3600_000, first, first, p.IntegrationID, now-86400_000, now)
	if err != nil {
		return nil, fmt.Errorf("integration health of %s: %w", p.IntegrationID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			status      signal.DeliveryStatus
			recent      bool
			minute, num int64
		)
		if err := rows.Scan(&status, &recent, &minute, &num); err != nil {
			return nil, fmt.Errorf("integration health of %s: %w", p.IntegrationID, err)
		}
		AddOutcome(&h.LastDay, status, int(num))
		if recent {
			AddOutcome(&h.LastHour, status, int(num))
		}
		if minute >= 0 && minute < int64(len(h.PerMinute)) {
			AddOutcome(&h.PerMinute[minute].Outcomes, status, int(num))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("integration health of %s: %w", p.IntegrationID, err)
	}
	b, err := s.IntegrationBacklog(ctx, store.IntegrationBacklogParams{IntegrationID: p.IntegrationID})
	if err != nil {
		return nil, fmt.Errorf("integration health: %w", err)
	}
	h.IntegrationBacklog = *b
	return h, nil
}

// IntegrationBacklog reads the integration's part of the queue index; its
// lowest id is its oldest event (ids follow the log's order).
func (s *Store) IntegrationBacklog(ctx context.Context, p store.IntegrationBacklogParams) (*store.IntegrationBacklog, error) {
	b := &store.IntegrationBacklog{}
	var oldestID sql.NullInt64
	if err := s.X.QueryRow(ctx, `SELECT COUNT(*), MIN(id) FROM deliveries`+s.X.d.QueueIndex+`
		WHERE integration_id = ? AND status = `+Pending, p.IntegrationID).Scan(&b.Backlog, &oldestID); err != nil {
		return nil, fmt.Errorf("backlog of %s: %w", p.IntegrationID, err)
	}
	if oldestID.Valid {
		var recv int64
		if err := s.X.QueryRow(ctx, `SELECT received_at FROM deliveries WHERE id = ?`, oldestID.Int64).Scan(&recv); err != nil {
			return nil, fmt.Errorf("backlog of %s: oldest pending: %w", p.IntegrationID, err)
		}
		b.OldestPending = FromMS(recv)
	}
	return b, nil
}
