package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

type appendReq struct {
	events []*signal.Event
	sealed [][]byte
	done   chan error
}

// AppendEvents seals the payloads, hands the events to the appender and
// waits until they are committed and synced.
func (db *DB) AppendEvents(ctx context.Context, p store.AppendEventsParams) error {
	if len(p.Events) == 0 {
		return nil
	}
	req := &appendReq{events: p.Events, sealed: make([][]byte, len(p.Events)), done: make(chan error, 1)}
	for i, e := range p.Events {
		b, err := db.cipher.Seal(e.Payload)
		if err != nil {
			return fmt.Errorf("append events: seal: %w", err)
		}
		req.sealed[i] = b
	}
	select {
	case db.appendc <- req:
	case <-db.stop:
		return fmt.Errorf("append events: store closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued the commit happens whatever ctx does: wait for it, so a
	// caller never reports failure for events that were stored. A request
	// queued after the appender stopped is never answered: the select
	// above picks at random when stop is closed and appendc has room.
	select {
	case err := <-req.done:
		return err
	case <-db.done:
		select {
		case err := <-req.done:
			return err
		default:
			return fmt.Errorf("append events: store closed")
		}
	}
}

// appender is the group-commit loop: it takes every request waiting, writes
// them in one transaction, syncs once and answers them all.
func (db *DB) appender() {
	defer close(db.done)
	for {
		var first *appendReq
		select {
		case first = <-db.appendc:
		case <-db.stop:
			// Answer what is still queued, then stop.
			for {
				select {
				case r := <-db.appendc:
					db.commitGroup([]*appendReq{r})
				default:
					return
				}
			}
		}
		group := []*appendReq{first}
		n := len(first.events)
	drain:
		for n < db.opts.MaxGroupEvents {
			select {
			case r := <-db.appendc:
				group = append(group, r)
				n += len(r.events)
			default:
				break drain
			}
		}
		db.commitGroup(group)
	}
}

const eventCols = 8

func (db *DB) commitGroup(group []*appendReq) {
	seq := db.nextSeq
	err := db.inTx(context.Background(), func(tx *sql.Tx) error {
		var (
			args []any
			rows int
		)
		flush := func() error {
			if rows == 0 {
				return nil
			}
			q := "INSERT INTO events (seq, message_id, pipeline_id, type, event, ts, received_at, payload) VALUES " +
				strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?),", rows), ",")
			_, err := tx.Exec(q, args...)
			args, rows = args[:0], 0
			return err
		}
		for _, r := range group {
			for i, e := range r.events {
				args = append(args, seq, e.MessageID, e.PipelineID, e.Type, e.Event, ms(e.Timestamp), ms(e.ReceivedAt), r.sealed[i])
				seq++
				rows++
				if rows == 256 {
					if err := flush(); err != nil {
						return err
					}
				}
			}
		}
		return flush()
	})
	if err == nil {
		s := db.nextSeq
		for _, r := range group {
			for _, e := range r.events {
				e.Seq = s
				s++
			}
		}
		db.nextSeq = seq
	} else {
		err = fmt.Errorf("append events: %w", err)
	}
	for _, r := range group {
		r.done <- err
	}
	if err == nil && db.opts.OnAppend != nil {
		db.opts.OnAppend()
	}
}

// ListEvents returns events after p.AfterSeq, oldest first.
func (db *DB) ListEvents(ctx context.Context, p store.ListEventsParams) ([]signal.Event, error) {
	if p.Limit <= 0 {
		p.Limit = 100
	}
	rows, err := db.read.QueryContext(ctx, `SELECT seq, message_id, pipeline_id, type, event, ts, received_at, payload
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
		if err := rows.Scan(&e.Seq, &e.MessageID, &e.PipelineID, &e.Type, &e.Event, &ts, &recv, &sealed); err != nil {
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
