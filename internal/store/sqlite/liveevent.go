package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// ListLiveEvents lists events joined with their deliveries, newest first. An
// event not yet processed shows as pending with no integration; a pending
// delivery of a paused or disabled integration shows as paused.
func (db *DB) ListLiveEvents(ctx context.Context, p store.ListLiveEventsParams) ([]*signal.LiveEvent, string, error) {
	var (
		where []string
		args  []any
	)
	if p.Cursor != "" {
		seq, did, err := store.ParseLiveCursor(p.Cursor)
		if err != nil {
			return nil, "", err
		}
		where = append(where, `(e.seq < ? OR (e.seq = ? AND COALESCE(d.id, 0) < ?))`)
		args = append(args, seq, seq, did)
	}
	if p.PipelineID != "" {
		where = append(where, `e.pipeline_id = ?`)
		args = append(args, p.PipelineID)
	}
	if p.Type != "" {
		where = append(where, `e.type = ?`)
		args = append(args, p.Type)
	}
	if p.Event != "" {
		where = append(where, `e.event = ?`)
		args = append(args, p.Event)
	}
	if p.IntegrationID != "" {
		where = append(where, `d.integration_id = ?`)
		args = append(args, p.IntegrationID)
	}
	switch p.Status {
	case "":
	case signal.StatusPending:
		where = append(where, `(d.id IS NULL OR (d.status = 'pending' AND COALESCE(i.status, 'active') = 'active' AND COALESCE(i.enabled, 1) = 1))`)
	case signal.StatusPaused:
		where = append(where, `(d.status = 'pending' AND (i.status = 'paused' OR i.enabled = 0))`)
	default:
		where = append(where, `d.status = ?`)
		args = append(args, p.Status)
	}
	q := `SELECT e.seq, e.message_id, e.received_at, e.pipeline_id, e.type, e.event, e.payload,
		d.id, d.integration_id, d.status, d.reason, d.note, d.vendor_event_name, d.attempts, d.vendor_status, d.vendor_response,
		d.payload, d.updated_at, i.status, i.status_reason, i.enabled
		FROM events e LEFT JOIN deliveries d ON d.event_seq = e.seq LEFT JOIN integrations i ON i.id = d.integration_id`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	lim := limit(p.Limit)
	q += ` ORDER BY e.seq DESC, COALESCE(d.id, 0) DESC LIMIT ?`
	args = append(args, lim+1)
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list live events: %w", err)
	}
	defer rows.Close()
	var (
		out  []*signal.LiveEvent
		keys [][2]int64
	)
	for rows.Next() {
		var (
			seq, recv                       int64
			input                           []byte
			did, attempts, vstatus, updated sql.NullInt64
			intID, status, reason, note     sql.NullString
			vname, istatus, ireason         sql.NullString
			ienabled                        sql.NullBool
			resp, payload                   []byte
			le                              signal.LiveEvent
		)
		if err := rows.Scan(&seq, &le.MessageID, &recv, &le.PipelineID, &le.Type, &le.Event, &input,
			&did, &intID, &status, &reason, &note, &vname, &attempts, &vstatus, &resp, &payload, &updated,
			&istatus, &ireason, &ienabled); err != nil {
			return nil, "", fmt.Errorf("list live events: %w", err)
		}
		if le.Input, err = db.open(input); err != nil {
			return nil, "", fmt.Errorf("list live events: open event %d: %w", seq, err)
		}
		le.ReceivedAt = fromMS(recv)
		if did.Valid {
			le.IntegrationID, le.Status, le.Reason, le.Note = intID.String, status.String, reason.String, note.String
			le.VendorEventName, le.Attempts, le.VendorStatus = vname.String, int(attempts.Int64), int(vstatus.Int64)
			le.UpdatedAt = fromMS(updated.Int64)
			r, err := db.open(resp)
			if err != nil {
				return nil, "", fmt.Errorf("list live events: open response: %w", err)
			}
			le.VendorResponse = string(r)
			if le.Payload, err = db.open(payload); err != nil {
				return nil, "", fmt.Errorf("list live events: open payload: %w", err)
			}
		}
		var in store.LiveIntegration
		if istatus.Valid {
			in = store.LiveIntegration{Status: &istatus.String, StatusReason: &ireason.String, Enabled: &ienabled.Bool}
		}
		store.ShowLiveEvent(&le, seq, did.Int64, in)
		out = append(out, &le)
		keys = append(keys, [2]int64{seq, did.Int64})
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list live events: %w", err)
	}
	next := ""
	if len(out) > lim {
		out = out[:lim]
		k := keys[lim-1]
		next = store.FormatLiveCursor(k[0], k[1])
	}
	return out, next, nil
}
