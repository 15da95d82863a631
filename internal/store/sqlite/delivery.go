package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

const deliveryInsertCols = 22

// RecordProcessed stores deliveries and moves the processor cursor in one
// transaction. A pending delivery whose (integration, pipeline, signed,
// message id) was seen within the dedupe window becomes filtered, reason
// duplicate.
func (db *DB) RecordProcessed(ctx context.Context, p store.RecordProcessedParams) error {
	now := ms(p.Now)
	sealedPayloads := make([][]byte, len(p.Deliveries))
	for i, d := range p.Deliveries {
		var err error
		if sealedPayloads[i], err = db.seal(d.Payload); err != nil {
			return fmt.Errorf("record processed: seal: %w", err)
		}
	}
	sealedProcessed := make([][]byte, len(p.Processed))
	for i, pe := range p.Processed {
		var err error
		if sealedProcessed[i], err = db.seal(pe.Body); err != nil {
			return fmt.Errorf("record processed: seal: %w", err)
		}
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		// Move the cursor first: a processor that lost a race writes nothing.
		res, err := tx.ExecContext(ctx, `INSERT INTO cursors (name, seq) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET seq = MAX(seq, excluded.seq) WHERE ? IS NULL OR seq = ?`,
			store.ProcessorCursor, p.UpToSeq, p.FromSeq, p.FromSeq)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return signal.Errorf(signal.ECONFLICT, "the processor cursor moved: another processor recorded these events")
		}
		if err := store.FilterDeleted(p.Deliveries, func(id string) (bool, error) {
			var n int
			err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM deleted_integrations WHERE id = ?`, id).Scan(&n)
			return n > 0, err
		}); err != nil {
			return err
		}
		if p.DedupeWindow > 0 {
			cutoff := now - p.DedupeWindow.Milliseconds()
			for _, d := range p.Deliveries {
				if d.IntegrationID == "" || d.Status != signal.StatusPending {
					continue
				}
				res, err := tx.ExecContext(ctx, `INSERT INTO dedupe (integration_id, pipeline_id, signed, message_id, created_at) VALUES (?, ?, ?, ?, ?)
					ON CONFLICT (integration_id, pipeline_id, signed, message_id) DO UPDATE SET created_at = excluded.created_at WHERE dedupe.created_at < ?`,
					d.IntegrationID, d.PipelineID, d.Signed, d.MessageID, now, cutoff)
				if err != nil {
					return fmt.Errorf("dedupe: %w", err)
				}
				if n, _ := res.RowsAffected(); n == 0 {
					d.Status, d.Reason = signal.StatusFiltered, signal.ReasonDuplicate
				}
			}
		}
		// Ids are assigned here, in order: this store has one writer, and
		// the order of a multi-row RETURNING is not guaranteed.
		var next int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM deliveries`).Scan(&next); err != nil {
			return fmt.Errorf("next delivery id: %w", err)
		}
		for start := 0; start < len(p.Deliveries); start += 128 {
			end := min(start+128, len(p.Deliveries))
			chunk := p.Deliveries[start:end]
			args := make([]any, 0, len(chunk)*deliveryInsertCols)
			for i, d := range chunk {
				d.ID = next
				next++
				args = append(args, d.ID, d.EventSeq, d.MessageID, d.PipelineID, d.IntegrationID, d.Type, d.Event, d.Status, d.Reason, d.Note,
					d.VendorEventName, d.Priority, d.ContactKey, d.Attempts, ms(d.NextAttemptAt), ms(d.ExpiresAt), d.VendorStatus,
					sealedPayloads[start+i], ms(d.ReceivedAt), now, now, 0)
			}
			q := `INSERT INTO deliveries (id, event_seq, message_id, pipeline_id, integration_id, type, event, status, reason, note,
				vendor_event_name, priority, contact_key, attempts, next_attempt_at, expires_at, vendor_status, payload,
				received_at, created_at, updated_at, lease_until) VALUES ` +
				strings.TrimSuffix(strings.Repeat("(?"+strings.Repeat(",?", deliveryInsertCols-1)+"),", len(chunk)), ",")
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("insert deliveries: %w", err)
			}
		}
		return db.recordSearch(ctx, tx, p.SearchKeys, p.Processed, sealedProcessed)
	})
	if signal.ErrorCode(err) == signal.ECONFLICT {
		return err
	}
	if err != nil {
		return fmt.Errorf("record processed: %w", err)
	}
	for _, d := range p.Deliveries {
		d.CreatedAt, d.UpdatedAt = fromMS(now), fromMS(now)
	}
	return nil
}

