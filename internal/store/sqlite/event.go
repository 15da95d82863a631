package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"strings"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/groupcommit"
	"github.com/signalhq/signal/internal/store/sqlstore"
)

// AppendEvents stores events durably; concurrent calls share commits.
func (db *DB) AppendEvents(ctx context.Context, p store.AppendEventsParams) error {
	return db.appends.AppendGuarded(ctx, p.Events, sqlstore.Guard(p.Replay))
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
