package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math/bits"
	"strings"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// ResolveProfiles loads the links of the keys the items name and the
// profiles behind them, merges in memory (store.ResolveProfiles, shared with
// store/postgres) and writes back what changed: a handful of statements per
// pass whatever its size. A pass whose items each name one key and bring no
// traits cannot change anything, so it only reads, on the read pool, and
// never waits for the main file's writer.
func (db *DB) ResolveProfiles(ctx context.Context, p store.ResolveProfilesParams) ([]*signal.Profile, error) {
	keys := store.ProfileKeys(p.Items)
	if len(keys) == 0 {
		return make([]*signal.Profile, len(p.Items)), nil
	}
	if store.ReadOnlyProfiles(p.Items) {
		pass, err := db.resolveProfiles(ctx, db.read, keys, p)
		if err != nil {
			return nil, fmt.Errorf("resolve profiles: %w", err)
		}
		if !pass.Changed() {
			return pass.Out, nil
		}
		// A consent to remember: resolve again under the writer.
	}
	var out []*signal.Profile
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		pass, err := db.resolveProfiles(ctx, tx, keys, p)
		if err != nil {
			return err
		}
		out = pass.Out
		return db.writeProfiles(ctx, tx, pass, ms(p.Now))
	})
	if err != nil {
		return nil, fmt.Errorf("resolve profiles: %w", err)
	}
	return out, nil
}

// PrepareProfiles resolves like ResolveProfiles, on the read pool, and
// leaves the write to RecordProcessed (recordProfiles): the pass's reading
// and merging never hold the main file's writer.
func (db *DB) PrepareProfiles(ctx context.Context, p store.ResolveProfilesParams) (*store.ProfilePass, error) {
	// The erasure count first: an erasure committed after this read, even
	// before the load below, refuses the pass.
	erasures, err := readErasures(ctx, db.read)
	if err != nil {
		return nil, fmt.Errorf("prepare profiles: %w", err)
	}
	pass, err := db.resolveProfiles(ctx, db.read, store.ProfileKeys(p.Items), p)
	if err != nil {
		return nil, fmt.Errorf("prepare profiles: %w", err)
	}
	pass.Erasures = p.Carry.ErasuresOr(erasures)
	return pass, nil
}

// recordProfiles writes a prepared pass in RecordProcessed's transaction,
// unless a contact was erased since it was read. The transaction holds the
// main file's one writer, which erasures use too, so no erasure can commit
// between this check and the writes.
func (db *DB) recordProfiles(ctx context.Context, tx *sql.Tx, pass *store.ProfilePass, now int64) error {
	erasures, err := readErasures(ctx, tx)
	if err != nil {
		return err
	}
	if erasures != pass.Erasures {
		return signal.Errorf(signal.ECONFLICT, "a contact was erased after the profiles were read: read the events again")
	}
	if err := db.writeProfiles(ctx, tx, pass, now); err != nil {
		return fmt.Errorf("write profiles: %w", err)
	}
	return nil
}

