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
	var args []any
	dl := liveDialect(&args)
	where, err := store.LiveWhere(p, dl, true)
	if err != nil {
		return nil, "", err
	}
	q := liveCols + store.LiveFrom
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	lim := limit(p.Limit)
	q += store.LiveOrder(p) + ` LIMIT ` + dl.Arg(lim+1)
	out, keys, err := db.queryLive(ctx, q, args)
	if err != nil {
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

func liveDialect(args *[]any) store.LiveDialect {
	return store.LiveDialect{True: "TRUE", Arg: func(v any) string {
		*args = append(*args, v)
		return "$" + strconv.Itoa(len(*args))
	}}
}

const liveCols = `SELECT e.seq, e.message_id, e.received_at, e.pipeline_id, e.type, e.event, e.payload,
	d.id, d.integration_id, d.status, d.reason, d.note, d.vendor_event_name, d.attempts, d.vendor_status, d.vendor_response,
	d.payload, d.updated_at, d.next_attempt_at, i.status, i.status_reason, i.enabled`

func (db *DB) queryLive(ctx context.Context, q string, args []any) ([]*signal.LiveEvent, [][2]int64, error) {
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, nil, err
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
			did, updated, nextAt        *int64
			attempts, vstatus           *int32
			intID, status, reason, note *string
			vname, istatus, ireason     *string
			ienabled                    *bool
			resp, payload               []byte
			le                          signal.LiveEvent
		)
		if err := rows.Scan(&seq, &le.MessageID, &recv, &le.PipelineID, &le.Type, &le.Event, &input,
			&did, &intID, &status, &reason, &note, &vname, &attempts, &vstatus, &resp, &payload, &updated, &nextAt,
			&istatus, &ireason, &ienabled); err != nil {
			return nil, nil, err
		}
		if le.Input, err = db.open(input); err != nil {
			return nil, nil, fmt.Errorf("open event %d: %w", seq, err)
		}
		le.ReceivedAt = fromMS(recv)
		var deliveryID int64
		if did != nil {
			deliveryID = *did
			le.IntegrationID, le.Status, le.Reason, le.Note = *intID, *status, *reason, *note
			le.VendorEventName, le.Attempts, le.VendorStatus = *vname, int(*attempts), int(*vstatus)
			le.UpdatedAt = fromMS(*updated)
			if *nextAt > 0 {
				t := fromMS(*nextAt)
				le.NextAttemptAt = &t
			}
			r, err := db.open(resp)
			if err != nil {
				return nil, nil, fmt.Errorf("open response: %w", err)
			}
			le.VendorResponse = string(r)
			if le.Payload, err = db.open(payload); err != nil {
				return nil, nil, fmt.Errorf("open payload: %w", err)
			}
		}
		store.ShowLiveEvent(&le, seq, deliveryID, store.LiveIntegration{Status: istatus, StatusReason: ireason, Enabled: ienabled})
		out = append(out, &le)
		keys = append(keys, [2]int64{seq, deliveryID})
	}
	return out, keys, rows.Err()
}
