package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

func (s *Store) liveDialect(args *[]any) LiveDialect {
	return LiveDialect{True: s.X.d.True, Arg: func(v any) string {
		*args = append(*args, v)
		return "?"
	}}
}

const liveCols = `SELECT e.seq, e.message_id, e.received_at, e.pipeline_id, e.type, e.event, e.payload,
	d.id, d.integration_id, d.status, d.reason, d.note, d.vendor_event_name, d.attempts, d.vendor_status, d.vendor_response,
	d.payload, d.updated_at, d.next_attempt_at, d.warnings, i.status, i.status_reason, i.enabled`

// ListLiveEvents lists events joined with their deliveries, newest first. An
// event not yet processed shows as pending with no integration; a pending
// delivery of a paused or disabled integration shows as paused.
func (s *Store) ListLiveEvents(ctx context.Context, p store.ListLiveEventsParams) ([]*signal.LiveEvent, string, error) {
	lim := Limit(p.Limit)
	q, args, err := s.LiveListQuery(p, lim+1)
	if err != nil {
		return nil, "", err
	}
	out, keys, err := s.queryLive(ctx, q, args)
	if err != nil {
		return nil, "", fmt.Errorf("list live events: %w", err)
	}
	next := ""
	if len(out) > lim {
		out = out[:lim]
		k := keys[lim-1]
		next = FormatLiveCursor(k[0], k[1])
	}
	return out, next, nil
}

// LiveListQuery is ListLiveEvents' query of up to lim rows (with ?
// placeholders: see Executor.Q).
func (s *Store) LiveListQuery(p store.ListLiveEventsParams, lim int) (string, []any, error) {
	var args []any
	where, err := LiveWhere(p, s.liveDialect(&args), true)
	if err != nil {
		return "", nil, err
	}
	q := liveCols + LiveFrom
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	return q + LiveOrder(p) + ` LIMIT ?`, append(args, lim), nil
}

func (s *Store) queryLive(ctx context.Context, q string, args []any) ([]*signal.LiveEvent, [][2]int64, error) {
	rows, err := s.X.Query(ctx, q, args...)
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
			seq, recv                       int64
			input                           []byte
			did, attempts, vstatus, updated sql.NullInt64
			nextAt                          sql.NullInt64
			warnings                        sql.NullString
			intID, status, reason, note     sql.NullString
			vname, istatus, ireason         sql.NullString
			ienabled                        sql.NullBool
			resp, payload                   []byte
			le                              signal.LiveEvent
		)
		if err := rows.Scan(&seq, &le.MessageID, &recv, &le.PipelineID, &le.Type, &le.Event, &input,
			&did, &intID, &status, &reason, &note, &vname, &attempts, &vstatus, &resp, &payload, &updated, &nextAt, &warnings,
			&istatus, &ireason, &ienabled); err != nil {
			return nil, nil, err
		}
		if le.Input, err = s.Open(input); err != nil {
			return nil, nil, fmt.Errorf("open event %d: %w", seq, err)
		}
		le.ReceivedAt = FromMS(recv)
		if did.Valid {
			le.IntegrationID, le.Status, le.Reason, le.Note = intID.String, signal.DeliveryStatus(status.String), signal.Reason(reason.String), note.String
			le.VendorEventName, le.Attempts, le.VendorStatus = vname.String, int(attempts.Int64), int(vstatus.Int64)
			le.UpdatedAt = FromMS(updated.Int64)
			le.Warnings = ParseWarnings(warnings.String)
			if nextAt.Int64 > 0 {
				t := FromMS(nextAt.Int64)
				le.NextAttemptAt = &t
			}
			r, err := s.Open(resp)
			if err != nil {
				return nil, nil, fmt.Errorf("open response: %w", err)
			}
			le.VendorResponse = string(r)
			if le.Payload, err = s.Open(payload); err != nil {
				return nil, nil, fmt.Errorf("open payload: %w", err)
			}
		}
		var in LiveIntegration
		if istatus.Valid {
			in = LiveIntegration{Status: &istatus.String, StatusReason: &ireason.String, Enabled: &ienabled.Bool}
		}
		ShowLiveEvent(&le, seq, did.Int64, in)
		out = append(out, &le)
		keys = append(keys, [2]int64{seq, did.Int64})
	}
	return out, keys, rows.Err()
}

