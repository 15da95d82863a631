package store

import (
	"encoding/json"
	"sort"

	"github.com/signalhq/signal/internal/signal"
)

// Bounds on what outside input can make a profile hold (identify calls and
// context.traits come with the public pipeline key): at most
// MaxProfileTraits keys (a merge of two full profiles may hold up to twice
// that until keys are replaced), keys of at most MaxTraitKeyLen bytes,
// values of at most MaxTraitValueBytes as JSON. A trait past a bound is
// left out of the profile (the event keeps it). Worst case about 230 KB of
// traits per profile.
const (
	MaxProfileTraits   = 200
	MaxTraitKeyLen     = 128
	MaxTraitValueBytes = 1024
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
		if !had && (len(p.Traits) >= MaxProfileTraits || len(k) > MaxTraitKeyLen) {
			continue
		}
		if !had || !sameJSON(old, nb) {
			p.Traits[k] = v
			changed = true
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

func sameJSON(old any, nb []byte) bool {
	ob, err := json.Marshal(old)
	return err == nil && string(ob) == string(nb)
}
