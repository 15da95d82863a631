package sqlstore

import (
	"context"
	"fmt"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/groupcommit"
)

// queryAll reads every row of q with scan.
func queryAll[T any](ctx context.Context, x *Executor, scan func(func(...any) error) (T, error), q string, args ...any) ([]T, error) {
	rows, err := x.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return Collect(rows, scan)
}

// ListEvents returns events after p.AfterSeq, oldest first (the
// processor's read: one statement a pass, so database/sql's cost per
// statement does not count; see docs/decisions.md).
func (s *Store) ListEvents(ctx context.Context, p store.ListEventsParams) ([]signal.Event, error) {
	if p.Limit <= 0 {
		p.Limit = 100
	}
	rows, err := s.X.Query(ctx, `SELECT `+EventCols+` FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, p.AfterSeq, p.Limit)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var (
		out   []signal.Event
		bytes int
	)
	for rows.Next() {
		e, err := s.ScanEvent(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		out = append(out, e)
		if bytes += len(e.Payload); p.MaxBytes > 0 && bytes >= p.MaxBytes {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return out, nil
}

// Cursor returns a consumer's position in the log.
func (s *Store) Cursor(ctx context.Context, p store.CursorParams) (int64, error) {
	var seq int64
	err := s.X.QueryRow(ctx, `SELECT seq FROM cursors WHERE name = ?`, p.Name).Scan(&seq)
	if NoRows(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cursor %s: %w", p.Name, err)
	}
	return seq, nil
}

// Guard is the group commit's form of a request's replay guard.
func Guard(r *store.ReplayGuard) *groupcommit.Guard {
	if r == nil {
		return nil
	}
	return &groupcommit.Guard{Key: r.Key, Expires: r.Expires}
}

// EventCols are an event row's columns as ScanEvent reads them.
const EventCols = `seq, message_id, pipeline_id, type, event, ts, received_at, trust, payload`

// ScanEvent reads a row selected as EventCols and opens its payload.
func (s *Store) ScanEvent(scan func(dest ...any) error) (signal.Event, error) {
	var (
		e        signal.Event
		ts, recv int64
		sealed   []byte
	)
	if err := scan(&e.Seq, &e.MessageID, &e.PipelineID, &e.Type, &e.Event, &ts, &recv, &e.Trust, &sealed); err != nil {
		return e, err
	}
	var err error
	if e.Payload, err = s.Open(sealed); err != nil {
		return e, fmt.Errorf("open payload %d: %w", e.Seq, err)
	}
	e.Timestamp, e.ReceivedAt = FromMS(ts), FromMS(recv)
	return e, nil
}
