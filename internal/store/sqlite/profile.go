package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// ResolveProfiles links ids and merges traits, item by item, in one
// transaction; it writes only when an item changes something.
func (db *DB) ResolveProfiles(ctx context.Context, p store.ResolveProfilesParams) ([]*signal.Profile, error) {
	out := make([]*signal.Profile, len(p.Items))
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		cache := map[int64]*signal.Profile{}
		for i, it := range p.Items {
			prof, err := db.resolveOne(ctx, tx, cache, it, ms(p.Now))
			if err != nil {
				return err
			}
			out[i] = snapshot(prof)
		}
		return nil
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

func (db *DB) resolveOne(ctx context.Context, tx *sql.Tx, cache map[int64]*signal.Profile, it store.ProfileUpdate, now int64) (*signal.Profile, error) {
	if len(it.Keys) == 0 {
		return nil, nil
	}
	linked := map[string]int64{}
	q := `SELECT key, profile_id FROM profile_keys WHERE key IN (?` + strings.Repeat(",?", len(it.Keys)-1) + `)`
	args := make([]any, len(it.Keys))
	for i, k := range it.Keys {
		args[i] = k
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var (
			k  string
			id int64
		)
		if err := rows.Scan(&k, &id); err != nil {
			rows.Close()
			return nil, err
		}
		linked[k] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var ids []int64
	seen := map[int64]bool{}
	for _, id := range linked {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if len(ids) == 0 && len(it.Traits) == 0 && len(it.Keys) == 1 {
		return nil, nil // an unknown visitor with nothing to remember
	}

	var (
		target  *signal.Profile
		changed bool
	)
	if len(ids) == 0 {
		res, err := tx.ExecContext(ctx, `INSERT INTO profiles (traits, updated_at) VALUES (?, ?)`, []byte{}, now)
		if err != nil {
			return nil, err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return nil, err
		}
		target = &signal.Profile{ID: id, Traits: map[string]any{}}
		cache[id] = target
		changed = true
	} else {
		profiles := make([]*signal.Profile, len(ids))
		for i, id := range ids {
			if profiles[i], err = db.loadProfile(ctx, tx, cache, id); err != nil {
				return nil, err
			}
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
			if _, err := tx.ExecContext(ctx, `UPDATE profile_keys SET profile_id = ? WHERE profile_id = ?`, target.ID, o.ID); err != nil {
				return nil, err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM profiles WHERE id = ?`, o.ID); err != nil {
				return nil, err
			}
			delete(cache, o.ID)
			changed = true
		}
	}
	for _, k := range it.Keys {
		if id, ok := linked[k]; ok && id == target.ID {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO profile_keys (key, profile_id) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET profile_id = excluded.profile_id`, k, target.ID); err != nil {
			return nil, err
		}
	}
	if store.MergeTraits(target, it.Traits, it.Trust) {
		changed = true
	}
	if changed {
		b, err := json.Marshal(target.Traits)
		if err != nil {
			return nil, err
		}
		sealed, err := db.seal(b)
		if err != nil {
			return nil, err
		}
		sealedTrust, err := db.sealTrust(target.TraitTrust)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE profiles SET traits = ?, trait_trust = ?, updated_at = ? WHERE id = ?`, sealed, sealedTrust, now, target.ID); err != nil {
			return nil, err
		}
		target.UpdatedAt = fromMS(now)
	}
	return target, nil
}

func (db *DB) loadProfile(ctx context.Context, tx *sql.Tx, cache map[int64]*signal.Profile, id int64) (*signal.Profile, error) {
	if p, ok := cache[id]; ok {
		return p, nil
	}
	var (
		sealed, sealedTrust []byte
		updated             int64
	)
	if err := tx.QueryRowContext(ctx, `SELECT traits, trait_trust, updated_at FROM profiles WHERE id = ?`, id).Scan(&sealed, &sealedTrust, &updated); err != nil {
		return nil, fmt.Errorf("load profile %d: %w", id, err)
	}
	p := &signal.Profile{ID: id, Traits: map[string]any{}, UpdatedAt: fromMS(updated)}
	if len(sealed) > 0 {
		b, err := db.open(sealed)
		if err != nil {
			return nil, fmt.Errorf("open profile %d: %w", id, err)
		}
		if err := json.Unmarshal(b, &p.Traits); err != nil {
			return nil, fmt.Errorf("profile %d: %w", id, err)
		}
	}
	if len(sealedTrust) > 0 {
		b, err := db.open(sealedTrust)
		if err != nil {
			return nil, fmt.Errorf("open profile %d trait trust: %w", id, err)
		}
		if err := json.Unmarshal(b, &p.TraitTrust); err != nil {
			return nil, fmt.Errorf("profile %d trait trust: %w", id, err)
		}
	}
	cache[id] = p
	return p, nil
}

// sealTrust seals a profile's trait trust; nil when it has none.
func (db *DB) sealTrust(trust map[string]int) ([]byte, error) {
	if len(trust) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(trust)
	if err != nil {
		return nil, err
	}
	return db.seal(b)
}
