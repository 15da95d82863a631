package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/sqlstore"
)

// recordSearch writes the Live Events search keys and processed events of
// a RecordProcessed in its transaction, many rows a statement: the
// processor's pass pays a few statements, not one per event.
func (db *DB) recordSearch(ctx context.Context, tx *sql.Tx, keys []store.SearchKey, processed []store.ProcessedEvent, profileIDs []int64, sealed [][]byte) error {
	const chunk = 512
	for part := range chunks(keys, chunk) {
		args := make([]any, 0, 2*len(part))
		for _, k := range part {
			args = append(args, k.Key, k.EventSeq)
		}
		q := `INSERT OR IGNORE INTO event_search (key, event_seq) VALUES ` + strings.TrimSuffix(strings.Repeat("(?,?),", len(part)), ",")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("insert search keys: %w", err)
		}
	}
	start := 0
	for part := range chunks(processed, chunk) {
		args := make([]any, 0, 3*len(part))
		for i, pe := range part {
			var profile any // NULL: the partial index skips it
			if id := profileIDs[start+i]; id != 0 {
				profile = id
			}
			args = append(args, pe.EventSeq, sealed[start+i], profile)
		}
		start += len(part)
		q := `INSERT OR REPLACE INTO event_processed (event_seq, body, profile_id) VALUES ` + strings.TrimSuffix(strings.Repeat("(?,?,?),", len(part)), ",")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("insert processed events: %w", err)
		}
	}
	return nil
}

// recordAttempts keeps the attempts just made, the last
// store.MaxAttemptsKept per delivery. respSealed[i] is d.Attempt's sealed
// vendor response. Only deliveries the finish updated (still leased by this
// claim) get their attempt: updated[i].
func (db *DB) recordAttempts(ctx context.Context, tx *sql.Tx, p store.FinishDeliveriesParams, respSealed [][]byte, updated []bool) error {
	var stmt *sql.Stmt
	for i, d := range p.Deliveries {
		a := d.Attempt
		if a == nil || !updated[i] {
			continue
		}
		if stmt == nil {
			var err error
			if stmt, err = tx.PrepareContext(ctx, `INSERT INTO delivery_attempts (delivery_id, at, vendor_status, vendor_response, duration_ms, error)
				VALUES (?, ?, ?, ?, ?, ?)`); err != nil {
				return err
			}
			defer stmt.Close()
		}
		if _, err := stmt.ExecContext(ctx, d.ID, ms(a.At), a.VendorStatus, respSealed[i], a.DurationMS, a.Error); err != nil {
			return fmt.Errorf("insert attempt: %w", err)
		}
		if sqlstore.MayExceedAttempts(d) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM delivery_attempts WHERE delivery_id = ? AND id <=
				(SELECT id FROM delivery_attempts WHERE delivery_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`, d.ID, d.ID, store.MaxAttemptsKept); err != nil {
				return fmt.Errorf("trim attempts: %w", err)
			}
		}
	}
	return nil
}
