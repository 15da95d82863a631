package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// CountLiveEvents counts the rows matching the filters by shown status.
func (db *DB) CountLiveEvents(ctx context.Context, p store.ListLiveEventsParams) (store.LiveCounts, error) {
	var (
		args []any
		c    store.LiveCounts
	)
	dl := liveDialect(&args)
	where, err := store.LiveWhere(p, dl, false)
	if err != nil {
		return c, err
	}
	q := `SELECT ` + store.LiveShownStatus(dl) + ` AS shown, COUNT(*)` + store.LiveFrom
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	rows, err := db.pool.Query(ctx, q+` GROUP BY shown`, args...)
	if err != nil {
		return c, fmt.Errorf("count live events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			status string
			n      int64
		)
		if err := rows.Scan(&status, &n); err != nil {
			return c, fmt.Errorf("count live events: %w", err)
		}
		store.AddLiveCount(&c, status, int(n))
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("count live events: %w", err)
	}
	return c, nil
}

// GetLiveEvent returns one row with its processed event and attempts.
func (db *DB) GetLiveEvent(ctx context.Context, p store.GetLiveEventParams) (*signal.LiveEventDetail, error) {
	var args []any
	cond, err := store.LiveIDWhere(p.ID, liveDialect(&args))
	if err != nil {
		return nil, err
	}
	out, keys, err := db.queryLive(ctx, liveCols+store.LiveFrom+` WHERE `+cond, args)
	if err != nil {
		return nil, fmt.Errorf("get live event %s: %w", p.ID, err)
	}
	if len(out) == 0 {
		return nil, signal.Errorf(signal.ENOTFOUND, "live event %q not found", p.ID)
	}
	det := &signal.LiveEventDetail{LiveEvent: out[0], Processed: []byte("null"), Attempts: []signal.Attempt{}}
	var body []byte
	err = db.pool.QueryRow(ctx, `SELECT body FROM event_processed WHERE event_seq = $1`, keys[0][0]).Scan(&body)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("get live event %s: processed: %w", p.ID, err)
	default:
		if det.Processed, err = db.open(body); err != nil {
			return nil, fmt.Errorf("get live event %s: open processed: %w", p.ID, err)
		}
	}
	if keys[0][1] == 0 {
		return det, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT at, vendor_status, vendor_response, duration_ms, error FROM delivery_attempts
		WHERE delivery_id = $1 ORDER BY id`, keys[0][1])
	if err != nil {
		return nil, fmt.Errorf("get live event %s: attempts: %w", p.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			a      signal.Attempt
			at     int64
			status int64
			resp   []byte
		)
		if err := rows.Scan(&at, &status, &resp, &a.DurationMS, &a.Error); err != nil {
			return nil, fmt.Errorf("get live event %s: attempts: %w", p.ID, err)
		}
		r, err := db.open(resp)
		if err != nil {
			return nil, fmt.Errorf("get live event %s: open attempt: %w", p.ID, err)
		}
		a.At, a.VendorStatus, a.VendorResponse = fromMS(at), int(status), string(r)
		det.Attempts = append(det.Attempts, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("get live event %s: attempts: %w", p.ID, err)
	}
	return det, nil
}

// IntegrationHealth reads outcomes from deliveries_outcomes (integration,
// updated_at, status) and the backlog from deliveries_queue.
func (db *DB) IntegrationHealth(ctx context.Context, p store.IntegrationHealthParams) (*store.IntegrationHealth, error) {
	now := ms(p.Now)
	h := &store.IntegrationHealth{}
	var first int64
	h.PerMinute, first = store.HealthMinutes(now)
	rows, err := db.pool.Query(ctx, `SELECT status, updated_at >= $1 AS recent, FLOOR((updated_at - $2) / 60000.0)::bigint AS minute, COUNT(*)
		FROM deliveries WHERE integration_id = $3 AND updated_at >= $4 AND updated_at <= $5 AND status IN ('delivered', 'filtered', 'failed')
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
	var (
		backlog int64
		oldest  *int64
	)
	if err := db.pool.QueryRow(ctx, `SELECT COUNT(*), (SELECT received_at FROM deliveries WHERE id = MIN(q.id))
		FROM deliveries q WHERE q.integration_id = $1 AND q.status = 'pending'`, p.IntegrationID).Scan(&backlog, &oldest); err != nil {
		return nil, fmt.Errorf("integration health of %s: backlog: %w", p.IntegrationID, err)
	}
	h.Backlog = int(backlog)
	if oldest != nil {
		h.OldestPending = fromMS(*oldest)
	}
	return h, nil
}
