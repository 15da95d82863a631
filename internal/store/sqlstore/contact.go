package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// erasedPayload is what an erased event's payload becomes: the row stays
// for Live Events (status, reason, counts) but holds nothing of the
// person.
var erasedPayload = []byte(`{}`)

// contactBatch is how many rows a scan reads, and how many ids an IN list
// holds, at a time.
const contactBatch = 500

// FindContact finds the person's profiles (by key, then by MatchProfile
// over every profile) and events (by the keys the processor indexed, see
// contactEvents; ids are only stored hashed or inside sealed payloads).
func (s *Store) FindContact(ctx context.Context, p store.FindContactParams) (*store.Contact, error) {
	f, err := s.findContact(ctx, p)
	if err != nil {
		return nil, err
	}
	return f.contact, nil
}

// found is what findContact found: the contact, their profiles' ids, their
// backfill lines, and every key linked to those profiles (and the asked
// ones), with the profile each linked to.
type found struct {
	contact    *store.Contact
	profileIDs []int64
	lines      []backfillLine
	links      map[string]int64 // key → profile id (0: linked to none)
}

// findAttempts bounds how often findContact starts over because a
// processor pass merged the person's profiles while it read.
const findAttempts = 5

// findContact finds the person. Its reads are separate statements, so a
// processor pass may commit between them; a pass that merged the person's
// profiles (moving their keys, and the events recorded with them, to
// another profile) is seen by reading the keys' links again at the end,
// and the search starts over.
func (s *Store) findContact(ctx context.Context, p store.FindContactParams) (*found, error) {
	for attempt := 1; ; attempt++ {
		f, err := s.findContactOnce(ctx, p)
		if err != nil {
			return nil, err
		}
		now, err := currentLinks(ctx, s.X, f)
		if err != nil {
			return nil, err
		}
		if maps.Equal(now, f.links) {
			return f, nil
		}
		if attempt == findAttempts {
			return nil, signal.Errorf(signal.ECONFLICT, "the person's profiles kept changing while they were read: try again")
		}
		select { // a pass is under way: let it finish
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(attempt) * 20 * time.Millisecond):
		}
	}
}

