package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// backfillItemChunk is how many lines one insert (and one short
// transaction) writes.
const backfillItemChunk = 500

// CreateBackfill stores a backfill's lines, then the backfill. The lines
// are sealed before any transaction, and written in short transactions of
// multi-row inserts, so a large history never holds SQLite's only writer
// for long (live events' group commits go in between). The backfill row
// comes last: a runner never sees a backfill whose lines are not all in;
// if writing fails the lines written are deleted again.
func (s *Store) CreateBackfill(ctx context.Context, p store.CreateBackfillParams) error {
	now := MS(p.Now)
	sealed := make([][]byte, len(p.Items))
	for i, it := range p.Items {
		var err error
		if sealed[i], err = s.Seal(it.Message); err != nil {
			return fmt.Errorf("create backfill %s: seal line %d: %w", p.ID, it.Line, err)
		}
	}
	for start := 0; start < len(p.Items); start += backfillItemChunk {
		end := min(start+backfillItemChunk, len(p.Items))
		args := make([]any, 0, (end-start)*4)
		for i := start; i < end; i++ {
			args = append(args, p.ID, p.Items[i].Line, sealed[i], now)
		}
		q := `INSERT INTO backfill_items (backfill_id, line, message, status, event_id, batch_id, vendor_status, updated_at) VALUES ` +
			strings.TrimSuffix(strings.Repeat(`(?, ?, ?, 'unsent', '', '', 0, ?), `, end-start), ", ")
		if _, err := s.X.Exec(ctx, q, args...); err != nil {
			s.dropBackfillItems(ctx, p.ID)
			return fmt.Errorf("create backfill %s: lines: %w", p.ID, err)
		}
	}
	if _, err := s.X.Exec(ctx, `INSERT INTO backfills (id, integration_id, status, accepted, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		p.ID, p.IntegrationID, store.BackfillRunning, len(p.Items), now, now); err != nil {
		s.dropBackfillItems(ctx, p.ID)
		return fmt.Errorf("create backfill %s: %w", p.ID, err)
	}
	return nil
}

// dropBackfillItems deletes the lines of a backfill that could not be
// created (best effort: its id is never used again).
func (s *Store) dropBackfillItems(ctx context.Context, id string) {
	_, _ = s.X.Exec(context.WithoutCancel(ctx), `DELETE FROM backfill_items WHERE backfill_id = ?`, id)
}

// backfillCols are a backfill's own columns, with the counts kept when it
// ended; a running one's counts come from backfillCounts.
const backfillCols = `b.id, b.integration_id, b.status, b.accepted, b.created_at, b.updated_at, b.counted, b.delivered, b.failed, b.filtered`

// backfillRow is a backfill as read, and whether its counts were kept.
type backfillRow struct {
	*store.Backfill
	counted bool
}

func scanBackfill(scan func(dest ...any) error) (backfillRow, error) {
	var (
		b                store.Backfill
		created, updated int64
		counted, failed  int
	)
	if err := scan(&b.ID, &b.IntegrationID, &b.Status, &b.Accepted, &created, &updated, &counted, &b.Delivered, &failed, &b.Filtered); err != nil {
		return backfillRow{}, err
	}
	b.CreatedAt, b.UpdatedAt = FromMS(created), FromMS(updated)
	if counted == 1 {
		// Ended: its counts as they were then; every line was logged
		// and built, none is held.
		b.Failed = failed + b.Filtered
		b.Pending = max(b.Accepted-b.Delivered-b.Failed, 0)
		b.Logged, b.Built = b.Accepted, b.Accepted
	}
	return backfillRow{Backfill: &b, counted: counted == 1}, nil
}

// backfillCounts fills a backfill's counts in two reads: its deliveries'
// outcomes in one pass over the rows built for it (deliveries_backfill_origin:
// a row a replay sent live still counts for its backfill), and the items
// logged from the event log (the backfill's id is its events' pipeline id:
// events_pipeline).
func (s *Store) backfillCounts(ctx context.Context, queryRow func(context.Context, string, ...any) *sql.Row, b *store.Backfill) error {
	var failed int
	if err := queryRow(ctx, `SELECT
		COALESCE(SUM(CASE WHEN status = `+Delivered+` THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = `+Failed+` THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = `+Filtered+` THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = `+Pending+` AND backfill_id = ? AND backfill_batch = '' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = `+Pending+` AND backfill_id = ? THEN 1 ELSE 0 END), 0),
		COUNT(*)
		FROM deliveries WHERE backfill_origin = ?`, b.ID, b.ID, b.ID).Scan(&b.Delivered, &failed, &b.Filtered, &b.Queued, &b.Held, &b.Built); err != nil {
		return fmt.Errorf("counts of backfill %s: %w", b.ID, err)
	}
	if err := queryRow(ctx, `SELECT COUNT(*) FROM events WHERE pipeline_id = ?`, b.ID).Scan(&b.Logged); err != nil {
		return fmt.Errorf("items logged of backfill %s: %w", b.ID, err)
	}
	b.Failed = failed + b.Filtered
	b.Pending = max(b.Accepted-b.Delivered-b.Failed, 0)
	return nil
}

// backfills reads backfills with their counts.
func (s *Store) backfills(ctx context.Context, q string, args ...any) ([]*store.Backfill, error) {
	rows, err := queryAll(ctx, s.X, scanBackfill, q, args...)
	if err != nil {
		return nil, err
	}
	out := make([]*store.Backfill, len(rows))
	for i, b := range rows {
		if !b.counted {
			if err := s.backfillCounts(ctx, s.X.QueryRow, b.Backfill); err != nil {
				return nil, err
			}
		}
		out[i] = b.Backfill
	}
	return out, nil
}

// GetBackfill returns a backfill with its counts.
func (s *Store) GetBackfill(ctx context.Context, p store.GetBackfillParams) (*store.Backfill, error) {
	b, err := scanBackfill(s.X.QueryRow(ctx, `SELECT `+backfillCols+` FROM backfills b WHERE b.id = ?`, p.ID).Scan)
	if NoRows(err) || (err == nil && p.IntegrationID != "" && b.IntegrationID != p.IntegrationID) {
		return nil, signal.Errorf(signal.ENOTFOUND, "backfill %q not found", p.ID)
	}
	if err == nil && !b.counted {
		err = s.backfillCounts(ctx, s.X.QueryRow, b.Backfill)
	}
	if err != nil {
		return nil, fmt.Errorf("get backfill %s: %w", p.ID, err)
	}
	return b.Backfill, nil
}

// ListBackfills lists an integration's backfills, newest first.
func (s *Store) ListBackfills(ctx context.Context, p store.ListBackfillsParams) ([]*store.Backfill, error) {
	q, args := `SELECT `+backfillCols+` FROM backfills b WHERE b.integration_id = ?`, []any{p.IntegrationID}
	if p.After != "" {
		q += ` AND EXISTS (SELECT 1 FROM backfills c WHERE c.id = ? AND (b.created_at < c.created_at OR (b.created_at = c.created_at AND b.id < c.id)))`
		args = append(args, p.After)
	}
	out, err := s.backfills(ctx, q+` ORDER BY b.created_at DESC, b.id DESC LIMIT ?`, append(args, Limit(p.Limit))...)
	if err != nil {
		return nil, fmt.Errorf("list backfills of %s: %w", p.IntegrationID, err)
	}
	return out, nil
}

// RunningBackfills lists the unfinished backfills, oldest first.
func (s *Store) RunningBackfills(ctx context.Context) ([]*store.Backfill, error) {
	out, err := s.backfills(ctx, `SELECT `+backfillCols+` FROM backfills b WHERE b.status = ? ORDER BY b.created_at, b.id`, store.BackfillRunning)
	if err != nil {
		return nil, fmt.Errorf("running backfills: %w", err)
	}
	return out, nil
}

// LeaseBackfill takes or renews a backfill's runner lease.
func (s *Store) LeaseBackfill(ctx context.Context, p store.LeaseBackfillParams) (bool, error) {
	n, err := s.X.Exec(ctx, `UPDATE backfills SET lease_holder = ?, lease_until = ? WHERE id = ? AND status = ? AND (lease_until <= ? OR lease_holder = ?)`,
		p.Holder, MS(p.Until), p.ID, store.BackfillRunning, MS(p.Now), p.Holder)
	if err != nil {
		return false, fmt.Errorf("lease backfill %s: %w", p.ID, err)
	}
	return n == 1, nil
}

// BackfillItems returns items after the first Offset, in line order.
func (s *Store) BackfillItems(ctx context.Context, p store.BackfillItemsParams) ([]store.BackfillItem, error) {
	out, err := queryAll(ctx, s.X, func(scan func(...any) error) (store.BackfillItem, error) {
		var (
			it     store.BackfillItem
			sealed []byte
		)
		if err := scan(&it.Line, &sealed); err != nil {
			return it, err
		}
		var err error
		it.Message, err = s.Open(sealed)
		return it, err
	}, `SELECT line, message FROM backfill_items WHERE backfill_id = ? ORDER BY line LIMIT ? OFFSET ?`,
		p.BackfillID, p.Limit, p.Offset)
	if err != nil {
		return nil, fmt.Errorf("items of backfill %s: %w", p.BackfillID, err)
	}
	return out, nil
}

// BackfillQueued counts a backfill's pending deliveries in no batch.
func (s *Store) BackfillQueued(ctx context.Context, p store.BackfillQueuedParams) (int, error) {
	var n int
	if err := s.X.QueryRow(ctx, `SELECT COUNT(*) FROM deliveries WHERE backfill_id = ? AND status = `+Pending+` AND backfill_batch = ''`,
		p.BackfillID).Scan(&n); err != nil {
		return 0, fmt.Errorf("queued deliveries of backfill %s: %w", p.BackfillID, err)
	}
	return n, nil
}

// ClaimBackfillDeliveries leases a backfill's next deliveries in no batch.
// Each row is leased by its own conditional update, so two runners racing
// (a lease that expired under a slow one) never both hold a row.
func (s *Store) ClaimBackfillDeliveries(ctx context.Context, p store.ClaimBackfillParams) ([]*signal.Delivery, error) {
	now, until := MS(p.Now), MS(p.LeaseUntil)
	var out []*signal.Delivery
	err := s.X.InTx(ctx, func(tx *Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `SELECT `+DeliveryCols+` FROM deliveries WHERE backfill_id = ? AND status = `+Pending+`
			AND backfill_batch = '' AND next_attempt_at <= ? AND lease_until <= ? ORDER BY id LIMIT ?`, p.BackfillID, now, now, p.Limit)
		if err != nil {
			return err
		}
		cands, err := Collect(rows, s.ScanDelivery)
		rows.Close()
		if err != nil {
			return err
		}
		for _, d := range cands {
			n, err := tx.Exec(ctx, `UPDATE deliveries SET lease_until = ? WHERE id = ? AND status = `+Pending+` AND backfill_batch = '' AND lease_until <= ?`,
				until, d.ID, now)
			if err != nil {
				return err
			}
			if n == 1 {
				d.LeaseUntil = FromMS(until)
				d.BackfillID = p.BackfillID
				out = append(out, d)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries of backfill %s: %w", p.BackfillID, err)
	}
	return out, nil
}

// RecordBatch stores an acknowledged batch and puts its deliveries in it.
func (s *Store) RecordBatch(ctx context.Context, p store.RecordBatchParams) error {
	now := MS(p.Now)
	err := s.X.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO backfill_batches (batch_id, backfill_id, done, created_at) VALUES (?, ?, 0, ?)`,
			p.BatchID, p.BackfillID, now); err != nil {
			return err
		}
		for _, d := range p.Deliveries {
			n, err := tx.Exec(ctx, `UPDATE deliveries SET backfill_batch = ?, lease_until = 0, updated_at = ?
				WHERE id = ? AND backfill_id = ? AND status = `+Pending+` AND backfill_batch = '' AND lease_until = ?`,
				p.BatchID, now, d.ID, p.BackfillID, MS(d.LeaseUntil))
			if err != nil {
				return err
			}
			if n != 1 {
				return signal.Errorf(signal.ECONFLICT, "delivery %d of backfill %s is no longer held by this claim", d.ID, p.BackfillID)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record batch %s: %w", p.BatchID, err)
	}
	for _, d := range p.Deliveries {
		d.LeaseUntil = FromMS(0)
		d.BackfillID = p.BackfillID
	}
	return nil
}

// OpenBatches lists batches still awaiting their results.
func (s *Store) OpenBatches(ctx context.Context, p store.OpenBatchesParams) ([]store.OpenBatch, error) {
	out, err := queryAll(ctx, s.X, func(scan func(...any) error) (store.OpenBatch, error) {
		var (
			b       store.OpenBatch
			created int64
		)
		err := scan(&b.ID, &created)
		b.CreatedAt = FromMS(created)
		return b, err
	}, `SELECT batch_id, created_at FROM backfill_batches WHERE backfill_id = ? AND done = 0 ORDER BY created_at, batch_id`, p.BackfillID)
	if err != nil {
		return nil, fmt.Errorf("open batches of backfill %s: %w", p.BackfillID, err)
	}
	return out, nil
}

// BatchDeliveries returns the deliveries sent in a batch.
func (s *Store) BatchDeliveries(ctx context.Context, p store.BatchDeliveriesParams) ([]*signal.Delivery, error) {
	out, err := queryAll(ctx, s.X, func(scan func(...any) error) (*signal.Delivery, error) {
		var bf string
		d, err := s.ScanDelivery(func(dest ...any) error { return scan(append(dest, &bf)...) })
		if d != nil {
			d.BackfillID = bf
		}
		return d, err
	}, `SELECT `+DeliveryCols+`, backfill_id FROM deliveries WHERE backfill_id = ? AND backfill_batch = ? ORDER BY id`, p.BackfillID, p.BatchID)
	if err != nil {
		return nil, fmt.Errorf("deliveries of batch %s: %w", p.BatchID, err)
	}
	for _, d := range out {
		d.LeaseUntil = FromMS(0)
	}
	return out, nil
}

// CloseBatch marks a batch's results in.
func (s *Store) CloseBatch(ctx context.Context, p store.CloseBatchParams) error {
	if _, err := s.X.Exec(ctx, `UPDATE backfill_batches SET done = 1 WHERE batch_id = ?`, p.BatchID); err != nil {
		return fmt.Errorf("close batch %s: %w", p.BatchID, err)
	}
	return nil
}

// FinishBackfill ends a running backfill done or failed.
func (s *Store) FinishBackfill(ctx context.Context, p store.FinishBackfillParams) error {
	if p.Status != store.BackfillDone && p.Status != store.BackfillFailed {
		return signal.Errorf(signal.EINVALID, "a backfill ends %s or %s, not %q", store.BackfillDone, store.BackfillFailed, p.Status)
	}
	// Its lines go with it: they hold contacts, and every one that was
	// sent is in the event log (under retention and erasure like any).
	err := s.X.InTx(ctx, func(tx *Tx) error {
		// Its counts are kept as they are now (see backfillCols).
		b := &store.Backfill{ID: p.ID}
		if err := s.backfillCounts(ctx, tx.QueryRow, b); err != nil {
			return err
		}
		n, err := tx.Exec(ctx, `UPDATE backfills SET status = ?, lease_holder = '', lease_until = 0, updated_at = ?,
			counted = 1, delivered = ?, failed = ?, filtered = ? WHERE id = ? AND status = ?`,
			p.Status, MS(p.Now), b.Delivered, b.Failed-b.Filtered, b.Filtered, p.ID, store.BackfillRunning)
		if err != nil || n == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM backfill_items WHERE backfill_id = ?`, p.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish backfill %s: %w", p.ID, err)
	}
	return nil
}