func readErasures(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}) (int64, error) {
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM cursors WHERE name = ?`, store.ErasureCursor).Scan(&n); err != nil {
		return 0, fmt.Errorf("read erasures: %w", err)
	}
	return n, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// maxRows bounds the rows of one statement, under SQLite's limit on bound
// parameters (32,766) at four columns a row.
const maxRows = 1000

// resolveProfiles loads what keys link to, in one statement per maxRows
// keys, and applies the items.
func (db *DB) resolveProfiles(ctx context.Context, q querier, keys []string, p store.ResolveProfilesParams) (*store.ProfilePass, error) {
	links := make(map[string]int64, len(keys))
	profiles := map[int64]*signal.Profile{}
	for chunk := range chunks(keys, maxRows) {
		rows, err := q.QueryContext(ctx, `SELECT k.key, k.profile_id, p.traits, p.trait_trust, p.updated_at
			FROM profile_keys k LEFT JOIN profiles p ON p.id = k.profile_id
			WHERE k.key IN (?`+strings.Repeat(",?", len(chunk)-1)+`)`, anys(chunk)...)
		if err != nil {
			return nil, fmt.Errorf("load profiles: %w", err)
		}
		for rows.Next() {
			var (
				k                   string
				id                  int64
				sealed, sealedTrust []byte
				updated             sql.NullInt64
			)
			if err := rows.Scan(&k, &id, &sealed, &sealedTrust, &updated); err != nil {
				rows.Close()
				return nil, fmt.Errorf("load profiles: %w", err)
			}
			links[k] = id
			if profiles[id] != nil || !updated.Valid { // already read, or missing (reported by the resolver)
				continue
			}
			if profiles[id], err = store.OpenProfile(id, sealed, sealedTrust, fromMS(updated.Int64), db.open); err != nil {
				rows.Close()
				return nil, err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("load profiles: %w", err)
		}
	}
	return store.ResolveProfiles(links, profiles, p)
}

// profileIDsCursor is the highest profile id drawn so far (PostgreSQL's is
// its sequence).
const profileIDsCursor = "profile_ids"

// writeProfiles writes a pass: ids for the profiles it created (SQLite's
// next rowids, as INSERT would draw them: only this writer inserts), then
// merges, links and profiles, each in one statement per maxRows rows.
func (db *DB) writeProfiles(ctx context.Context, tx *sql.Tx, pass *store.ProfilePass, now int64) error {
	if !pass.Changed() {
		return pass.Bind(nil) // its events may name the pass before's new profiles
	}
	var ids []int64
	if pass.Created > 0 {
		// Above every id ever drawn, not only above the profiles left: an
		// id is never given twice, so an id read before an erasure or a
		// merge deleted its profile never names someone else's.
		var top int64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(COALESCE((SELECT MAX(id) FROM profiles), 0), COALESCE((SELECT seq FROM cursors WHERE name = ?), 0))`,
			profileIDsCursor).Scan(&top); err != nil {
			return fmt.Errorf("draw profile ids: %w", err)
		}
		for i := range pass.Created {
			ids = append(ids, top+1+int64(i))
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO cursors (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq`,
			profileIDsCursor, top+int64(pass.Created)); err != nil {
			return fmt.Errorf("draw profile ids: %w", err)
		}
	}
	if err := pass.Bind(ids); err != nil {
		return err
	}
	for chunk := range chunks(pass.Merges, maxRows) {
		var (
			cases strings.Builder
			args  []any
			from  []any
		)
		for _, m := range chunk {
			cases.WriteString(" WHEN ? THEN ?")
			args = append(args, m.From, m.To)
			from = append(from, m.From)
		}
		in := "(?" + strings.Repeat(",?", len(chunk)-1) + ")"
		if _, err := tx.ExecContext(ctx, `UPDATE profile_keys SET profile_id = CASE profile_id`+cases.String()+` END
			WHERE profile_id IN `+in, append(args, from...)...); err != nil {
			return fmt.Errorf("relink merged profiles: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE event_processed SET profile_id = CASE profile_id`+cases.String()+` END
			WHERE profile_id IN `+in, append(args, from...)...); err != nil {
			return fmt.Errorf("relink merged profiles' events: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM profiles WHERE id IN `+in, from...); err != nil {
			return fmt.Errorf("delete merged profiles: %w", err)
		}
	}
	for chunk := range chunks(pass.Links, maxRows) {
		args := make([]any, 0, 2*len(chunk))
		for _, l := range chunk {
			args = append(args, l.Key, l.ProfileID)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO profile_keys (key, profile_id) VALUES `+values(len(chunk), 2)+`
			ON CONFLICT (key) DO UPDATE SET profile_id = excluded.profile_id`, args...); err != nil {
			return fmt.Errorf("link profile keys: %w", err)
		}
	}
	for chunk := range chunks(pass.Upserts, maxRows) {
		args := make([]any, 0, 4*len(chunk))
		for _, u := range chunk {
			sealed, sealedTrust, err := store.SealProfile(u, db.seal)
			if err != nil {
				return err
			}
			args = append(args, u.ID, sealed, sealedTrust, now)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO profiles (id, traits, trait_trust, updated_at) VALUES `+values(len(chunk), 4)+`
			ON CONFLICT (id) DO UPDATE SET traits = excluded.traits, trait_trust = excluded.trait_trust, updated_at = excluded.updated_at`,
			args...); err != nil {
			return fmt.Errorf("write profiles: %w", err)
		}
	}
	return nil
}

// chunks yields s in slices of at most n, each a power of two long
// unless n cuts it: a multi-row statement's text depends on its row count,
// and few distinct counts keep the statements in the connection's cache
// (37 rows go as 32, 4 and 1).
func chunks[T any](s []T, n int) func(yield func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(s) > 0 {
			c := s[:min(n, 1<<(bits.Len(uint(len(s)))-1))]
			s = s[len(c):]
			if !yield(c) {
				return
			}
		}
	}
}

// values returns n rows of cols placeholders: "(?,?),(?,?)".
func values(n, cols int) string {
	row := "(?" + strings.Repeat(",?", cols-1) + ")"
	return row + strings.Repeat(","+row, n-1)
}

func anys[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
