package store

import (
	"fmt"
	"maps"

	"github.com/signalhq/signal/internal/signal"
)

// ProfileCarry lets the processor resolve a pass while the pass before is
// still being written: it holds that pass's outcome for every key and
// profile it touched, so the next pass's loaded state, read before or after
// that write commits, is made what the write leaves.
//
// It is a copy: the pass before's own profiles are bound and sealed by its
// write meanwhile, and the next pass merges into its own.
type ProfileCarry struct {
	pass     *ProfilePass              // the pass it comes from (ProfilePass.Carry)
	prior    *placeholders             // that pass's prior's: written before the carry is applied
	keys     map[string]int64          // every key the pass touched → its profile after the pass
	profiles map[int64]*signal.Profile // every profile those keys name, as the pass leaves it
	mergedTo map[int64]int64           // stored profiles the pass merged away → their survivor
}

// ErasuresOr is the erasure count a pass resolved over c must be recorded
// with: read, the count its backend read before loading, unless c is set;
// then c's pass's, read before that pass's load, whose outcome c carries.
// An erasure committed since then refuses the pass, so a carried profile
// of a contact erased meanwhile is never written back.
func (c *ProfileCarry) ErasuresOr(read int64) int64 {
	if c == nil {
		return read
	}
	return c.pass.Erasures
}

// carry copies what the resolver holds after its pass, each profile as
// the next pass would read it back once written (SealProfile, then
// OpenProfile): numbers as the JSON decoder gives them, and a visitor's own
// trait named like the remembered consent dropped. A carried pass then
// merges exactly what a pass reading the store would.
func (r *resolver) carry(pass *ProfilePass) (*ProfileCarry, error) {
	c := &ProfileCarry{pass: pass, prior: pass.prior, keys: maps.Clone(r.keys), mergedTo: maps.Clone(r.mergedTo),
		profiles: make(map[int64]*signal.Profile, len(r.profiles))}
	same := func(b []byte) ([]byte, error) { return b, nil }
	for id, p := range r.profiles {
		traits, trust, err := SealProfile(p, same)
		if err != nil {
			return nil, fmt.Errorf("carry profile: %w", err)
		}
		q, err := OpenProfile(id, traits, trust, p.UpdatedAt, same)
		if err != nil {
			return nil, fmt.Errorf("carry profile: %w", err)
		}
		c.profiles[id] = q
	}
	return c, nil
}

// apply makes keys and profiles, loaded for the keys named (each absent
// from keys if not stored), what they are once the carry's pass is
// written. A load after that write already shows it; one before shows
// links to profiles it merged away and profiles as they were before it.
// Placeholders of the carry's own prior pass, written by now, become the
// ids drawn for them; the carry's pass's own stay placeholders, which the
// next pass's Bind translates.
func (c *ProfileCarry) apply(keys map[string]int64, profiles map[int64]*signal.Profile, named []string) error {
	id := func(id int64) (int64, error) {
		if id < firstNewID || id >= c.pass.First {
			return id, nil
		}
		if c.prior == nil {
			return 0, fmt.Errorf("carried profile placeholder %d belongs to no pass", id)
		}
		return c.prior.boundID(id)
	}
	// A stored key names a profile by the id drawn for it, where the
	// carry's merges may name it by its placeholder.
	mergedTo := make(map[int64]int64, len(c.mergedTo))
	for from, to := range c.mergedTo {
		realFrom, err := id(from)
		if err != nil {
			return err
		}
		if mergedTo[realFrom], err = id(to); err != nil {
			return err
		}
	}
	for _, k := range named {
		if to, ok := c.keys[k]; ok {
			real, err := id(to)
			if err != nil {
				return err
			}
			keys[k] = real
			continue
		}
		if from, ok := keys[k]; ok {
			to := from
			for {
				next, ok := mergedTo[to]
				if !ok {
					break
				}
				to = next
			}
			keys[k] = to
		}
	}
	carried := make(map[int64]*signal.Profile, len(c.profiles))
	for from, p := range c.profiles {
		real, err := id(from)
		if err != nil {
			return err
		}
		carried[real] = p
	}
	for _, k := range named {
		to, ok := keys[k]
		if !ok {
			continue
		}
		if p, ok := carried[to]; ok {
			q := snapshot(p)
			q.ID = to
			profiles[to] = q
		}
	}
	return nil
}
