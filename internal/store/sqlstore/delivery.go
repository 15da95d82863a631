package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// DeliveryCols are a delivery row's columns as ScanDelivery reads them.
const DeliveryCols = `id, event_seq, message_id, pipeline_id, integration_id, type, event, status, reason, note, vendor_event_name,
	priority, contact_key, attempts, next_attempt_at, expires_at, vendor_status, vendor_response, payload, received_at, created_at, updated_at`

// ScanDelivery reads a row selected as DeliveryCols and opens its sealed
// columns.
func (s *Store) ScanDelivery(scan func(dest ...any) error) (*signal.Delivery, error) {
	var (
		d                                 signal.Delivery
		next, exp, recv, created, updated int64
		resp, payload                     []byte
	)
	if err := scan(&d.ID, &d.EventSeq, &d.MessageID, &d.PipelineID, &d.IntegrationID, &d.Type, &d.Event, &d.Status, &d.Reason,
		&d.Note, &d.VendorEventName, &d.Priority, &d.ContactKey, &d.Attempts, &next, &exp, &d.VendorStatus, &resp, &payload,
		&recv, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if d.Payload, err = s.Open(payload); err != nil {
		return nil, fmt.Errorf("open payload of delivery %d: %w", d.ID, err)
	}
	r, err := s.Open(resp)
	if err != nil {
		return nil, fmt.Errorf("open response of delivery %d: %w", d.ID, err)
	}
	d.VendorResponse = string(r)
	d.NextAttemptAt, d.ExpiresAt, d.ReceivedAt, d.CreatedAt, d.UpdatedAt = FromMS(next), FromMS(exp), FromMS(recv), FromMS(created), FromMS(updated)
	return &d, nil
}

// NextDue tells when the integration's earliest pending delivery is due.
func (s *Store) NextDue(ctx context.Context, p store.NextDueParams) (time.Time, bool, error) {
	var next sql.NullInt64
	if err := s.X.QueryRow(ctx, `SELECT MIN(`+s.X.d.Greatest+`(next_attempt_at, lease_until)) FROM deliveries
		WHERE integration_id = ? AND status = `+Pending+` AND backfill_id = ''`, p.IntegrationID).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("next due of %s: %w", p.IntegrationID, err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	return FromMS(next.Int64), true, nil
}

// RequeueDeliveries puts failed deliveries back in the queue (replay).
func (s *Store) RequeueDeliveries(ctx context.Context, p store.RequeueDeliveriesParams) (int, error) {
	now := MS(p.Now)
	n, err := s.X.Exec(ctx, `UPDATE deliveries SET status = ?, reason = '', note = '', attempts = 0, next_attempt_at = ?, created_at = ?,
		lease_until = 0, expires_at = 0, updated_at = ?, backfill_id = '', backfill_batch = '' WHERE integration_id = ? AND status = ? AND received_at >= ?`,
		signal.StatusPending, now, now, now, p.IntegrationID, p.Status, MS(p.Since))
	if err != nil {
		return 0, fmt.Errorf("requeue deliveries of %s: %w", p.IntegrationID, err)
	}
	return int(n), nil
}

// ReleaseLeases makes every leased pending delivery claimable again, as
// store.DeliveryStore documents: it is meant for the start-up of a single
// node after a crash. With several nodes sharing a PostgreSQL database it
// also frees the leases of deliveries other nodes are sending right now,
// which may then be sent twice; a multi-node deployment should not call it
// at start-up and rely on leases expiring instead.
func (s *Store) ReleaseLeases(ctx context.Context) error {
	if _, err := s.X.Exec(ctx, `UPDATE deliveries SET lease_until = 0 WHERE status = `+Pending+` AND lease_until > 0`); err != nil {
		return fmt.Errorf("release leases: %w", err)
	}
	// Backfill runners' leases too: a restarted node resumes its backfills
	// at once rather than after the lease of its previous life.
	if _, err := s.X.Exec(ctx, `UPDATE backfills SET lease_holder = '', lease_until = 0 WHERE lease_until > 0`); err != nil {
		return fmt.Errorf("release backfill leases: %w", err)
	}
	return nil
}

// Prune deletes expired dedupe entries and up to Limit events received
// before p.Before that the processor has passed, wherever they lie in the
// log (found by receipt time, events_received), with their deliveries;
// deliveries still waiting end filtered, expired, first. Safe to run on
// several PostgreSQL nodes at once (rows another node is pruning are
// skipped: the dialect's SkipLocked).
func (s *Store) Prune(ctx context.Context, p store.PruneParams) (store.PruneResult, error) {
	if p.Limit <= 0 {
		p.Limit = 1000
	}
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	var res store.PruneResult
	err := s.X.InLogTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM dedupe WHERE created_at < ?`, MS(p.DedupeBefore)); err != nil {
			return err
		}
		seqs, err := prunable(ctx, tx, p)
		if err != nil || len(seqs) == 0 {
			return err
		}
		in := "(?" + strings.Repeat(",?", len(seqs)-1) + ")"
		n, err := tx.Exec(ctx, `UPDATE deliveries SET status = ?, reason = ?, lease_until = 0, updated_at = ?
			WHERE status = `+Pending+` AND event_seq IN `+in,
			append([]any{signal.StatusFiltered, signal.ReasonExpired, MS(now)}, seqs...)...)
		if err != nil {
			return fmt.Errorf("expire deliveries: %w", err)
		}
		res.Expired = int(n)
		for _, q := range []string{
			`DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_seq IN ` + in + `)`,
			`DELETE FROM deliveries WHERE event_seq IN ` + in,
			`DELETE FROM event_search WHERE event_seq IN ` + in,
			`DELETE FROM event_processed WHERE event_seq IN ` + in,
			`DELETE FROM events WHERE seq IN ` + in,
		} {
			if _, err := tx.Exec(ctx, q, seqs...); err != nil {
				return err
			}
		}
		res.Events = len(seqs)
		return nil
	})
	if err != nil {
		return store.PruneResult{}, fmt.Errorf("prune: %w", err)
	}
	return res, nil
}

// prunable locks and returns the seqs of up to p.Limit events to prune.
func prunable(ctx context.Context, tx *Tx, p store.PruneParams) ([]any, error) {
	rows, err := tx.Query(ctx, `SELECT seq FROM events
		WHERE received_at < ? AND seq <= COALESCE((SELECT seq FROM cursors WHERE name = ?), 0)
		ORDER BY received_at LIMIT ?`+tx.x.d.SkipLocked, MS(p.Before), store.ProcessorCursor, p.Limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var seqs []any
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			return nil, err
		}
		seqs = append(seqs, seq)
	}
	return seqs, rows.Err()
}

// WarningsText is how a delivery's warnings are stored: a JSON list, or ""
// for none (most rows).
func WarningsText(ws []signal.Warning) string {
	if len(ws) == 0 {
		return ""
	}
	b, err := json.Marshal(ws)
	if err != nil {
		return ""
	}
	return string(b)
}

// ParseWarnings reads what WarningsText wrote (nil for none or unreadable:
// warnings are advice, never worth failing a read over).
func ParseWarnings(s string) []signal.Warning {
	if s == "" {
		return nil
	}
	var ws []signal.Warning
	if json.Unmarshal([]byte(s), &ws) != nil {
		return nil
	}
	return ws
}