const deliveryCols = `id, event_seq, message_id, pipeline_id, integration_id, type, event, status, reason, note, vendor_event_name,
	priority, contact_key, attempts, next_attempt_at, expires_at, vendor_status, vendor_response, payload, received_at, created_at, updated_at`

func (db *DB) scanDelivery(row interface{ Scan(...any) error }) (*signal.Delivery, error) {
	var (
		d                                 signal.Delivery
		next, exp, recv, created, updated int64
		resp, payload                     []byte
	)
	if err := row.Scan(&d.ID, &d.EventSeq, &d.MessageID, &d.PipelineID, &d.IntegrationID, &d.Type, &d.Event, &d.Status, &d.Reason,
		&d.Note, &d.VendorEventName, &d.Priority, &d.ContactKey, &d.Attempts, &next, &exp, &d.VendorStatus, &resp, &payload,
		&recv, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if d.Payload, err = db.open(payload); err != nil {
		return nil, fmt.Errorf("open payload of delivery %d: %w", d.ID, err)
	}
	r, err := db.open(resp)
	if err != nil {
		return nil, fmt.Errorf("open response of delivery %d: %w", d.ID, err)
	}
	d.VendorResponse = string(r)
	d.NextAttemptAt, d.ExpiresAt, d.ReceivedAt, d.CreatedAt, d.UpdatedAt = fromMS(next), fromMS(exp), fromMS(recv), fromMS(created), fromMS(updated)
	return &d, nil
}

// ClaimDeliveries leases the next deliveries of an integration: due,
// unleased, each its contact's oldest pending one, highest priority first.
// Pending deliveries past their expiry are filtered as expired on the way.
func (db *DB) ClaimDeliveries(ctx context.Context, p store.ClaimDeliveriesParams) ([]*signal.Delivery, error) {
	now := ms(p.Now)
	var out []*signal.Delivery
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'filtered', reason = 'expired', updated_at = ?
			WHERE integration_id = ? AND status = 'pending' AND expires_at > 0 AND expires_at <= ? AND lease_until <= ?`,
			now, p.IntegrationID, now, now); err != nil {
			return err
		}
		// Walk the queue index in claim order and stop at the limit; left
		// to itself the planner fetches every due row and sorts them, which
		// is linear in the backlog.
		rows, err := tx.QueryContext(ctx, `SELECT `+deliveryCols+` FROM deliveries d INDEXED BY deliveries_queue
			WHERE d.integration_id = ? AND d.status = 'pending' AND d.next_attempt_at <= ? AND d.lease_until <= ?
			AND (d.contact_key = '' OR NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.integration_id = d.integration_id AND e.status = 'pending'
				AND e.contact_key = d.contact_key AND e.priority >= d.priority AND e.id < d.id))
			ORDER BY d.priority DESC, d.id LIMIT ?`, p.IntegrationID, now, now, p.Limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			d, err := db.scanDelivery(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		args := make([]any, 0, len(out)+1)
		args = append(args, ms(p.LeaseUntil))
		for _, d := range out {
			d.LeaseUntil = fromMS(ms(p.LeaseUntil))
			args = append(args, d.ID)
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET lease_until = ? WHERE id IN (?`+strings.Repeat(",?", len(out)-1)+`)`, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries of %s: %w", p.IntegrationID, err)
	}
	return out, nil
}

// FinishDeliveries writes attempt outcomes and releases their leases.
func (db *DB) FinishDeliveries(ctx context.Context, p store.FinishDeliveriesParams) error {
	now := ms(p.Now)
	type sealed struct{ resp, payload []byte }
	s := make([]sealed, len(p.Deliveries))
	attemptResp := make([][]byte, len(p.Deliveries))
	updated := make([]bool, len(p.Deliveries))
	for i, d := range p.Deliveries {
		var err error
		if d.Attempt != nil && d.Attempt.VendorResponse != "" {
			if attemptResp[i], err = db.seal([]byte(d.Attempt.VendorResponse)); err != nil {
				return fmt.Errorf("finish deliveries: %w", err)
			}
		}
		if s[i].payload, err = db.seal(d.Payload); err != nil {
			return fmt.Errorf("finish deliveries: %w", err)
		}
		if d.VendorResponse != "" {
			if s[i].resp, err = db.seal([]byte(d.VendorResponse)); err != nil {
				return fmt.Errorf("finish deliveries: %w", err)
			}
		}
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE deliveries SET status = ?, reason = ?, note = ?, attempts = ?, next_attempt_at = ?,
			lease_until = 0, vendor_status = ?, vendor_response = ?, payload = ?, updated_at = ?
			WHERE id = ? AND status = 'pending' AND lease_until = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, d := range p.Deliveries {
			res, err := stmt.ExecContext(ctx, d.Status, d.Reason, d.Note, d.Attempts, ms(d.NextAttemptAt), d.VendorStatus,
				s[i].resp, s[i].payload, now, d.ID, ms(d.LeaseUntil))
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			updated[i] = n > 0
			d.UpdatedAt = fromMS(now)
		}
		return db.recordAttempts(ctx, tx, p, attemptResp, updated)
	})
	if err != nil {
		return fmt.Errorf("finish deliveries: %w", err)
	}
	return nil
}

