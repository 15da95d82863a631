package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// ListLiveEvents lists events joined with their deliveries, newest first. An
// event not yet processed shows as pending with no integration; a pending
// delivery of a paused or disabled integration shows as paused. The cursor
// is "<seq>.<delivery id>" of the last row returned (delivery id 0 for an
// event without deliveries).
func (db *DB) ListLiveEvents(ctx context.Context, p store.ListLiveEventsParams) ([]*signal.LiveEvent, string, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if p.Cursor != "" {
		seq, did, err := store.ParseLiveCursor(p.Cursor)
		if err != nil {
			return nil, "", err
		}
		s := arg(seq)
		where = append(where, `(e.seq < `+s+` OR (e.seq = `+s+` AND COALESCE(d.id, 0) < `+arg(did)+`))`)
	}
	if p.PipelineID != "" {
		where = append(where, `e.pipeline_id = `+arg(p.PipelineID))
	}
	if p.Type != "" {
		where = append(where, `e.type = `+arg(p.Type))
	}
	if p.Event != "" {
		where = append(where, `e.event = `+arg(p.Event))
	}
	if p.IntegrationID != "" {
		where = append(where, `d.integration_id = `+arg(p.IntegrationID))
	}
	switch p.Status {
	case "":
	case signal.StatusPending:
		where = append(where, `(d.id IS NULL OR (d.status = 'pending' AND COALESCE(i.status, 'active') = 'active' AND COALESCE(i.enabled, TRUE)))`)
	case signal.StatusPaused:
		where = append(where, `(d.status = 'pending' AND (i.status = 'paused' OR NOT i.enabled))`)
	default:
		where = append(where, `d.status = `+arg(p.Status))
	}
	q := `SELECT e.seq, e.message_id, e.received_at, e.pipeline_id, e.type, e.event, e.payload,
		d.id, d.integration_id, d.status, d.reason, d.note, d.vendor_event_name, d.attempts, d.vendor_status, d.vendor_response,
		d.payload, d.updated_at, i.status, i.status_reason, i.enabled
		FROM events e LEFT JOIN deliveries d ON d.event_seq = e.seq LEFT JOIN integrations i ON i.id = d.integration_id`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	lim := limit(p.Limit)
	q += ` ORDER BY e.seq DESC, COALESCE(d.id, 0) DESC LIMIT ` + arg(lim+1)
	rows, err := db.pool.Query(ctx, q, args...)
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
			seq, recv                   int64
			input                       []byte
			did, updated                *int64
			attempts, vstatus           *int32
			intID, status, reason, note *string
			vname, istatus, ireason     *string
			ienabled                    *bool
			resp, payload               []byte
			le                          signal.LiveEvent
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
		var deliveryID int64
		if did != nil {
			deliveryID = *did
			le.IntegrationID, le.Status, le.Reason, le.Note = *intID, *status, *reason, *note
			le.VendorEventName, le.Attempts, le.VendorStatus = *vname, int(*attempts), int(*vstatus)
			le.UpdatedAt = fromMS(*updated)
			r, err := db.open(resp)
			if err != nil {
				return nil, "", fmt.Errorf("list live events: open response: %w", err)
			}
			le.VendorResponse = string(r)
			if le.Payload, err = db.open(payload); err != nil {
				return nil, "", fmt.Errorf("list live events: open payload: %w", err)
			}
		}
		store.ShowLiveEvent(&le, seq, deliveryID, store.LiveIntegration{Status: istatus, StatusReason: ireason, Enabled: ienabled})
		out = append(out, &le)
		keys = append(keys, [2]int64{seq, deliveryID})
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
