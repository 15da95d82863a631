package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// EraseContact finds the person, then erases in one transaction (SQLite:
// the log's payloads first, in one of their own: Dialect.EraseLogFirst).
func (s *Store) EraseContact(ctx context.Context, p store.FindContactParams) (store.EraseResult, error) {
	f, err := s.findContact(ctx, p)
	if err != nil {
		return store.EraseResult{}, err
	}
	res := store.EraseResult{}
	sealed, err := s.Seal(erasedPayload)
	if err != nil {
		return res, fmt.Errorf("erase contact: %w", err)
	}
	now := MS(p.Now)
	// blanked: the events whose payloads the log-first transaction blanked
	// (Dialect.EraseLogFirst). A processor pass can commit between the two
	// transactions and give the person more events; then the log goes
	// first again, so that no crash between the main file's commit and the
	// log's leaves a payload the index no longer finds.
	var blanked map[int64]bool
	for try := 1; ; try++ {
		if s.X.d.EraseLogFirst {
			blanked = map[int64]bool{}
			if err := s.X.InLogTx(ctx, func(tx *Tx) error {
				_, seqs, err := s.eraseTargets(ctx, tx, f)
				if err != nil {
					return err
				}
				for _, q := range seqs {
					blanked[q] = true
				}
				return blankEvents(ctx, tx, seqs, sealed)
			}); err != nil {
				return store.EraseResult{}, fmt.Errorf("erase contact: the event log: %w", err)
			}
		}
		res = store.EraseResult{}
		err = s.eraseMain(ctx, f, &res, sealed, now, blanked)
		if !errors.Is(err, errLogBehind) || try == eraseTries {
			break
		}
	}
	if err != nil {
		return store.EraseResult{}, fmt.Errorf("erase contact: %w", err)
	}
	// Freed pages and old page versions must not keep clear text (keyed
	// hashes of the person's ids): the dialect's clean-up.
	if s.X.d.AfterErase != nil {
		if err := s.X.d.AfterErase(ctx); err != nil {
			return res, fmt.Errorf("erase contact: clean up: %w", err)
		}
	}
	return res, nil
}

// eraseTries bounds the log-first transactions of one erasure (see
// EraseContact): past it the erasure fails, erasing nothing, rather than
// leave the main transaction to blank events in the log it commits last.
const eraseTries = 5

// errLogBehind: the erasure found events the log-first transaction did
// not blank.
var errLogBehind = signal.Errorf(signal.ECONFLICT, "new events of this person kept arriving during the erasure; nothing was erased: try again")

// eraseMain is the erasure's main transaction. With blanked set, it gives
// up with errLogBehind when the person has events not in blanked.
func (s *Store) eraseMain(ctx context.Context, f *found, res *store.EraseResult, sealed []byte, now int64, blanked map[int64]bool) error {
	c, items := f.contact, f.lines
	return s.X.InLogTx(ctx, func(tx *Tx) error {
		// Count the erasure, first: a profile pass the processor read
		// before it is refused when recorded (store.ErasureCursor). On
		// PostgreSQL this also takes the processor cursor's row lock,
		// which RecordProcessed holds from its first statement, so a pass
		// checked before this erasure commits before it deletes.
		if _, err := tx.Exec(ctx, `INSERT INTO cursors (name, seq) VALUES (?, 0), (?, 1)
			ON CONFLICT (name) DO UPDATE SET seq = cursors.seq + excluded.seq`, store.ProcessorCursor, store.ErasureCursor); err != nil {
			return fmt.Errorf("count erasure: %w", err)
		}
		// No processor pass commits while this transaction runs (SQLite:
		// one writer; PostgreSQL: the cursor row locked above), but passes
		// committed since the person was found: one may have linked a key
		// of theirs to a profile made since, or recorded new events with
		// their profiles. Those are erased too: left behind, such an event
		// would point at a deleted profile, found by no later request.
		profileIDs, seqs, err := s.eraseTargets(ctx, tx, f)
		if err != nil {
			return err
		}
		if blanked != nil && slices.ContainsFunc(seqs, func(q int64) bool { return !blanked[q] }) {
			return errLogBehind
		}
		res.Events = len(seqs)
		for _, ce := range c.Events {
			if ce.Event.Seq == 0 { // a backfill line not in the log
				res.Events++
			}
		}
		// The person's lines of running backfills (fed or not): their
		// messages become erased ones, which keeps every line in its place
		// (the sender feeds by position) and is fed as an erased event.
		for _, it := range items {
			if _, err := tx.Exec(ctx, `UPDATE backfill_items SET message = ? WHERE backfill_id = ? AND line = ?`, sealed, it.backfillID, it.line); err != nil {
				return err
			}
		}
		for start := 0; start < len(profileIDs); start += contactBatch {
			chunk := anyInts(profileIDs[start:min(start+contactBatch, len(profileIDs))])
			in := placeholders(len(chunk))
			if _, err := tx.Exec(ctx, `DELETE FROM profile_keys WHERE profile_id IN (`+in+`)`, chunk...); err != nil {
				return err
			}
			n, err := tx.Exec(ctx, `DELETE FROM profiles WHERE id IN (`+in+`)`, chunk...)
			if err != nil {
				return err
			}
			res.Profiles += int(n)
		}
		if err := blankEvents(ctx, tx, seqs, sealed); err != nil {
			return err
		}
		for start := 0; start < len(seqs); start += contactBatch {
			chunk := anyInts(seqs[start:min(start+contactBatch, len(seqs))])
			in := placeholders(len(chunk))
			for _, q := range []string{
				`DELETE FROM event_search WHERE event_seq IN (%s)`,
				`DELETE FROM event_processed WHERE event_seq IN (%s)`,
				`DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_seq IN (%s))`,
			} {
				if _, err := tx.Exec(ctx, fmt.Sprintf(q, in), chunk...); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `UPDATE deliveries SET status = `+Filtered+`, reason = ?, next_attempt_at = 0, lease_until = 0, updated_at = ?
				WHERE status = `+Pending+` AND event_seq IN (`+in+`)`, append([]any{string(signal.ReasonContactErased), now}, chunk...)...); err != nil {
				return err
			}
			n, err := tx.Exec(ctx, `UPDATE deliveries SET payload = NULL, vendor_response = NULL, note = '', contact_key = '' WHERE event_seq IN (`+in+`) AND integration_id <> ''`, chunk...)
			if err != nil {
				return err
			}
			res.Deliveries += int(n)
			// Rows of events no integration received hold nothing either.
			if _, err := tx.Exec(ctx, `UPDATE deliveries SET payload = NULL, vendor_response = NULL, note = '', contact_key = '' WHERE event_seq IN (`+in+`) AND integration_id = ''`, chunk...); err != nil {
				return err
			}
		}
		return nil
	})
}

