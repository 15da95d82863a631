package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/sqlstore"
)

const deliveryInsertCols = 25

// RecordProcessed stores deliveries (and the events' profile pass, if
// given) and moves the processor cursor in one transaction. A pending delivery whose (integration, pipeline, signed,
// message id) was seen within the dedupe window becomes filtered, reason
// duplicate.
func (db *DB) RecordProcessed(ctx context.Context, p store.RecordProcessedParams) error {
	now := ms(p.Now)
	sealedPayloads, sealedProcessed, err := db.SealProcessed(p)
	if err != nil {
		return fmt.Errorf("record processed: %w", err)
	}
	err = db.inPassTx(ctx, func(tx *sql.Tx) error {
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
		if p.Profiles != nil {
			if err := db.recordProfiles(ctx, tx, p.Profiles, now); err != nil {
				return err
			}
		}
		if err := sqlstore.FilterDeleted(p.Deliveries, func(id string) (bool, error) {
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
					sealedPayloads[start+i], ms(d.ReceivedAt), now, now, 0, sqlstore.WarningsText(d.Warnings), d.BackfillID, d.BackfillID)
			}
			q := `INSERT INTO deliveries (id, event_seq, message_id, pipeline_id, integration_id, type, event, status, reason, note,
				vendor_event_name, priority, contact_key, attempts, next_attempt_at, expires_at, vendor_status, payload,
				received_at, created_at, updated_at, lease_until, warnings, backfill_id, backfill_origin) VALUES ` +
				strings.TrimSuffix(strings.Repeat("(?"+strings.Repeat(",?", deliveryInsertCols-1)+"),", len(chunk)), ",")
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("insert deliveries: %w", err)
			}
		}
		profileIDs, err := store.ProcessedProfileIDs(p)
		if err != nil {
			return err
		}
		return db.recordSearch(ctx, tx, p.SearchKeys, p.Processed, profileIDs, sealedProcessed)
	})
	return sqlstore.Recorded(err, p.Deliveries, now)
}

// ClaimDeliveries leases the next deliveries of an integration: due,
// unleased, each its contact's oldest pending one, highest priority first.
// Pending deliveries past their expiry are filtered as expired on the way.
func (db *DB) ClaimDeliveries(ctx context.Context, p store.ClaimDeliveriesParams) ([]*signal.Delivery, error) {
	now := ms(p.Now)
	var out []*signal.Delivery
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = `+sqlstore.Filtered+`, reason = `+sqlstore.Expired+`, updated_at = ?
			WHERE integration_id = ? AND status = `+sqlstore.Pending+` AND expires_at > 0 AND expires_at <= ? AND lease_until <= ?`,
			now, p.IntegrationID, now, now); err != nil {
			return err
		}
		// Walk the queue index in claim order and stop at the limit; left
		// to itself the planner fetches every due row and sorts them, which
		// is linear in the backlog.
		rows, err := tx.QueryContext(ctx, `SELECT `+sqlstore.DeliveryCols+` FROM deliveries d INDEXED BY deliveries_queue
			WHERE d.integration_id = ? AND d.status = `+sqlstore.Pending+` AND d.next_attempt_at <= ? AND d.lease_until <= ? AND d.backfill_id = ''
			AND (d.contact_key = '' OR NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.integration_id = d.integration_id AND e.status = `+sqlstore.Pending+`
				AND e.contact_key = d.contact_key AND e.priority >= d.priority AND e.id < d.id AND e.backfill_id = ''))
			ORDER BY d.priority DESC, d.id LIMIT ?`, p.IntegrationID, now, now, p.Limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			d, err := db.ScanDelivery(rows.Scan)
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
			lease_until = 0, vendor_status = ?, vendor_response = ?, payload = ?, updated_at = ?,
			created_at = CASE WHEN attempts = 0 THEN ? ELSE created_at END
			WHERE id = ? AND status = `+sqlstore.Pending+` AND lease_until = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, d := range p.Deliveries {
			res, err := stmt.ExecContext(ctx, d.Status, d.Reason, d.Note, d.Attempts, ms(d.NextAttemptAt), d.VendorStatus,
				s[i].resp, s[i].payload, now, ms(d.CreatedAt), d.ID, ms(d.LeaseUntil))
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