// querier is what the contact reads run on: the store, or the erasure's
// transaction.
type querier interface {
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// currentLinks reads the links as they are now of every key f saw and of
// every key of f's profiles (0: linked to none): a key moved to another
// profile (a merge) or newly linked to one of f's profiles shows as a
// difference from f.links.
func currentLinks(ctx context.Context, q querier, f *found) (map[string]int64, error) {
	now := make(map[string]int64, len(f.links))
	keys := make([]any, 0, len(f.links))
	for k := range f.links {
		now[k] = 0
		keys = append(keys, k)
	}
	row := func(scan func(...any) error) error {
		var (
			k  string
			id int64
		)
		err := scan(&k, &id)
		now[k] = id
		return err
	}
	if err := inChunks(ctx, q, keys, `SELECT key, profile_id FROM profile_keys WHERE key IN (%s)`, row); err != nil {
		return nil, fmt.Errorf("find contact: key links: %w", err)
	}
	if err := inChunks(ctx, q, anyInts(f.profileIDs), `SELECT key, profile_id FROM profile_keys WHERE profile_id IN (%s)`, row); err != nil {
		return nil, fmt.Errorf("find contact: profile keys: %w", err)
	}
	return now, nil
}

func (s *Store) findContactOnce(ctx context.Context, p store.FindContactParams) (*found, error) {
	// The processor's cursor first: an event a pass records after this
	// read is read whole from the log (contactEvents), so a pass that
	// links a new visitor's key to a new profile after the profiles are
	// read below misses nothing.
	processed, err := s.Cursor(ctx, store.CursorParams{Name: store.ProcessorCursor})
	if err != nil {
		return nil, fmt.Errorf("find contact: %w", err)
	}
	out := &store.Contact{Profiles: []store.ContactProfile{}, Events: []store.ContactEvent{}}
	ids := map[int64]bool{}
	links := map[string]int64{}
	for _, k := range p.ProfileKeys {
		links[k] = 0
	}
	if err := inChunks(ctx, s.X, anyStrings(p.ProfileKeys), `SELECT key, profile_id FROM profile_keys WHERE key IN (%s)`, func(scan func(...any) error) error {
		var (
			k  string
			id int64
		)
		err := scan(&k, &id)
		ids[id], links[k] = true, id
		return err
	}); err != nil {
		return nil, fmt.Errorf("find contact: profiles by key: %w", err)
	}
	// Every profile is read (by id pages) when a trait must match; else
	// only those found by key.
	var last int64 = -1
	for {
		q, args := `SELECT id, traits, trait_trust, updated_at FROM profiles WHERE id > ? ORDER BY id LIMIT ?`, []any{last, contactBatch}
		if p.MatchProfile == nil {
			if len(ids) == 0 {
				break
			}
			q, args = `SELECT id, traits, trait_trust, updated_at FROM profiles WHERE id IN (`+placeholders(len(ids))+`)`, nil
			for id := range ids {
				args = append(args, id)
			}
		}
		n := 0
		err := eachRow(ctx, s.X, q, args, func(scan func(...any) error) error {
			var (
				id            int64
				traits, trust []byte
				updated       int64
			)
			if err := scan(&id, &traits, &trust, &updated); err != nil {
				return err
			}
			n, last = n+1, id
			pr, err := store.OpenProfile(id, traits, trust, FromMS(updated), s.Open)
			if err != nil {
				return err
			}
			if ids[id] || (p.MatchProfile != nil && p.MatchProfile(pr.Traits)) {
				ids[id] = true
				out.Profiles = append(out.Profiles, store.ContactProfile{ID: id, Traits: pr.Traits})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("find contact: profiles: %w", err)
		}
		if p.MatchProfile == nil || n < contactBatch {
			break
		}
	}
	keys := map[string]bool{}
	for _, k := range p.ProfileKeys {
		keys[k] = true
	}
	idList := make([]any, 0, len(ids))
	for id := range ids {
		idList = append(idList, id)
	}
	if err := inChunks(ctx, s.X, idList, `SELECT key, profile_id FROM profile_keys WHERE profile_id IN (%s)`, func(scan func(...any) error) error {
		var (
			k  string
			id int64
		)
		err := scan(&k, &id)
		keys[k], links[k] = true, id
		return err
	}); err != nil {
		return nil, fmt.Errorf("find contact: profile keys: %w", err)
	}
	evs, err := s.contactEvents(ctx, p, keys, idList, processed)
	if err != nil {
		return nil, err
	}
	var seqs []int64
	index := map[int64]int{}
	for _, ev := range evs {
		index[ev.Seq] = len(out.Events)
		seqs = append(seqs, ev.Seq)
		out.Events = append(out.Events, store.ContactEvent{Event: ev, Deliveries: []store.ContactDelivery{}})
	}
	if err := inChunks(ctx, s.X, anyInts(seqs), `SELECT event_seq, integration_id, status, reason FROM deliveries WHERE event_seq IN (%s) AND integration_id <> '' ORDER BY id`, func(scan func(...any) error) error {
		var (
			seq int64
			d   store.ContactDelivery
		)
		if err := scan(&seq, &d.IntegrationID, &d.Status, &d.Reason); err != nil {
			return err
		}
		ce := &out.Events[index[seq]]
		ce.Deliveries = append(ce.Deliveries, d)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("find contact: deliveries: %w", err)
	}
	profileIDs := make([]int64, 0, len(ids))
	for id := range ids {
		profileIDs = append(profileIDs, id)
	}
	// The person's lines of running backfills: those not in the log yet
	// are listed as events of their own (no deliveries yet).
	lines, err := s.contactBackfillItems(ctx, p, keys)
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		if !l.fed {
			out.Events = append(out.Events, store.ContactEvent{Event: l.event, Deliveries: []store.ContactDelivery{}})
		}
	}
	return &found{contact: out, profileIDs: profileIDs, lines: lines, links: links}, nil
}

// contactEvents returns the person's events in log order. Those the
// processor indexed are found by their keys (event_search: the keys of the
// person's ids, emails and phone numbers, see pipeline.searchKeys) and by
// the person's profiles (event_processed.profile_id: the events processed
// with them, whose anonymous ids are not in event_search) without reading
// any other event; only two ranges are read whole: the events not
// processed yet (after the processor's cursor, read first, so an event
// indexed meanwhile is read rather than missed) and those processed before
// the index held every id (up to the ContactIndexCursor migration 015 set).
func (s *Store) contactEvents(ctx context.Context, p store.FindContactParams, keys map[string]bool, profileIDs []any, processed int64) ([]signal.Event, error) {
	before, err := s.Cursor(ctx, store.CursorParams{Name: store.ContactIndexCursor})
	if err != nil {
		return nil, fmt.Errorf("find contact: %w", err)
	}
	indexKeys := append([]string(nil), p.SearchKeys...)
	for k := range keys {
		indexKeys = append(indexKeys, k)
	}
	found := map[int64]bool{}
	addSeq := func(scan func(...any) error) error {
		var seq int64
		err := scan(&seq)
		found[seq] = true
		return err
	}
	if err := inChunks(ctx, s.X, anyStrings(indexKeys), `SELECT DISTINCT event_seq FROM event_search WHERE key IN (%s)`, addSeq); err != nil {
		return nil, fmt.Errorf("find contact: indexed events: %w", err)
	}
	if err := inChunks(ctx, s.X, profileIDs, `SELECT event_seq FROM event_processed WHERE profile_id IN (%s)`, addSeq); err != nil {
		return nil, fmt.Errorf("find contact: the profiles' events: %w", err)
	}
	var out []signal.Event
	seqs := make([]int64, 0, len(found))
	for seq := range found {
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	for start := 0; start < len(seqs); start += contactBatch {
		chunk := anyInts(seqs[start:min(start+contactBatch, len(seqs))])
		evs, err := queryAll(ctx, s.X, s.ScanEvent, `SELECT `+EventCols+` FROM events WHERE seq IN (`+placeholders(len(chunk))+`) ORDER BY seq`, chunk...)
		if err != nil {
			return nil, fmt.Errorf("find contact: indexed events: %w", err)
		}
		for _, ev := range evs {
			if string(ev.Payload) != string(erasedPayload) {
				out = append(out, ev)
			}
		}
	}
	for _, r := range [][2]int64{{0, before}, {processed, -1}} {
		evs, err := s.scanContactEvents(ctx, p, keys, found, r[0], r[1])
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	slices.SortFunc(out, func(a, b signal.Event) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

// scanContactEvents reads the events after seq after, up to upTo (-1: the
// log's head), and keeps the person's (those not already found): by their
// ids' keys meeting the person's keys, or by MatchEvent.
func (s *Store) scanContactEvents(ctx context.Context, p store.FindContactParams, keys map[string]bool, found map[int64]bool, after, upTo int64) ([]signal.Event, error) {
	var out []signal.Event
	for upTo < 0 || after < upTo {
		q, args := `SELECT `+EventCols+` FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, []any{after, contactBatch}
		if upTo >= 0 {
			q, args = `SELECT `+EventCols+` FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`, []any{after, upTo, contactBatch}
		}
		evs, err := queryAll(ctx, s.X, s.ScanEvent, q, args...)
		if err != nil {
			return nil, fmt.Errorf("find contact: events: %w", err)
		}
		for _, ev := range evs {
			after = ev.Seq
			if !found[ev.Seq] && string(ev.Payload) != string(erasedPayload) && belongs(p, ev, keys) {
				found[ev.Seq] = true
				out = append(out, ev)
			}
		}
		if len(evs) < contactBatch {
			break
		}
	}
	return out, nil
}

func belongs(p store.FindContactParams, ev signal.Event, keys map[string]bool) bool {
	if p.EventKeys != nil {
		for _, k := range p.EventKeys(ev.Payload) {
			if keys[k] {
				return true
			}
		}
	}
	return p.MatchEvent != nil && p.MatchEvent(ev.Payload)
}

// backfillLine is one of the person's lines of a running backfill: fed
// (already in the event log, where erasure finds its event) or not (then
// listed by export as an event with seq 0).
type backfillLine struct {
	backfillID string
	line       int
	fed        bool
	event      signal.Event
}

// contactBackfillItems finds the person's lines among the items of the
// backfills still running (a finished backfill's items are deleted), by
// the same rules as their events. A backfill's first Logged lines (in line
// order) are the ones fed.
func (s *Store) contactBackfillItems(ctx context.Context, p store.FindContactParams, keys map[string]bool) ([]backfillLine, error) {
	type running struct {
		created int64
		logged  int
	}
	bfs := map[string]*running{}
	if err := eachRow(ctx, s.X, `SELECT b.id, b.created_at, (SELECT COUNT(*) FROM events e WHERE e.pipeline_id = b.id) FROM backfills b WHERE b.status = ?`,
		[]any{store.BackfillRunning}, func(scan func(...any) error) error {
			var (
				id string
				r  running
			)
			err := scan(&id, &r.created, &r.logged)
			bfs[id] = &r
			return err
		}); err != nil {
		return nil, fmt.Errorf("find contact: running backfills: %w", err)
	}
	var out []backfillLine
	for id, r := range bfs {
		i := 0
		err := eachRow(ctx, s.X, `SELECT line, message FROM backfill_items WHERE backfill_id = ? ORDER BY line`, []any{id}, func(scan func(...any) error) error {
			l := backfillLine{backfillID: id, fed: i < r.logged}
			i++
			var sealed []byte
			if err := scan(&l.line, &sealed); err != nil {
				return err
			}
			msg, err := s.Open(sealed)
			if err != nil {
				return fmt.Errorf("open line %d of backfill %s: %w", l.line, id, err)
			}
			if string(msg) == string(erasedPayload) || !belongs(p, signal.Event{Payload: msg}, keys) {
				return nil
			}
			var m struct {
				MessageID signal.ID `json:"messageId"`
				Type      string    `json:"type"`
				Event     string    `json:"event"`
				Name      string    `json:"name"`
			}
			_ = json.Unmarshal(msg, &m)
			l.event = signal.Event{MessageID: cmp.Or(string(m.MessageID), fmt.Sprintf("%s-line-%d", id, l.line)), PipelineID: id,
				Type: m.Type, Event: cmp.Or(m.Event, m.Name), ReceivedAt: FromMS(r.created), Payload: msg}
			out = append(out, l)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("find contact: lines of backfill %s: %w", id, err)
		}
	}
	return out, nil
}

// inChunks runs query (one %s for an IN list) with q for args,
// contactBatch at a time, and calls row for each row.
func inChunks(ctx context.Context, q querier, args []any, query string, row func(scan func(...any) error) error) error {
	for start := 0; start < len(args); start += contactBatch {
		chunk := args[start:min(start+contactBatch, len(args))]
		if err := eachRow(ctx, q, fmt.Sprintf(query, placeholders(len(chunk))), chunk, row); err != nil {
			return err
		}
	}
	return nil
}

// eachRow runs query with q and calls row for each row.
func eachRow(ctx context.Context, q querier, query string, args []any, row func(scan func(...any) error) error) error {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func anyStrings(v []string) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

func anyInts(v []int64) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}