// blankEvents replaces the payloads of the events seqs with sealed (an
// erased event).
func blankEvents(ctx context.Context, tx *Tx, seqs []int64, sealed []byte) error {
	for start := 0; start < len(seqs); start += contactBatch {
		chunk := anyInts(seqs[start:min(start+contactBatch, len(seqs))])
		if _, err := tx.Exec(ctx, `UPDATE events SET payload = ? WHERE seq IN (`+placeholders(len(chunk))+`)`, append([]any{sealed}, chunk...)...); err != nil {
			return fmt.Errorf("blank events: %w", err)
		}
	}
	return nil
}

// eraseTargets returns, inside the erasure's transaction, the person's
// profiles as they stand now (those the keys found link to: a profile
// found may have been merged since, a key may have been given a profile
// since; a profile id seen before is not trusted, SQLite's may have been
// given to someone else) and the log positions of their events (those
// found, those recorded with one of the profiles, and those indexed by a
// key linked to them since the search), in order.
func (s *Store) eraseTargets(ctx context.Context, tx *Tx, f *found) ([]int64, []int64, error) {
	ids := map[int64]bool{}
	keys := make([]any, 0, len(f.links))
	for k := range f.links {
		keys = append(keys, k)
	}
	if err := inChunks(ctx, tx, keys, `SELECT profile_id FROM profile_keys WHERE key IN (%s)`, func(scan func(...any) error) error {
		var id int64
		err := scan(&id)
		ids[id] = true
		return err
	}); err != nil {
		return nil, nil, fmt.Errorf("the person's profiles now: %w", err)
	}
	profileIDs := slices.Sorted(maps.Keys(ids))
	var newKeys []any
	if err := inChunks(ctx, tx, anyInts(profileIDs), `SELECT key FROM profile_keys WHERE profile_id IN (%s)`, func(scan func(...any) error) error {
		var k string
		err := scan(&k)
		if _, seen := f.links[k]; !seen {
			newKeys = append(newKeys, k)
		}
		return err
	}); err != nil {
		return nil, nil, fmt.Errorf("the person's keys now: %w", err)
	}
	seqSet := map[int64]bool{}
	for _, ce := range f.contact.Events {
		if ce.Event.Seq != 0 {
			seqSet[ce.Event.Seq] = true
		}
	}
	add := func(scan func(...any) error) error {
		var seq int64
		err := scan(&seq)
		seqSet[seq] = true
		return err
	}
	if err := inChunks(ctx, tx, anyInts(profileIDs), `SELECT event_seq FROM event_processed WHERE profile_id IN (%s)`, add); err != nil {
		return nil, nil, fmt.Errorf("the person's events now: %w", err)
	}
	if err := inChunks(ctx, tx, newKeys, `SELECT event_seq FROM event_search WHERE key IN (%s)`, add); err != nil {
		return nil, nil, fmt.Errorf("the events of keys linked since: %w", err)
	}
	return profileIDs, slices.Sorted(maps.Keys(seqSet)), nil
}
