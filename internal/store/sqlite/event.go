package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/groupcommit"
)

// AppendEvents stores events durably; concurrent calls share commits.
func (db *DB) AppendEvents(ctx context.Context, p store.AppendEventsParams) error {
	return db.appends.AppendGuarded(ctx, p.Events, guard(p.Replay))
}

// commitGroup writes one group of events in one transaction (multi-row
// inserts), numbering them from the log's head.
func (db *DB) commitGroup(events []*signal.Event, sealed [][]byte, guards []groupcommit.Guard) error {
	seq := db.nextSeq
	err := db.inTx(context.Background(), func(tx *sql.Tx) error {
		if err := recordGuards(tx, guards); err != nil {
			return err
		}
		var (
			args []any
			rows int
		)
		flush := func() error {
			if rows == 0 {
				return nil
			}
			q := "INSERT INTO events (seq, message_id, pipeline_id, type, event, ts, received_at, trust, payload) VALUES " +
				strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?,?),", rows), ",")
			_, err := tx.Exec(q, args...)
			args, rows = args[:0], 0
			return err
		}
		for i, e := range events {
			args = append(args, seq, e.MessageID, e.PipelineID, e.Type, e.Event, ms(e.Timestamp), ms(e.ReceivedAt), cmp.Or(e.Trust, signal.TrustBrowser), sealed[i])
			seq++
			rows++
			if rows == 256 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return flush()
	})
	if err != nil {
		return err
	}
	for i, e := range events {
		e.Seq = db.nextSeq + int64(i)
	}
	db.nextSeq = seq
	if db.opts.OnAppend != nil {
		db.opts.OnAppend()
	}
	return nil
}

// ListEvents returns events after p.AfterSeq, oldest first.
func (db *DB) ListEvents(ctx context.Context, p store.ListEventsParams) ([]signal.Event, error) {
	if p.Limit <= 0 {
		p.Limit = 100
	}
	rows, err := db.read.QueryContext(ctx, `SELECT seq, message_id, pipeline_id, type, event, ts, received_at, trust, payload
		FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, p.AfterSeq, p.Limit)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var out []signal.Event
	for rows.Next() {
		var (
			e        signal.Event
			ts, recv int64
			sealed   []byte
		)
		if err := rows.Scan(&e.Seq, &e.MessageID, &e.PipelineID, &e.Type, &e.Event, &ts, &recv, &e.Trust, &sealed); err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		if e.Payload, err = db.open(sealed); err != nil {
			return nil, fmt.Errorf("list events: open payload %d: %w", e.Seq, err)
		}
		e.Timestamp, e.ReceivedAt = fromMS(ts), fromMS(recv)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Cursor returns a consumer's position in the log.
func (db *DB) Cursor(ctx context.Context, name string) (int64, error) {
	var seq int64
	err := db.read.QueryRowContext(ctx, `SELECT seq FROM cursors WHERE name = ?`, name).Scan(&seq)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cursor %s: %w", name, err)
	}
	return seq, nil
}
