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
	db.logMu.Lock()
	defer db.logMu.Unlock()
	err := inConnTx(context.Background(), db.logW, func(tx *sql.Tx) error {
		if err := recordGuards(tx, guards); err != nil {
			return err
		}
		var args []any
		i := 0
		for part := range chunks(events, 256) {
			args = args[:0]
			for _, e := range part {
				args = append(args, seq, e.MessageID, e.PipelineID, e.Type, e.Event, ms(e.Timestamp), ms(e.ReceivedAt), cmp.Or(e.Trust, signal.TrustBrowser), sealed[i])
				seq++
				i++
			}
			q := "INSERT INTO events (seq, message_id, pipeline_id, type, event, ts, received_at, trust, payload) VALUES " +
				strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?,?),", len(part)), ",")
			if _, err := tx.Exec(q, args...); err != nil {
				return err
			}
		}
		return nil
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
