package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// ResolveProfiles loads the links of the keys the items name and the
// profiles behind them, merges in memory (store.ResolveProfiles, shared with
// store/sqlite) and writes back what changed in one batch of set-based
// statements: a pass costs the same few round trips whatever its size.
//
// A pass that may write holds the profile advisory lock for its
// transaction, so resolutions on several nodes never interleave (two nodes
// meeting one new visitor would otherwise each create a profile, and a merge
// could race an update of the profile it deletes). A pass whose items each
// name one key and bring no traits cannot change anything: it reads without
// the lock.
func (db *DB) ResolveProfiles(ctx context.Context, p store.ResolveProfilesParams) ([]*signal.Profile, error) {
	keys := store.ProfileKeys(p.Items)
	if len(keys) == 0 {
		return make([]*signal.Profile, len(p.Items)), nil
	}
	if store.ReadOnlyProfiles(p.Items) {
		b := &pgx.Batch{}
		load := db.queueLoad(b, keys)
		if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
			return nil, fmt.Errorf("resolve profiles: load: %w", err)
		}
		pass, err := load.resolve(p)
		if err != nil {
			return nil, fmt.Errorf("resolve profiles: %w", err)
		}
		if !pass.Changed() {
			return pass.Out, nil
		}
		// A consent to remember: resolve again under the lock.
	}
	var out []*signal.Profile
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(db.lockSQL(lockProfiles))
		load := db.queueLoad(b, keys)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("load: %w", err)
		}
		pass, err := load.resolve(p)
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

// PrepareProfiles resolves like ResolveProfiles, in one batch on the pool
// and without the profile lock, and leaves the write to RecordProcessed
// (recordProfiles).
func (db *DB) PrepareProfiles(ctx context.Context, p store.ResolveProfilesParams) (*store.ProfilePass, error) {
	b := &pgx.Batch{}
	// The erasure count first: an erasure committed after this read, even
	// before the load below, refuses the pass.
	var erasures int64
	b.Queue(erasuresSQL, store.ErasureCursor).QueryRow(func(row pgx.Row) error { return row.Scan(&erasures) })
	keys := store.ProfileKeys(p.Items)
	var load *profileLoad
	if len(keys) > 0 {
		load = db.queueLoad(b, keys)
	}
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("prepare profiles: load: %w", err)
	}
	if load == nil {
		load = &profileLoad{links: map[string]int64{}, profiles: map[int64]*signal.Profile{}}
	}
	pass, err := load.resolve(p)
	if err != nil {
		return nil, fmt.Errorf("prepare profiles: %w", err)
	}
	pass.Erasures = p.Carry.ErasuresOr(erasures)
	return pass, nil
}

const erasuresSQL = `SELECT COALESCE(MAX(seq), 0) FROM cursors WHERE name = $1`

// recordProfiles writes a prepared pass in RecordProcessed's transaction,
// unless a contact was erased since it was read. The transaction holds the
// processor cursor's row lock, which EraseContact also takes first, so no
// erasure commits between this check and the commit.
func (db *DB) recordProfiles(ctx context.Context, tx pgx.Tx, pass *store.ProfilePass, now int64) error {
	var erasures int64
	if err := tx.QueryRow(ctx, erasuresSQL, store.ErasureCursor).Scan(&erasures); err != nil {
		return fmt.Errorf("read erasures: %w", err)
	}
	if erasures != pass.Erasures {
		return signal.Errorf(signal.ECONFLICT, "a contact was erased after the profiles were read: read the events again")
	}
	return db.writeProfiles(ctx, tx, pass, now)
}

// profileLoad is what one load query filled in.
type profileLoad struct {
	links    map[string]int64
	profiles map[int64]*signal.Profile
}

func (l *profileLoad) resolve(p store.ResolveProfilesParams) (*store.ProfilePass, error) {
	return store.ResolveProfiles(l.links, l.profiles, p)
}