// NextDue tells when the integration's earliest pending delivery is due.
func (db *DB) NextDue(ctx context.Context, p store.NextDueParams) (time.Time, bool, error) {
	var next sql.NullInt64
	if err := db.read.QueryRowContext(ctx, `SELECT MIN(MAX(next_attempt_at, lease_until)) FROM deliveries
		WHERE integration_id = ? AND status = 'pending'`, p.IntegrationID).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("next due of %s: %w", p.IntegrationID, err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	return fromMS(next.Int64), true, nil
}

// RequeueDeliveries puts failed deliveries back in the queue (replay).
func (db *DB) RequeueDeliveries(ctx context.Context, p store.RequeueDeliveriesParams) (int, error) {
	res, err := db.write.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', reason = '', note = '', attempts = 0, next_attempt_at = ?, created_at = ?,
		lease_until = 0, expires_at = 0, updated_at = ? WHERE integration_id = ? AND status = ? AND received_at >= ?`,
		ms(p.Now), ms(p.Now), ms(p.Now), p.IntegrationID, p.Status, ms(p.Since))
	if err != nil {
		return 0, fmt.Errorf("requeue deliveries of %s: %w", p.IntegrationID, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ReleaseLeases frees deliveries leased by a process that is gone.
func (db *DB) ReleaseLeases(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `UPDATE deliveries SET lease_until = 0 WHERE status = 'pending' AND lease_until > 0`); err != nil {
		return fmt.Errorf("release leases: %w", err)
	}
	return nil
}

// Prune deletes expired dedupe entries and up to Limit events received
// before p.Before that the processor has passed, wherever they lie in the
// log (found by receipt time, events_received), with their deliveries;
// deliveries still waiting end filtered, expired, first.
func (db *DB) Prune(ctx context.Context, p store.PruneParams) (store.PruneResult, error) {
	if p.Limit <= 0 {
		p.Limit = 1000
	}
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	var res store.PruneResult
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM dedupe WHERE created_at < ?`, ms(p.DedupeBefore)); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT seq FROM events
			WHERE received_at < ? AND seq <= COALESCE((SELECT seq FROM cursors WHERE name = ?), 0)
			ORDER BY received_at LIMIT ?`, ms(p.Before), store.ProcessorCursor, p.Limit)
		if err != nil {
			return err
		}
		var seqs []any
		for rows.Next() {
			var seq int64
			if err := rows.Scan(&seq); err != nil {
				rows.Close()
				return err
			}
			seqs = append(seqs, seq)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(seqs) == 0 {
			return err
		}
		in := "(?" + strings.Repeat(",?", len(seqs)-1) + ")"
		expire := append([]any{signal.StatusFiltered, signal.ReasonExpired, ms(now)}, seqs...)
		r, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = ?, reason = ?, lease_until = 0, updated_at = ?
			WHERE status = 'pending' AND event_seq IN `+in, expire...)
		if err != nil {
			return fmt.Errorf("expire deliveries: %w", err)
		}
		n, _ := r.RowsAffected()
		res.Expired = int(n)
		if _, err := tx.ExecContext(ctx, `DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_seq IN `+in+`)`, seqs...); err != nil {
			return fmt.Errorf("delete attempts: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE event_seq IN `+in, seqs...); err != nil {
			return err
		}
		for _, t := range []string{"event_search", "event_processed"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE event_seq IN `+in, seqs...); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM events WHERE seq IN `+in, seqs...); err != nil {
			return err
		}
		res.Events = len(seqs)
		return nil
	})
	if err != nil {
		return store.PruneResult{}, fmt.Errorf("prune: %w", err)
	}
	return res, nil
}
