package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/jackc/pgx/v5"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// ResolveProfiles links ids and merges traits, item by item, in one
// transaction, with the semantics of store/sqlite. It holds the profile
// advisory lock for the transaction, so resolutions on several nodes never
// interleave (two nodes meeting one new visitor would otherwise each create
// a profile, and a merge could race an update of the profile it deletes).
//
// Under the lock nothing else changes profiles, so the items are applied in
// memory (see resolver) and written at the end in a few set-based
// statements: a pass costs the same handful of round trips whatever its
// size.
func (db *DB) ResolveProfiles(ctx context.Context, p store.ResolveProfilesParams) ([]*signal.Profile, error) {
	out := make([]*signal.Profile, len(p.Items))
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		r, err := db.loadResolver(ctx, tx, p.Items)
		if err != nil {
			return err
		}
		for i, it := range p.Items {
			out[i] = snapshot(r.resolveOne(it, ms(p.Now)))
		}
		return r.flush(ctx, tx, out, ms(p.Now))
	})
	if err != nil {
		return nil, fmt.Errorf("resolve profiles: %w", err)
	}
	return out, nil
}

func snapshot(p *signal.Profile) *signal.Profile {
	if p == nil {
		return nil
	}
	c := *p
	c.Traits = maps.Clone(p.Traits)
	c.TraitTrust = maps.Clone(p.TraitTrust)
	return &c
}

// firstNewID is where the placeholder ids of profiles created during a call
// start: above every real id, in creation order, as the ids drawn for them
// at the end will be.
const firstNewID = int64(1) << 62

// resolver holds, in memory, the profiles and key links a call touches.
type resolver struct {
	db       *DB
	keys     map[string]int64 // every key the items name → its profile
	profiles map[int64]*signal.Profile
	created  []int64         // placeholder ids, in creation order
	mergedTo map[int64]int64 // deleted profile → the one that absorbed it
	dirty    map[int64]bool  // profiles whose traits changed
	linked   map[string]bool // keys whose link changed
}

// loadResolver takes the profile lock and reads the keys the items name and
// the profiles they link to, in one round trip.
func (db *DB) loadResolver(ctx context.Context, tx pgx.Tx, items []store.ProfileUpdate) (*resolver, error) {
	r := &resolver{db: db, keys: map[string]int64{}, profiles: map[int64]*signal.Profile{}, mergedTo: map[int64]int64{},
		dirty: map[int64]bool{}, linked: map[string]bool{}}
	var all []string
	for _, it := range items {
		all = append(all, it.Keys...)
	}
	b := &pgx.Batch{}
	b.Queue(db.lockSQL(lockProfiles))
	b.Queue(`SELECT key, profile_id FROM profile_keys WHERE key = ANY($1)`, all).Query(func(rows pgx.Rows) error {
		var (
			k  string
			id int64
		)
		_, err := pgx.ForEachRow(rows, []any{&k, &id}, func() error { r.keys[k] = id; return nil })
		return err
	})
	b.Queue(`SELECT id, traits, trait_trust, updated_at FROM profiles WHERE id IN (SELECT profile_id FROM profile_keys WHERE key = ANY($1))`, all).
		Query(func(rows pgx.Rows) error {
			var (
				id, updated         int64
				sealed, sealedTrust []byte
			)
			_, err := pgx.ForEachRow(rows, []any{&id, &sealed, &sealedTrust, &updated}, func() error {
				p := &signal.Profile{ID: id, Traits: map[string]any{}, UpdatedAt: fromMS(updated)}
				if len(sealed) > 0 {
					b, err := db.open(sealed)
					if err != nil {
						return fmt.Errorf("open profile %d: %w", id, err)
					}
					if err := json.Unmarshal(b, &p.Traits); err != nil {
						return fmt.Errorf("profile %d: %w", id, err)
					}
				}
				if len(sealedTrust) > 0 {
					b, err := db.open(sealedTrust)
					if err != nil {
						return fmt.Errorf("open profile %d trait trust: %w", id, err)
					}
					if err := json.Unmarshal(b, &p.TraitTrust); err != nil {
						return fmt.Errorf("profile %d trait trust: %w", id, err)
					}
				}
				r.profiles[id] = p
				return nil
			})
			return err
		})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("load profiles: %w", err)
	}
	for k, id := range r.keys {
		if r.profiles[id] == nil {
			return nil, fmt.Errorf("key %s links to missing profile %d", k, id)
		}
	}
	return r, nil
}

