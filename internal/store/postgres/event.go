package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/groupcommit"
)

// commitTimeout bounds one group commit, so that a lost server fails the
// waiting callers (and lets Close return) instead of hanging them.
const commitTimeout = 30 * time.Second

// appendChunk is the most events one insert statement takes.
const appendChunk = 1000

// AppendEvents stores events durably; concurrent calls share commits.
func (db *DB) AppendEvents(ctx context.Context, p store.AppendEventsParams) error {
	return db.appends.AppendGuarded(ctx, p.Events, guard(p.Replay))
}

// insertEvents draws the group's seqs and inserts its events in one
// statement: $1 seqs are drawn as one range (setval past nextval), and the
// event at ordinal k gets the k-th. It returns the last seq of the range.
const insertEvents = `WITH last AS MATERIALIZED (SELECT setval('event_seq', nextval('event_seq') + $1 - 1) AS seq),
ins AS (
	INSERT INTO events (seq, message_id, pipeline_id, type, event, ts, received_at, trust, payload)
	SELECT last.seq - $1 + u.ord, u.message_id, u.pipeline_id, u.type, u.event, u.ts, u.received_at, u.trust, u.payload
	FROM last, unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[], $9::bytea[])
		WITH ORDINALITY AS u (message_id, pipeline_id, type, event, ts, received_at, trust, payload, ord)
)
SELECT seq FROM last`

// commitGroup writes a group in one implicit transaction (one batch, one
// round trip): it first takes the event-log advisory lock, then draws seqs
// and inserts. The lock is what keeps the log readable by seq: a sequence
// alone hands out numbers at insert time, not commit time, so with two
// nodes appending, seq 11 could commit before seq 10 and a reader that
// moved past 11 would never see 10. Under the lock, a transaction draws
// seqs only after the previous holder has committed (locks are released
// after the commit is visible), so seqs commit in order. The price: appends
// are serialized across nodes, one group transaction at a time (each node
// still groups its concurrent callers into one commit).
func (db *DB) commitGroup(events []*signal.Event, sealed [][]byte, guards []groupcommit.Guard) error {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	b := &pgx.Batch{}
	b.Queue(db.lockSQL(lockEvents))
	queueGuards(b, guards)
	// Large groups go in chunks: one array insert slows down past about a
	// thousand rows (see BenchmarkCommitGroup).
	lasts := make([]int64, (len(events)+appendChunk-1)/appendChunk)
	for c := range lasts {
		lo, hi := c*appendChunk, min((c+1)*appendChunk, len(events))
		n := hi - lo
		msgIDs, pipelineIDs, types, names, trust := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		ts, recv := make([]int64, n), make([]int64, n)
		for i, e := range events[lo:hi] {
			msgIDs[i], pipelineIDs[i], types[i], names[i] = e.MessageID, e.PipelineID, e.Type, e.Event
			ts[i], recv[i] = ms(e.Timestamp), ms(e.ReceivedAt)
			trust[i] = cmp.Or(e.Trust, signal.TrustBrowser)
		}
		b.Queue(insertEvents, n, msgIDs, pipelineIDs, types, names, ts, recv, trust, sealed[lo:hi]).QueryRow(func(row pgx.Row) error {
			return row.Scan(&lasts[c])
		})
	}
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return replayed(err)
	}
	for c, last := range lasts {
		lo, hi := c*appendChunk, min((c+1)*appendChunk, len(events))
		for i, e := range events[lo:hi] {
			e.Seq = last - int64(hi-lo) + 1 + int64(i)
		}
	}
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
	rows, err := db.pool.Query(ctx, `SELECT seq, message_id, pipeline_id, type, event, ts, received_at, trust, payload
		FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`, p.AfterSeq, p.Limit)
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
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return out, nil
}

// Cursor returns a consumer's position in the log.
func (db *DB) Cursor(ctx context.Context, name string) (int64, error) {
	var seq int64
	err := db.pool.QueryRow(ctx, `SELECT seq FROM cursors WHERE name = $1`, name).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cursor %s: %w", name, err)
	}
	return seq, nil
}
