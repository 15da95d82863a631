package postgres

import (
	"github.com/jackc/pgx/v5"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/sqlstore"
)

// queueSearch adds the Live Events search keys and processed events of a
// RecordProcessed to its batch: one statement each, whatever the count.
func queueSearch(b *pgx.Batch, keys []store.SearchKey, processed []store.ProcessedEvent, profileIDs []int64, sealed [][]byte) {
	if len(keys) > 0 {
		ks, seqs := make([]string, len(keys)), make([]int64, len(keys))
		for i, k := range keys {
			ks[i], seqs[i] = k.Key, k.EventSeq
		}
		b.Queue(`INSERT INTO event_search (key, event_seq) SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT DO NOTHING`, ks, seqs)
	}
	if len(processed) > 0 {
		seqs := make([]int64, len(processed))
		for i, pe := range processed {
			seqs[i] = pe.EventSeq
		}
		// profile_id 0 (none) is stored NULL: the partial index skips it.
		b.Queue(`INSERT INTO event_processed (event_seq, body, profile_id) SELECT p.seq, p.body, NULLIF(p.profile, 0)
			FROM unnest($1::bigint[], $2::bytea[], $3::bigint[]) AS p (seq, body, profile)
			ON CONFLICT (event_seq) DO UPDATE SET body = excluded.body, profile_id = excluded.profile_id`, seqs, sealed, profileIDs)
	}
}

// attemptsArgs returns the arguments $13.. of withAttempts for the
// attempts among ds (nil when none was made).
func (db *DB) attemptsArgs(ds []*signal.Delivery) ([]any, error) {
	var (
		ids, at, durs []int64
		statuses      []int32
		resps         [][]byte
		errs          []string
		trim          []int64
	)
	for _, d := range ds {
		a := d.Attempt
		if a == nil {
			continue
		}
		var resp []byte
		if a.VendorResponse != "" {
			var err error
			if resp, err = db.seal([]byte(a.VendorResponse)); err != nil {
				return nil, err
			}
		}
		ids, at, durs = append(ids, d.ID), append(at, ms(a.At)), append(durs, a.DurationMS)
		statuses, resps, errs = append(statuses, int32(a.VendorStatus)), append(resps, resp), append(errs, a.Error)
		if sqlstore.MayExceedAttempts(d) {
			trim = append(trim, d.ID)
		}
	}
	if ids == nil {
		return nil, nil
	}
	if trim == nil {
		trim = []int64{}
	}
	return []any{ids, at, statuses, resps, durs, errs, trim, store.MaxAttemptsKept - 1}, nil
}

// withAttempts makes the finishing UPDATE q also keep the attempts of the
// deliveries it updated (still under the claim's lease), and trim theirs to
// the last store.MaxAttemptsKept, in the same statement. The trim sees the
// rows as they were before the statement, so it keeps one fewer old ones.
func withAttempts(q string) string {
	return `WITH u AS (` + q + ` RETURNING d.id),
		a AS (INSERT INTO delivery_attempts (delivery_id, at, vendor_status, vendor_response, duration_ms, error)
			SELECT * FROM unnest($13::bigint[], $14::bigint[], $15::int[], $16::bytea[], $17::bigint[], $18::text[])
				AS a (delivery_id, at, vendor_status, vendor_response, duration_ms, error)
			WHERE a.delivery_id IN (SELECT id FROM u))
		DELETE FROM delivery_attempts x WHERE x.delivery_id IN (SELECT id FROM u WHERE id = ANY($19::bigint[]))
			AND x.id <= (SELECT y.id FROM delivery_attempts y WHERE y.delivery_id = x.delivery_id ORDER BY y.id DESC LIMIT 1 OFFSET $20)`
}