// CountLiveEvents counts the rows matching the filters by shown status:
// with p.Limit, only the first p.Limit rows of the list (newest first), so
// that a count costs at most a page of that size however long the log is,
// and Limited says whether more rows match. The rows are read in the list's
// order and counted here: the same query with a count or a constant in
// place of the status may be planned as a sort of every row.
func (s *Store) CountLiveEvents(ctx context.Context, p store.ListLiveEventsParams) (store.LiveCounts, error) {
	var c store.LiveCounts
	q, args, err := s.LiveCountQuery(p)
	if err != nil {
		return c, err
	}
	rows, err := s.X.Query(ctx, q, args...)
	if err != nil {
		return c, fmt.Errorf("count live events: %w", err)
	}
	defer rows.Close()
	var (
		status signal.DeliveryStatus
		n      int
	)
	for rows.Next() {
		if p.Limit > 0 && n == p.Limit {
			c.Limited = true
			break
		}
		if err := rows.Scan(&status); err != nil {
			return c, fmt.Errorf("count live events: %w", err)
		}
		AddLiveCount(&c, status, 1)
		n++
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("count live events: %w", err)
	}
	return c, nil
}

// LiveCountQuery is the query CountLiveEvents reads: the shown status of
// each row p's filters match (not its status or cursor), in the list's
// order, at most p.Limit+1 rows when p.Limit is set.
func (s *Store) LiveCountQuery(p store.ListLiveEventsParams) (string, []any, error) {
	// The status is the count's to split by, not a filter: without it the
	// order is the list's over every status (LiveOrder).
	p.Status, p.Cursor = "", ""
	var args []any
	dl := s.liveDialect(&args)
	where, err := LiveWhere(p, dl, false)
	if err != nil {
		return "", nil, err
	}
	q := `SELECT ` + LiveShownStatus(dl) + LiveFrom
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	if p.Limit > 0 {
		q += LiveOrder(p) + ` LIMIT ` + strconv.Itoa(p.Limit+1)
	}
	return q, args, nil
}

// GetLiveEvent returns one row with its processed event and attempts.
func (s *Store) GetLiveEvent(ctx context.Context, p store.GetLiveEventParams) (*signal.LiveEventDetail, error) {
	var args []any
	cond, err := LiveIDWhere(p.ID, s.liveDialect(&args))
	if err != nil {
		return nil, err
	}
	out, keys, err := s.queryLive(ctx, liveCols+LiveFrom+` WHERE `+cond, args)
	if err != nil {
		return nil, fmt.Errorf("get live event %s: %w", p.ID, err)
	}
	if len(out) == 0 {
		return nil, signal.Errorf(signal.ENOTFOUND, "live event %q not found", p.ID)
	}
	det := &signal.LiveEventDetail{LiveEvent: out[0], Processed: []byte("null"), Attempts: []signal.Attempt{}}
	var body []byte
	err = s.X.QueryRow(ctx, `SELECT body FROM event_processed WHERE event_seq = ?`, keys[0][0]).Scan(&body)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("get live event %s: processed: %w", p.ID, err)
	default:
		if det.Processed, err = s.Open(body); err != nil {
			return nil, fmt.Errorf("get live event %s: open processed: %w", p.ID, err)
		}
	}
	if keys[0][1] == 0 {
		return det, nil
	}
	rows, err := s.X.Query(ctx, `SELECT at, vendor_status, vendor_response, duration_ms, error FROM delivery_attempts
		WHERE delivery_id = ? ORDER BY id`, keys[0][1])
	if err != nil {
		return nil, fmt.Errorf("get live event %s: attempts: %w", p.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			a    signal.Attempt
			at   int64
			resp []byte
		)
		if err := rows.Scan(&at, &a.VendorStatus, &resp, &a.DurationMS, &a.Error); err != nil {
			return nil, fmt.Errorf("get live event %s: attempts: %w", p.ID, err)
		}
		r, err := s.Open(resp)
		if err != nil {
			return nil, fmt.Errorf("get live event %s: open attempt: %w", p.ID, err)
		}
		a.At, a.VendorResponse = FromMS(at), string(r)
		det.Attempts = append(det.Attempts, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("get live event %s: attempts: %w", p.ID, err)
	}
	return det, nil
}