// queueLoad queues the one query that reads keys' links and profiles.
func (db *DB) queueLoad(b *pgx.Batch, keys []string) *profileLoad {
	l := &profileLoad{links: make(map[string]int64, len(keys)), profiles: map[int64]*signal.Profile{}}
	b.Queue(`SELECT k.key, k.profile_id, p.traits, p.trait_trust, p.updated_at
		FROM profile_keys k LEFT JOIN profiles p ON p.id = k.profile_id WHERE k.key = ANY($1)`, keys).
		Query(func(rows pgx.Rows) error {
			var (
				k                   string
				id                  int64
				sealed, sealedTrust []byte
				updated             *int64
			)
			_, err := pgx.ForEachRow(rows, []any{&k, &id, &sealed, &sealedTrust, &updated}, func() error {
				l.links[k] = id
				if l.profiles[id] != nil || updated == nil { // already read, or missing (reported by the resolver)
					return nil
				}
				p, err := store.OpenProfile(id, sealed, sealedTrust, fromMS(*updated), db.open)
				l.profiles[id] = p
				return err
			})
			return err
		})
	return l
}

// writeProfiles writes a pass in one batch: ids drawn for the profiles it
// created, then merges, links and profiles.
func (db *DB) writeProfiles(ctx context.Context, tx pgx.Tx, pass *store.ProfilePass, now int64) error {
	if !pass.Changed() {
		return pass.Bind(nil) // its events may name the pass before's new profiles
	}
	var ids []int64
	if pass.Created > 0 {
		rows, err := tx.Query(ctx, `SELECT nextval('profiles_id_seq') FROM generate_series(1, $1) ORDER BY 1`, pass.Created)
		if err != nil {
			return fmt.Errorf("draw profile ids: %w", err)
		}
		if ids, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return fmt.Errorf("draw profile ids: %w", err)
		}
	}
	if err := pass.Bind(ids); err != nil {
		return err
	}

	b := &pgx.Batch{}
	if len(pass.Merges) > 0 {
		from, to := make([]int64, len(pass.Merges)), make([]int64, len(pass.Merges))
		for i, m := range pass.Merges {
			from[i], to[i] = m.From, m.To
		}
		b.Queue(`UPDATE profile_keys k SET profile_id = m.to_id FROM unnest($1::bigint[], $2::bigint[]) AS m (from_id, to_id)
			WHERE k.profile_id = m.from_id`, from, to)
		b.Queue(`UPDATE event_processed e SET profile_id = m.to_id FROM unnest($1::bigint[], $2::bigint[]) AS m (from_id, to_id)
			WHERE e.profile_id = m.from_id`, from, to)
		b.Queue(`DELETE FROM profiles WHERE id = ANY($1)`, from)
	}
	if len(pass.Links) > 0 {
		keys, ids := make([]string, len(pass.Links)), make([]int64, len(pass.Links))
		for i, l := range pass.Links {
			keys[i], ids[i] = l.Key, l.ProfileID
		}
		b.Queue(`INSERT INTO profile_keys (key, profile_id) SELECT * FROM unnest($1::text[], $2::bigint[])
			ON CONFLICT (key) DO UPDATE SET profile_id = excluded.profile_id`, keys, ids)
	}
	if len(pass.Upserts) > 0 {
		ids := make([]int64, len(pass.Upserts))
		sealed, sealedTrust := make([][]byte, len(pass.Upserts)), make([][]byte, len(pass.Upserts))
		for i, u := range pass.Upserts {
			var err error
			if sealed[i], sealedTrust[i], err = store.SealProfile(u, db.seal); err != nil {
				return err
			}
			ids[i] = u.ID
		}
		b.Queue(`INSERT INTO profiles (id, traits, trait_trust, updated_at) SELECT u.id, u.traits, u.trust, $4
			FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS u (id, traits, trust)
			ON CONFLICT (id) DO UPDATE SET traits = excluded.traits, trait_trust = excluded.trait_trust, updated_at = excluded.updated_at`,
			ids, sealed, sealedTrust, now)
	}
	if b.Len() == 0 { // only profiles created and merged away within the pass
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write profiles: %w", err)
	}
	return nil
}
