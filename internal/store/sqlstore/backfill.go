package sqlstore

import (
	"context"
	"fmt"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// CreateBackfill stores a backfill and its items in one transaction.
func (s *Store) CreateBackfill(ctx context.Context, p store.CreateBackfillParams) error {
	now := MS(p.Now)
	err := s.X.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO backfills (id, integration_id, status, accepted, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			p.ID, p.IntegrationID, store.BackfillRunning, len(p.Items), now, now); err != nil {
			return err
		}
		for _, it := range p.Items {
			msg, err := s.Seal(it.Message)
			if err != nil {
				return fmt.Errorf("seal line %d: %w", it.Line, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO backfill_items (backfill_id, line, message, status, event_id, batch_id, vendor_status, updated_at)
				VALUES (?, ?, ?, ?, '', '', 0, ?)`, p.ID, it.Line, msg, store.BackfillItemUnsent, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create backfill %s: %w", p.ID, err)
	}
	return nil
}

const backfillCols = `b.id, b.integration_id, b.status, b.accepted, b.created_at, b.updated_at,
	(SELECT COUNT(*) FROM backfill_items i WHERE i.backfill_id = b.id AND i.status = '` + store.BackfillItemDelivered + `'),
	(SELECT COUNT(*) FROM backfill_items i WHERE i.backfill_id = b.id AND i.status = '` + store.BackfillItemFailed + `')`

func scanBackfill(scan func(dest ...any) error) (*store.Backfill, error) {
	var (
		b                store.Backfill
		created, updated int64
	)
	if err := scan(&b.ID, &b.IntegrationID, &b.Status, &b.Accepted, &created, &updated, &b.Delivered, &b.Failed); err != nil {
		return nil, err
	}
	b.CreatedAt, b.UpdatedAt = FromMS(created), FromMS(updated)
	b.Pending = b.Accepted - b.Delivered - b.Failed
	return &b, nil
}

// GetBackfill returns a backfill with its counts.
func (s *Store) GetBackfill(ctx context.Context, p store.GetBackfillParams) (*store.Backfill, error) {
	b, err := scanBackfill(s.X.QueryRow(ctx, `SELECT `+backfillCols+` FROM backfills b WHERE b.id = ?`, p.ID).Scan)
	if NoRows(err) || (err == nil && p.IntegrationID != "" && b.IntegrationID != p.IntegrationID) {
		return nil, signal.Errorf(signal.ENOTFOUND, "backfill %q not found", p.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("get backfill %s: %w", p.ID, err)
	}
	return b, nil
}

// RunningBackfills lists the unfinished backfills, oldest first.
func (s *Store) RunningBackfills(ctx context.Context) ([]*store.Backfill, error) {
	out, err := queryAll(ctx, s.X, scanBackfill, `SELECT `+backfillCols+` FROM backfills b WHERE b.status = ? ORDER BY b.created_at, b.id`, store.BackfillRunning)
	if err != nil {
		return nil, fmt.Errorf("running backfills: %w", err)
	}
	return out, nil
}

// UnsentBackfillItems returns items in no batch yet, in line order.
func (s *Store) UnsentBackfillItems(ctx context.Context, p store.UnsentBackfillItemsParams) ([]store.BackfillItem, error) {
	out, err := queryAll(ctx, s.X, func(scan func(...any) error) (store.BackfillItem, error) {
		var (
			it     store.BackfillItem
			sealed []byte
		)
		if err := scan(&it.Line, &sealed, &it.Status); err != nil {
			return it, err
		}
		var err error
		it.Message, err = s.Open(sealed)
		return it, err
	}, `SELECT line, message, status FROM backfill_items WHERE backfill_id = ? AND status = ? ORDER BY line LIMIT ?`,
		p.BackfillID, store.BackfillItemUnsent, p.Limit)
	if err != nil {
		return nil, fmt.Errorf("unsent items of backfill %s: %w", p.BackfillID, err)
	}
	return out, nil
}

// RecordBatch stores an acknowledged batch and marks its items sent.
func (s *Store) RecordBatch(ctx context.Context, p store.RecordBatchParams) error {
	now := MS(p.Now)
	err := s.X.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO backfill_batches (batch_id, backfill_id, done, created_at) VALUES (?, ?, 0, ?)`,
			p.BatchID, p.BackfillID, now); err != nil {
			return err
		}
		for line, eventID := range p.EventIDs {
			n, err := tx.Exec(ctx, `UPDATE backfill_items SET status = ?, event_id = ?, batch_id = ?, updated_at = ?
				WHERE backfill_id = ? AND line = ? AND status = ?`,
				store.BackfillItemSent, eventID, p.BatchID, now, p.BackfillID, line, store.BackfillItemUnsent)
			if err != nil {
				return err
			}
			if n != 1 {
				return signal.Errorf(signal.ECONFLICT, "line %d of backfill %s is not waiting to be sent", line, p.BackfillID)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record batch %s: %w", p.BatchID, err)
	}
	return nil
}

// OpenBatches lists batches still awaiting their results.
func (s *Store) OpenBatches(ctx context.Context, p store.OpenBatchesParams) ([]string, error) {
	out, err := queryAll(ctx, s.X, func(scan func(...any) error) (string, error) {
		var id string
		return id, scan(&id)
	}, `SELECT batch_id FROM backfill_batches WHERE backfill_id = ? AND done = 0 ORDER BY created_at, batch_id`, p.BackfillID)
	if err != nil {
		return nil, fmt.Errorf("open batches of backfill %s: %w", p.BackfillID, err)
	}
	return out, nil
}

// FinishBatch writes a batch's item results and closes it.
func (s *Store) FinishBatch(ctx context.Context, p store.FinishBatchParams) error {
	now := MS(p.Now)
	set := func(ctx context.Context, tx *Tx, r store.BackfillResult, where string, args ...any) error {
		status := store.BackfillItemFailed
		if r.Delivered {
			status = store.BackfillItemDelivered
		}
		resp, err := s.Seal([]byte(r.VendorResponse))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE backfill_items SET status = ?, vendor_status = ?, vendor_response = ?, updated_at = ?
			WHERE backfill_id = ? AND batch_id = ? AND status = ? `+where,
			append([]any{status, r.VendorStatus, resp, now, p.BackfillID, p.BatchID, store.BackfillItemSent}, args...)...)
		return err
	}
	err := s.X.InTx(ctx, func(tx *Tx) error {
		for _, r := range p.Results {
			if err := set(ctx, tx, r, `AND event_id = ?`, r.EventID); err != nil {
				return err
			}
		}
		if err := set(ctx, tx, p.Missing, ``); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE backfill_batches SET done = 1 WHERE batch_id = ?`, p.BatchID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE backfills SET status = ?, updated_at = ? WHERE id = ? AND status = ? AND NOT EXISTS (
			SELECT 1 FROM backfill_items WHERE backfill_id = ? AND status IN (?, ?))`,
			store.BackfillDone, now, p.BackfillID, store.BackfillRunning, p.BackfillID, store.BackfillItemUnsent, store.BackfillItemSent)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish batch %s: %w", p.BatchID, err)
	}
	return nil
}

// FailBackfill ends a backfill failed.
func (s *Store) FailBackfill(ctx context.Context, p store.FailBackfillParams) error {
	if _, err := s.X.Exec(ctx, `UPDATE backfills SET status = ?, updated_at = ? WHERE id = ? AND status = ?`,
		store.BackfillFailed, MS(p.Now), p.ID, store.BackfillRunning); err != nil {
		return fmt.Errorf("fail backfill %s: %w", p.ID, err)
	}
	return nil
}
