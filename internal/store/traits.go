package store

import (
	"encoding/json"
	"sort"

	"github.com/signalhq/signal/internal/signal"
)

// Bounds on what outside input can make a profile hold (identify calls and
// context.traits come with the public pipeline key): at most
// MaxProfileTraits keys of at most MaxTraitKeyLen bytes, values of at most
// MaxTraitValueBytes as JSON, and MaxProfileBytes of traits as JSON in all.
// A trait past a bound is left out of the profile (the event keeps it); a
// replacement that would pass MaxProfileBytes leaves the old value. A merge
// of two profiles may hold up to twice the bounds until traits change. So a
// processor batch of 500 events holds at most 500 × 64 KB of profiles.
const (
	MaxProfileTraits   = 200
	MaxTraitKeyLen     = 128
	MaxTraitValueBytes = 1024
	MaxProfileBytes    = 32 << 10
)

// MergeTraits applies one item's traits, sent with trust (a
// signal.TrustRank), to p: new keys win, except that a key last set by a
// more trusted source keeps its value (a browser call never overwrites what
// a signed or Segment-server source set; a server call never overwrites what
// a signed one set). p.TraitTrust remembers, per key, the trust that set it
// when above 0. Keys are applied in sorted order, so that the bounds pick
// the same keys in every backend. It reports whether p changed.
func MergeTraits(p *signal.Profile, traits map[string]any, trust int) bool {
	keys := make([]string, 0, len(traits))
	for k := range traits {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	changed := false
	size := -1 // JSON size of p.Traits, measured when first needed
	for _, k := range keys {
		if trust < p.TraitTrust[k] {
			continue
		}
		v := traits[k]
		nb, err := json.Marshal(v)
		if err != nil || len(nb) > MaxTraitValueBytes {
			continue
		}
		old, had := p.Traits[k]
		var ob []byte
		if had {
			ob, _ = json.Marshal(old)
		} else if len(p.Traits) >= MaxProfileTraits || len(k) > MaxTraitKeyLen {
			continue
		}
		grow := len(nb) - len(ob)
		if !had {
			grow += len(k) + 4 // "k":v,
		}
		if grow > 0 {
			if size < 0 {
				size = jsonSize(p.Traits)
			}
			if size+grow > MaxProfileBytes {
				continue
			}
		}
		if !had || string(ob) != string(nb) {
			p.Traits[k] = v
			changed = true
			if size >= 0 {
				size += grow
			}
		}
		if trust > p.TraitTrust[k] {
			if p.TraitTrust == nil {
				p.TraitTrust = map[string]int{}
			}
			p.TraitTrust[k] = trust
			changed = true
		}
	}
	return changed
}

func jsonSize(m map[string]any) int {
	b, err := json.Marshal(m)
	if err != nil {
		return MaxProfileBytes // unmeasurable: take no more
	}
	return len(b)
}

// MergeProfiles returns the traits and trust of profiles merged into one,
// byUpdate ordered oldest update first: per key, the most trusted value
// wins, and among equally trusted ones the most recently updated.
func MergeProfiles(byUpdate []*signal.Profile) (map[string]any, map[string]int) {
	traits, trust := map[string]any{}, map[string]int{}
	for _, p := range byUpdate {
		for k, v := range p.Traits {
			r := p.TraitTrust[k]
			if _, seen := traits[k]; seen && r < trust[k] {
				continue
			}
			traits[k] = v
			if r > 0 {
				trust[k] = r
			} else {
				delete(trust, k)
			}
		}
	}
	return traits, trust
}
