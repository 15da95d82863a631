package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/sqlstore"
)

// RecordProcessed stores deliveries (and the events' profile pass, if
// given) and moves the processor cursor in one transaction. A pending delivery whose (integration, message id) was seen
// within the dedupe window becomes filtered, reason duplicate.
func (db *DB) RecordProcessed(ctx context.Context, p store.RecordProcessedParams) error {
	now := ms(p.Now)
	n := len(p.Deliveries)
	sealedPayloads, sealedProcessed, err := db.SealProcessed(p)
	if err != nil {
		return fmt.Errorf("record processed: %w", err)
	}
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		// Move the cursor first: its row lock serialises processors on
		// several nodes, and one that lost the race writes nothing.
		tag, err := tx.Exec(ctx, `INSERT INTO cursors (name, seq) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET seq = GREATEST(cursors.seq, excluded.seq) WHERE $3::bigint IS NULL OR cursors.seq = $3::bigint`,
			store.ProcessorCursor, p.UpToSeq, p.FromSeq)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return signal.Errorf(signal.ECONFLICT, "the processor cursor moved: another processor recorded these events")
		}
		if p.Profiles != nil {
			if err := db.recordProfiles(ctx, tx, p.Profiles, now); err != nil {
				return err
			}
		}
		if err := sqlstore.FilterDeleted(p.Deliveries, func(id string) (bool, error) {
			var gone bool
			err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deleted_integrations WHERE id = $1)`, id).Scan(&gone)
			return gone, err
		}); err != nil {
			return err
		}
		// First batch: the dedupe claims, one statement each and in order
		// (a copy later in the same call is a duplicate of an earlier
		// one), and the deliveries' ids.
		b := &pgx.Batch{}
		if p.DedupeWindow > 0 {
			cutoff := now - p.DedupeWindow.Milliseconds()
			for _, d := range p.Deliveries {
				if d.IntegrationID == "" || d.Status != signal.StatusPending {
					continue
				}
				b.Queue(`INSERT INTO dedupe (integration_id, pipeline_id, signed, message_id, created_at) VALUES ($1, $2, $3, $4, $5)
					ON CONFLICT (integration_id, pipeline_id, signed, message_id) DO UPDATE SET created_at = excluded.created_at WHERE dedupe.created_at < $6`,
					d.IntegrationID, d.PipelineID, d.Signed, d.MessageID, now, cutoff).Exec(func(tag pgconn.CommandTag) error {
					if tag.RowsAffected() == 0 {
						d.Status, d.Reason = signal.StatusFiltered, signal.ReasonDuplicate
					}
					return nil
				})
			}
		}
		// Ids come from the sequence, sorted and handed out in the order
		// of p.Deliveries: a contact's oldest pending delivery is its
		// lowest id. (The order of a multi-row RETURNING is not
		// guaranteed, so ids are not read back from the insert.)
		var ids []int64
		if n > 0 {
			b.Queue(`SELECT nextval('deliveries_id_seq') FROM generate_series(1, $1)`, n).Query(func(rows pgx.Rows) error {
				var err error
				ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
				return err
			})
		}
		if b.Len() > 0 {
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return fmt.Errorf("dedupe and draw ids: %w", err)
			}
		}
		slices.Sort(ids)

		b = &pgx.Batch{}
		if n > 0 {
			cols := newDeliveryColumns(n, now)
			for i, d := range p.Deliveries {
				d.ID = ids[i]
				cols.add(d, sealedPayloads[i])
			}
			b.Queue(insertDeliveries, cols.args()...)
		}
		profileIDs, err := store.ProcessedProfileIDs(p)
		if err != nil {
			return err
		}
		queueSearch(b, p.SearchKeys, p.Processed, profileIDs, sealedProcessed)
		return tx.SendBatch(ctx, b).Close()
	})
	if err := sqlstore.Recorded(err, p.Deliveries, now); err != nil {
		return err
	}
	db.stats.added(db, len(p.Deliveries))
	return nil
}

// expireDeliveries filters an integration's pending, unleased deliveries
// that are past their expiry. It skips rows another transaction holds
// rather than wait for them, so concurrent claimers never deadlock on it.
const expireDeliveries = `UPDATE deliveries SET status = ` + sqlstore.Filtered + `, reason = ` + sqlstore.Expired + `, updated_at = $2
	WHERE id IN (SELECT id FROM deliveries
		WHERE integration_id = $1 AND status = ` + sqlstore.Pending + ` AND expires_at > 0 AND expires_at <= $2 AND lease_until <= $2
		FOR UPDATE SKIP LOCKED)`

// claimDeliveries locks up to $3 claimable deliveries, skipping those other
// claimers hold, and leases them. A row leased by a claimer that committed
// meanwhile is re-checked under the lock and dropped (its lease_until has
// moved). The per-contact rule looks at status, not leases: a contact's
// second delivery waits while the first is pending, leased or not.
var claimDeliveries = `WITH claimable AS (
	SELECT d.id FROM deliveries d
	WHERE d.integration_id = $1 AND d.status = ` + sqlstore.Pending + ` AND d.next_attempt_at <= $2 AND d.lease_until <= $2 AND d.backfill_id = ''
	AND (d.contact_key = '' OR NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.integration_id = d.integration_id AND e.status = ` + sqlstore.Pending + `
		AND e.contact_key = d.contact_key AND e.priority >= d.priority AND e.id < d.id AND e.backfill_id = ''))
	ORDER BY d.priority DESC, d.id
	LIMIT $3
	FOR UPDATE SKIP LOCKED
)
UPDATE deliveries d SET lease_until = $4 FROM claimable c WHERE d.id = c.id
RETURNING ` + prefixed("d.", sqlstore.DeliveryCols)

// ClaimDeliveries leases the next deliveries of an integration: due,
// unleased, each its contact's oldest pending one, highest priority first.
// Pending deliveries past their expiry are filtered as expired on the way.
// Safe across concurrent claimers on any number of nodes.
func (db *DB) ClaimDeliveries(ctx context.Context, p store.ClaimDeliveriesParams) ([]*signal.Delivery, error) {
	now := ms(p.Now)
	var out []*signal.Delivery
	// One batch, one implicit transaction: the expiry commits with the
	// claim, and the claim (a later statement) sees it.
	b := &pgx.Batch{}
	b.Queue(expireDeliveries, p.IntegrationID, now)
	var lim any = p.Limit
	if p.Limit < 0 {
		lim = nil // LIMIT NULL: no limit, as a negative LIMIT is in SQLite
	}
	b.Queue(claimDeliveries, p.IntegrationID, now, lim, ms(p.LeaseUntil)).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			d, err := db.ScanDelivery(rows.Scan)
			if err != nil {
				return err
			}
			d.LeaseUntil = fromMS(ms(p.LeaseUntil))
			out = append(out, d)
		}
		return rows.Err()
	})
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("claim deliveries of %s: %w", p.IntegrationID, err)
	}
	// RETURNING has no order: restore the claim order.
	slices.SortFunc(out, func(a, b *signal.Delivery) int {
		return cmp.Or(cmp.Compare(b.Priority, a.Priority), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// FinishDeliveries writes attempt outcomes and releases their leases, in
// one statement.
func (db *DB) FinishDeliveries(ctx context.Context, p store.FinishDeliveriesParams) error {
	if len(p.Deliveries) == 0 {
		return nil
	}
	now := ms(p.Now)
	n := len(p.Deliveries)
	var (
		ids                      = make([]int64, n)
		statuses, reasons, notes = make([]string, n), make([]string, n), make([]string, n)
		attempts, vstatus        = make([]int32, n), make([]int32, n)
		next, leases, created    = make([]int64, n), make([]int64, n), make([]int64, n)
		resps, payloads          = make([][]byte, n), make([][]byte, n)
	)
	for i, d := range p.Deliveries {
		var err error
		if payloads[i], err = db.seal(d.Payload); err != nil {
			return fmt.Errorf("finish deliveries: %w", err)
		}
		if d.VendorResponse != "" {
			if resps[i], err = db.seal([]byte(d.VendorResponse)); err != nil {
				return fmt.Errorf("finish deliveries: %w", err)
			}
		}
		ids[i], statuses[i], reasons[i], notes[i] = d.ID, string(d.Status), string(d.Reason), d.Note
		attempts[i], vstatus[i], next[i], leases[i] = int32(d.Attempts), int32(d.VendorStatus), ms(d.NextAttemptAt), ms(d.LeaseUntil)
		created[i] = ms(d.CreatedAt)
	}
	q := `UPDATE deliveries d SET status = u.status, reason = u.reason, note = u.note, attempts = u.attempts,
		next_attempt_at = u.next_attempt_at, lease_until = 0, vendor_status = u.vendor_status, vendor_response = u.vendor_response,
		payload = u.payload, updated_at = $1, created_at = CASE WHEN d.attempts = 0 THEN u.created_at ELSE d.created_at END
		FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::int[], $7::bigint[], $8::int[], $9::bytea[], $10::bytea[], $11::bigint[], $12::bigint[])
			AS u (id, status, reason, note, attempts, next_attempt_at, vendor_status, vendor_response, payload, lease_until, created_at)
		WHERE d.id = u.id AND d.status = ` + sqlstore.Pending + ` AND d.lease_until = u.lease_until`
	args := []any{now, ids, statuses, reasons, notes, attempts, next, vstatus, resps, payloads, leases, created}
	if at, err := db.attemptsArgs(p.Deliveries); err != nil {
		return fmt.Errorf("finish deliveries: %w", err)
	} else if at != nil {
		q, args = withAttempts(q), append(args, at...)
	}
	_, err := db.pool.Exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("finish deliveries: %w", err)
	}
	for _, d := range p.Deliveries {
		d.UpdatedAt = fromMS(now)
	}
	return nil
}
