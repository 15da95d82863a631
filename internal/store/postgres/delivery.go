package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// RecordProcessed stores deliveries and moves the processor cursor in one
// transaction. A pending delivery whose (integration, message id) was seen
// within the dedupe window becomes filtered, reason duplicate.
func (db *DB) RecordProcessed(ctx context.Context, p store.RecordProcessedParams) error {
	now := ms(p.Now)
	n := len(p.Deliveries)
	sealedPayloads := make([][]byte, n)
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
	err := db.inTx(ctx, func(tx pgx.Tx) error {
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
		if err := store.FilterDeleted(p.Deliveries, func(id string) (bool, error) {
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
		queueSearch(b, p.SearchKeys, p.Processed, sealedProcessed)
		return tx.SendBatch(ctx, b).Close()
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
	db.stats.added(db, len(p.Deliveries))
	return nil
}

const deliveryCols = `id, event_seq, message_id, pipeline_id, integration_id, type, event, status, reason, note, vendor_event_name,
	priority, contact_key, attempts, next_attempt_at, expires_at, vendor_status, vendor_response, payload, received_at, created_at, updated_at`

func (db *DB) scanDelivery(row pgx.Row) (*signal.Delivery, error) {
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

// expireDeliveries filters an integration's pending, unleased deliveries
// that are past their expiry. It skips rows another transaction holds
// rather than wait for them, so concurrent claimers never deadlock on it.
const expireDeliveries = `UPDATE deliveries SET status = 'filtered', reason = 'expired', updated_at = $2
	WHERE id IN (SELECT id FROM deliveries
		WHERE integration_id = $1 AND status = 'pending' AND expires_at > 0 AND expires_at <= $2 AND lease_until <= $2
		FOR UPDATE SKIP LOCKED)`

// claimDeliveries locks up to $3 claimable deliveries, skipping those other
// claimers hold, and leases them. A row leased by a claimer that committed
// meanwhile is re-checked under the lock and dropped (its lease_until has
// moved). The per-contact rule looks at status, not leases: a contact's
// second delivery waits while the first is pending, leased or not.
var claimDeliveries = `WITH claimable AS (
	SELECT d.id FROM deliveries d
	WHERE d.integration_id = $1 AND d.status = 'pending' AND d.next_attempt_at <= $2 AND d.lease_until <= $2
	AND (d.contact_key = '' OR NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.integration_id = d.integration_id AND e.status = 'pending'
		AND e.contact_key = d.contact_key AND e.priority >= d.priority AND e.id < d.id))
	ORDER BY d.priority DESC, d.id
	LIMIT $3
	FOR UPDATE SKIP LOCKED
)
UPDATE deliveries d SET lease_until = $4 FROM claimable c WHERE d.id = c.id
RETURNING ` + prefixed("d.", deliveryCols)

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
			d, err := db.scanDelivery(rows)
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
		next, leases             = make([]int64, n), make([]int64, n)
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
		ids[i], statuses[i], reasons[i], notes[i] = d.ID, d.Status, d.Reason, d.Note
		attempts[i], vstatus[i], next[i], leases[i] = int32(d.Attempts), int32(d.VendorStatus), ms(d.NextAttemptAt), ms(d.LeaseUntil)
	}
	q := `UPDATE deliveries d SET status = u.status, reason = u.reason, note = u.note, attempts = u.attempts,
		next_attempt_at = u.next_attempt_at, lease_until = 0, vendor_status = u.vendor_status, vendor_response = u.vendor_response,
		payload = u.payload, updated_at = $1
		FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::int[], $7::bigint[], $8::int[], $9::bytea[], $10::bytea[], $11::bigint[])
			AS u (id, status, reason, note, attempts, next_attempt_at, vendor_status, vendor_response, payload, lease_until)
		WHERE d.id = u.id AND d.status = 'pending' AND d.lease_until = u.lease_until`
	args := []any{now, ids, statuses, reasons, notes, attempts, next, vstatus, resps, payloads, leases}
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

// NextDue tells when the integration's earliest pending delivery is due.
func (db *DB) NextDue(ctx context.Context, p store.NextDueParams) (time.Time, bool, error) {
	var next *int64
	if err := db.pool.QueryRow(ctx, `SELECT MIN(GREATEST(next_attempt_at, lease_until)) FROM deliveries
		WHERE integration_id = $1 AND status = 'pending'`, p.IntegrationID).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("next due of %s: %w", p.IntegrationID, err)
	}
	if next == nil {
		return time.Time{}, false, nil
	}
	return fromMS(*next), true, nil
}

// RequeueDeliveries puts failed deliveries back in the queue (replay).
func (db *DB) RequeueDeliveries(ctx context.Context, p store.RequeueDeliveriesParams) (int, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE deliveries SET status = 'pending', reason = '', note = '', attempts = 0, next_attempt_at = $1,
		created_at = $1, lease_until = 0, expires_at = 0, updated_at = $1 WHERE integration_id = $2 AND status = $3 AND received_at >= $4`,
		ms(p.Now), p.IntegrationID, p.Status, ms(p.Since))
	if err != nil {
		return 0, fmt.Errorf("requeue deliveries of %s: %w", p.IntegrationID, err)
	}
	return int(tag.RowsAffected()), nil
}

// ReleaseLeases makes every leased pending delivery claimable again, as
// store.DeliveryStore documents: it is meant for the start-up of a single
// node after a crash. With several nodes sharing this database it also
// frees the leases of deliveries other nodes are sending right now, which
// may then be sent twice; a multi-node deployment should not call it at
// start-up and rely on leases expiring instead.
func (db *DB) ReleaseLeases(ctx context.Context) error {
	if _, err := db.pool.Exec(ctx, `UPDATE deliveries SET lease_until = 0 WHERE status = 'pending' AND lease_until > 0`); err != nil {
		return fmt.Errorf("release leases: %w", err)
	}
	return nil
}

// Prune deletes expired dedupe entries and up to Limit events received
// before p.Before that the processor has passed, wherever they lie in the
// log (found by receipt time, events_received), with their deliveries;
// deliveries still waiting end filtered, expired, first. Safe to run on
// several nodes at once (rows another node is pruning are skipped).
func (db *DB) Prune(ctx context.Context, p store.PruneParams) (store.PruneResult, error) {
	if p.Limit <= 0 {
		p.Limit = 1000
	}
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	var res store.PruneResult
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM dedupe WHERE created_at < $1`, ms(p.DedupeBefore)); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT seq FROM events
			WHERE received_at < $2 AND seq <= COALESCE((SELECT seq FROM cursors WHERE name = $1), 0)
			ORDER BY received_at LIMIT $3 FOR UPDATE SKIP LOCKED`, store.ProcessorCursor, ms(p.Before), p.Limit)
		if err != nil {
			return err
		}
		seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil || len(seqs) == 0 {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE deliveries SET status = $1, reason = $2, lease_until = 0, updated_at = $3
			WHERE status = 'pending' AND event_seq = ANY($4)`, signal.StatusFiltered, signal.ReasonExpired, ms(now), seqs)
		if err != nil {
			return fmt.Errorf("expire deliveries: %w", err)
		}
		res.Expired = int(tag.RowsAffected())
		for _, q := range []string{
			`DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_seq = ANY($1))`,
			`DELETE FROM deliveries WHERE event_seq = ANY($1)`,
			`DELETE FROM event_search WHERE event_seq = ANY($1)`,
			`DELETE FROM event_processed WHERE event_seq = ANY($1)`,
		} {
			if _, err := tx.Exec(ctx, q, seqs); err != nil {
				return fmt.Errorf("prune: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM events WHERE seq = ANY($1)`, seqs); err != nil {
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
