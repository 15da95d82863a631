package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/signalhq/signal/internal/store"
)

// ReplayableDeliveries reads deliveries to rebuild with their events and
// processed bodies (store.DeliveryStore).
func (s *Store) ReplayableDeliveries(ctx context.Context, p store.ReplayableParams) ([]store.Replayable, error) {
	if p.Limit <= 0 {
		p.Limit = 500
	}
	q := `SELECT ` + DeliveryCols + ` FROM deliveries WHERE `
	var args []any
	if p.DeliveryID != 0 {
		q += `id = ?`
		args = append(args, p.DeliveryID)
	} else {
		q += `integration_id = ? AND status = ? AND id > ? AND received_at >= ?`
		args = append(args, p.IntegrationID, p.Status, p.AfterID, MS(p.Since))
		if len(p.Reasons) > 0 {
			q += ` AND reason IN (?` + strings.Repeat(",?", len(p.Reasons)-1) + `)`
			for _, r := range p.Reasons {
				args = append(args, r)
			}
		}
	}
	ds, err := queryAll(ctx, s.X, s.ScanDelivery, q+` ORDER BY id LIMIT ?`, append(args, p.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("replayable deliveries of %s: %w", p.IntegrationID, err)
	}
	// One event and processed body per delivery: a replay is an operator's
	// action over at most Limit rows, not a hot path.
	out := make([]store.Replayable, 0, len(ds))
	for _, d := range ds {
		evs, err := queryAll(ctx, s.X, s.ScanEvent, `SELECT `+EventCols+` FROM events WHERE seq = ?`, d.EventSeq)
		if err != nil {
			return nil, fmt.Errorf("replayable delivery %d: event: %w", d.ID, err)
		}
		if len(evs) == 0 {
			continue // pruned meanwhile
		}
		r := store.Replayable{Delivery: d, Event: evs[0]}
		var body []byte
		err = s.X.QueryRow(ctx, `SELECT body FROM event_processed WHERE event_seq = ?`, d.EventSeq).Scan(&body)
		switch {
		case NoRows(err):
		case err != nil:
			return nil, fmt.Errorf("replayable delivery %d: processed: %w", d.ID, err)
		default:
			if r.Processed, err = s.Open(body); err != nil {
				return nil, fmt.Errorf("replayable delivery %d: open processed: %w", d.ID, err)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// ReplaceDeliveries writes rebuilt deliveries over rows still as they were
// read (store.DeliveryStore).
func (s *Store) ReplaceDeliveries(ctx context.Context, p store.ReplaceDeliveriesParams) (int, error) {
	now := MS(p.Now)
	total := 0
	err := s.X.InTx(ctx, func(tx *Tx) error {
		for _, d := range p.Deliveries {
			was, ok := p.Was[d.ID]
			if !ok {
				return fmt.Errorf("delivery %d: no prior state given", d.ID)
			}
			payload, err := s.Seal(d.Payload)
			if err != nil {
				return fmt.Errorf("seal payload of delivery %d: %w", d.ID, err)
			}
			if d.Payload == nil {
				payload = nil
			}
			n, err := tx.Exec(ctx, `UPDATE deliveries SET status = ?, reason = ?, note = ?, vendor_event_name = ?, priority = ?,
				contact_key = ?, payload = ?, attempts = 0, next_attempt_at = ?, lease_until = 0, expires_at = ?, vendor_status = 0,
				vendor_response = NULL, created_at = ?, updated_at = ?, backfill_id = '', backfill_batch = '' WHERE id = ? AND status = ? AND reason = ?`,
				d.Status, d.Reason, d.Note, d.VendorEventName, d.Priority, d.ContactKey, payload, now, MS(d.ExpiresAt), now, now,
				d.ID, was.Status, was.Reason)
			if err != nil {
				return fmt.Errorf("replace delivery %d: %w", d.ID, err)
			}
			total += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}