// resolveOne applies one item, as store/sqlite's resolveOne does.
func (r *resolver) resolveOne(it store.ProfileUpdate, now int64) *signal.Profile {
	if len(it.Keys) == 0 {
		return nil
	}
	linked := map[string]int64{}
	var ids []int64
	for _, k := range it.Keys {
		if id, ok := r.keys[k]; ok {
			linked[k] = id
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	if len(ids) == 0 && len(it.Traits) == 0 && len(it.Keys) == 1 {
		return nil // an unknown visitor with nothing to remember
	}

	var (
		target  *signal.Profile
		changed bool
	)
	if len(ids) == 0 {
		target = &signal.Profile{ID: firstNewID + int64(len(r.created)), Traits: map[string]any{}}
		r.created = append(r.created, target.ID)
		r.profiles[target.ID] = target
		changed = true
	} else {
		profiles := make([]*signal.Profile, len(ids))
		for i, id := range ids {
			profiles[i] = r.profiles[id]
		}
		// The oldest profile absorbs the others; per key the most trusted,
		// then the most recently updated value wins, the target's own
		// included.
		target = profiles[0]
		others := profiles[1:]
		if len(others) > 0 {
			byUpdate := append([]*signal.Profile(nil), profiles...)
			sort.SliceStable(byUpdate, func(i, j int) bool { return byUpdate[i].UpdatedAt.Before(byUpdate[j].UpdatedAt) })
			target.Traits, target.TraitTrust = store.MergeProfiles(byUpdate)
		}
		for _, o := range others {
			for k, id := range r.keys {
				if id == o.ID {
					r.keys[k] = target.ID
				}
			}
			r.mergedTo[o.ID] = target.ID
			delete(r.profiles, o.ID)
			delete(r.dirty, o.ID)
			changed = true
		}
	}
	for _, k := range it.Keys {
		if id, ok := linked[k]; ok && id == target.ID {
			continue
		}
		r.keys[k] = target.ID
		r.linked[k] = true
	}
	if store.MergeTraits(target, it.Traits, it.Trust) {
		changed = true
	}
	if changed {
		r.dirty[target.ID] = true
		target.UpdatedAt = fromMS(now)
	}
	return target
}

// flush writes what the items changed: profiles created, merged away and
// updated, and key links. Profiles created during the call get their real
// ids here, drawn in creation order; out's placeholders are replaced.
func (r *resolver) flush(ctx context.Context, tx pgx.Tx, out []*signal.Profile, now int64) error {
	var newIDs []int64
	if len(r.created) > 0 {
		rows, err := tx.Query(ctx, `SELECT nextval('profiles_id_seq') FROM generate_series(1, $1)`, len(r.created))
		if err != nil {
			return fmt.Errorf("draw profile ids: %w", err)
		}
		if newIDs, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return fmt.Errorf("draw profile ids: %w", err)
		}
		slices.Sort(newIDs)
	}
	realID := func(id int64) int64 {
		if id >= firstNewID {
			return newIDs[id-firstNewID]
		}
		return id
	}
	survivor := func(id int64) int64 {
		for {
			to, ok := r.mergedTo[id]
			if !ok {
				return id
			}
			id = to
		}
	}
	for _, p := range out {
		if p != nil {
			p.ID = realID(p.ID)
		}
	}

	var relinkFrom, relinkTo, deleted []int64
	for from := range r.mergedTo {
		if from < firstNewID { // a profile created and merged in this call was never written
			relinkFrom, relinkTo = append(relinkFrom, from), append(relinkTo, realID(survivor(from)))
			deleted = append(deleted, from)
		}
	}
	var (
		insIDs, updIDs             []int64
		insSeal, updSeal           [][]byte
		insTrustSeal, updTrustSeal [][]byte
	)
	for id := range r.dirty {
		b, err := json.Marshal(r.profiles[id].Traits)
		if err != nil {
			return fmt.Errorf("profile traits: %w", err)
		}
		sealed, err := r.db.seal(b)
		if err != nil {
			return fmt.Errorf("seal profile traits: %w", err)
		}
		var sealedTrust []byte // NULL: every key browser-set
		if trust := r.profiles[id].TraitTrust; len(trust) > 0 {
			b, err := json.Marshal(trust)
			if err != nil {
				return fmt.Errorf("profile trait trust: %w", err)
			}
			if sealedTrust, err = r.db.seal(b); err != nil {
				return fmt.Errorf("seal profile trait trust: %w", err)
			}
		}
		if id >= firstNewID {
			insIDs, insSeal, insTrustSeal = append(insIDs, realID(id)), append(insSeal, sealed), append(insTrustSeal, sealedTrust)
		} else {
			updIDs, updSeal, updTrustSeal = append(updIDs, id), append(updSeal, sealed), append(updTrustSeal, sealedTrust)
		}
	}
	var linkKeys []string
	var linkIDs []int64
	for k := range r.linked {
		linkKeys, linkIDs = append(linkKeys, k), append(linkIDs, realID(r.keys[k]))
	}

	b := &pgx.Batch{}
	if len(deleted) > 0 {
		b.Queue(`UPDATE profile_keys k SET profile_id = m.to_id FROM unnest($1::bigint[], $2::bigint[]) AS m (from_id, to_id)
			WHERE k.profile_id = m.from_id`, relinkFrom, relinkTo)
		b.Queue(`DELETE FROM profiles WHERE id = ANY($1)`, deleted)
	}
	if len(linkKeys) > 0 {
		b.Queue(`INSERT INTO profile_keys (key, profile_id) SELECT * FROM unnest($1::text[], $2::bigint[])
			ON CONFLICT (key) DO UPDATE SET profile_id = excluded.profile_id`, linkKeys, linkIDs)
	}
	if len(insIDs) > 0 {
		b.Queue(`INSERT INTO profiles (id, traits, trait_trust, updated_at) SELECT u.id, u.traits, u.trust, $4
			FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS u (id, traits, trust)`,
			insIDs, insSeal, insTrustSeal, now)
	}
	if len(updIDs) > 0 {
		b.Queue(`UPDATE profiles p SET traits = u.traits, trait_trust = u.trust, updated_at = $4
			FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS u (id, traits, trust)
			WHERE p.id = u.id`, updIDs, updSeal, updTrustSeal, now)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write profiles: %w", err)
	}
	return nil
}
