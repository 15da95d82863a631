package store

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// The profile merge, written once for every backend. A backend loads the
// key → profile links of the keys a pass names (ProfileKeys) and the
// profiles they point to, applies the items here in memory, and writes back
// what ProfilePass lists in a constant number of set-based statements, not
// a few per event. So both backends merge with one algorithm and a pass of
// anonymous page views by visitors without traits writes nothing.

// ProfileKeys returns every key items name, each once, in a stable order.
func ProfileKeys(items []ProfileUpdate) []string {
	seen := map[string]bool{}
	var all []string
	for _, it := range items {
		for _, k := range it.Keys {
			if !seen[k] {
				seen[k] = true
				all = append(all, k)
			}
		}
	}
	return all
}

// ProfileMerge is a stored profile merged away: its keys move to To and it is
// deleted.
type ProfileMerge struct{ From, To int64 }

// ProfileLink points a key at a profile.
type ProfileLink struct {
	Key       string
	ProfileID int64
}

// ProfilePass is the outcome of applying a pass's items: Out has one profile
// per item (nil for an item with nothing to remember), and the rest is what
// the backend writes, in this order: Merges (relink the keys of From, delete
// From), Links (upsert), Upserts (insert or replace each profile's traits,
// trust and UpdatedAt). Profiles created in the pass carry placeholder ids
// until Bind gives them the ids the backend drew for them.
type ProfilePass struct {
	Out []*signal.Profile
	// First is the pass's first placeholder id: firstNewID, or past the
	// placeholders of the pass it was resolved over (ProfileCarry).
	First int64
	// Owners has, per item, the id of the profile that holds the item's
	// keys once the pass is applied (Out[i]'s, or the one it was merged
	// into later in the pass); 0 for an item without a profile.
	Owners  []int64
	Created int
	Merges  []ProfileMerge
	Links   []ProfileLink
	Upserts []*signal.Profile
	// Erasures is the ErasureCursor read before the pass's links and
	// profiles (PrepareProfiles): RecordProcessed refuses the pass if it
	// moved, since an erasure may have deleted what the pass writes back.
	Erasures int64
	// Carry is what the next pass resolves over while this one is being
	// written (ResolveProfilesParams.KeepCarry).
	Carry *ProfileCarry

	// own are this pass's placeholders (and, once written, their drawn
	// ids); prior those of the pass it was resolved over (its Carry),
	// which this one may name: that pass is written first, and Bind
	// translates them. Only the ids are kept, not the pass before.
	own, prior *placeholders
}

// placeholders are the ids a pass gave the profiles it created, and, once
// the pass is written, the ids drawn for them.
type placeholders struct {
	first   int64
	created int
	bound   []int64
	written bool
}

// boundID is the id drawn for one of the placeholders; their pass must be
// written.
func (ph *placeholders) boundID(id int64) (int64, error) {
	if id < ph.first || id >= ph.first+int64(ph.created) {
		return 0, fmt.Errorf("profile placeholder %d belongs to no pass written", id)
	}
	if !ph.written {
		return 0, fmt.Errorf("profile placeholder %d: the pass that created it is not written yet", id)
	}
	return ph.bound[id-ph.first], nil
}

// Changed reports whether the pass has anything to write.
func (p *ProfilePass) Changed() bool {
	return p.Created > 0 || len(p.Merges) > 0 || len(p.Links) > 0 || len(p.Upserts) > 0
}

// firstNewID is where placeholder ids start: above every real id, in
// creation order, as the ids drawn for them will be.
const firstNewID = int64(1) << 62

// Bind replaces the placeholder ids of the profiles the pass created with
// ids, drawn by the backend in ascending order (len(ids) == p.Created), and
// those of the pass it was resolved over (written before it) with the ids
// drawn for them. A backend calls it for every pass it writes, even one
// with nothing to write: its events may name the pass before's profiles.
// A pass is bound once, in the transaction that writes it: a pass whose
// write failed is prepared again, never written again.
func (p *ProfilePass) Bind(ids []int64) error {
	if len(ids) != p.Created {
		return fmt.Errorf("bind profiles: %d ids for %d new profiles", len(ids), p.Created)
	}
	if p.own == nil {
		p.own = &placeholders{first: p.First, created: p.Created}
	}
	if p.own.written {
		return errors.New("bind profiles: the pass is bound already")
	}
	var failed error
	real := func(id int64) int64 {
		r, err := p.drawn(id, ids)
		if err != nil && failed == nil {
			failed = err
		}
		return r
	}
	for _, o := range p.Out {
		if o != nil {
			o.ID = real(o.ID)
		}
	}
	for i, id := range p.Owners {
		if id != 0 {
			p.Owners[i] = real(id)
		}
	}
	for i := range p.Merges {
		p.Merges[i].From = real(p.Merges[i].From)
		p.Merges[i].To = real(p.Merges[i].To)
	}
	for i := range p.Links {
		p.Links[i].ProfileID = real(p.Links[i].ProfileID)
	}
	for _, u := range p.Upserts {
		u.ID = real(u.ID)
	}
	if failed != nil {
		return fmt.Errorf("bind profiles: %w", failed)
	}
	// The pass before is needed no more: cutting the link keeps a chain of
	// passes from holding every pass since the processor started.
	p.own.bound, p.own.written, p.prior = ids, true, nil
	return nil
}

// drawn is the stored id of id: itself for a stored profile, the drawn one
// for a placeholder of this pass (own, being bound) or of the pass before.
func (p *ProfilePass) drawn(id int64, own []int64) (int64, error) {
	switch {
	case id < firstNewID:
		return id, nil
	case id >= p.First && id < p.First+int64(p.Created):
		return own[id-p.First], nil
	case p.prior != nil:
		return p.prior.boundID(id)
	}
	return 0, fmt.Errorf("profile placeholder %d is not this pass's", id)
}

// ResolveProfiles applies p.Items in order (ProfileStore.ResolveProfiles)
// over keys, the stored links of the keys they name, and profiles, the
// stored profiles those links point to, and over p.Carry if set. It takes
// ownership of keys and profiles.
func ResolveProfiles(keys map[string]int64, profiles map[int64]*signal.Profile, p ResolveProfilesParams) (*ProfilePass, error) {
	first := firstNewID
	var prior *placeholders
	if c := p.Carry; c != nil {
		if err := c.apply(keys, profiles, ProfileKeys(p.Items)); err != nil {
			return nil, err
		}
		first, prior = c.pass.First+int64(c.pass.Created), c.pass.own
		// Applied once: the pass before's prior is needed no more, and
		// keeping it would chain every pass since the start through their
		// carries.
		c.prior = nil
	}
	for k, id := range keys {
		if profiles[id] == nil {
			return nil, fmt.Errorf("key %s links to missing profile %d", k, id)
		}
	}
	r := &resolver{keys: keys, profiles: profiles, first: first, mergedTo: map[int64]int64{}, dirty: map[int64]bool{}, linked: map[string]bool{}}
	out := make([]*signal.Profile, len(p.Items))
	for i, it := range p.Items {
		out[i] = snapshot(r.apply(it, p.Now))
	}
	pass := r.pass(out)
	pass.First, pass.own, pass.prior = first, &placeholders{first: first, created: pass.Created}, prior
	if p.KeepCarry {
		var err error
		if pass.Carry, err = r.carry(pass); err != nil {
			return nil, err
		}
	}
	return pass, nil
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

// resolver holds the profiles and key links a pass touches.
type resolver struct {
	keys     map[string]int64 // every key the items name → its profile
	profiles map[int64]*signal.Profile
	first    int64 // the first placeholder id for profiles created
	created  int
	mergedTo map[int64]int64 // profile merged away → the one that absorbed it
	dirty    map[int64]bool  // profiles whose traits or trust changed
	linked   map[string]bool // keys whose link changed
}

// apply links one item's keys to one profile and merges its traits in.
func (r *resolver) apply(it ProfileUpdate, now time.Time) *signal.Profile {
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
	if len(ids) == 0 && len(it.Traits) == 0 && len(it.Keys) == 1 && it.Consent == "" {
		return nil // an unknown visitor with nothing to remember
	}

	var (
		target  *signal.Profile
		changed bool
	)
	if len(ids) == 0 {
		target = &signal.Profile{ID: r.first + int64(r.created), Traits: map[string]any{}}
		r.created++
		r.profiles[target.ID] = target
		changed = true
	} else {
		profiles := make([]*signal.Profile, len(ids))
		for i, id := range ids {
			profiles[i] = r.profiles[id]
		}
		// The oldest profile (lowest id) absorbs the others; per key the
		// most trusted, then the most recently updated value wins, the
		// target's own included.
		target = profiles[0]
		others := profiles[1:]
		if len(others) > 0 {
			byUpdate := append([]*signal.Profile(nil), profiles...)
			sort.SliceStable(byUpdate, func(i, j int) bool { return byUpdate[i].UpdatedAt.Before(byUpdate[j].UpdatedAt) })
			target.Traits, target.TraitTrust = MergeProfiles(byUpdate)
			// The consent stated last, whichever profile heard it.
			for _, p := range byUpdate {
				if p.Consent != "" {
					target.Consent = p.Consent
				}
			}
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
	traits, trust := it.Traits, it.Trust
	if it.FillOnly {
		traits, trust = missingTraits(target.Traits, it.Traits), 0
	}
	if MergeTraits(target, traits, trust) {
		changed = true
	}
	if it.Consent != "" && !it.FillOnly && it.Consent != target.Consent {
		target.Consent = it.Consent
		changed = true
	}
	if changed {
		r.dirty[target.ID] = true
		target.UpdatedAt = now.UTC().Truncate(time.Millisecond)
	}
	return target
}

// pass lists the writes, each in a stable order (sorted by id or key) so
// that concurrent passes on several nodes take row locks alike.
func (r *resolver) pass(out []*signal.Profile) *ProfilePass {
	p := &ProfilePass{Out: out, Owners: make([]int64, len(out)), Created: r.created}
	survivor := func(id int64) int64 {
		for {
			to, ok := r.mergedTo[id]
			if !ok {
				return id
			}
			id = to
		}
	}
	for i, o := range out {
		if o != nil {
			p.Owners[i] = survivor(o.ID)
		}
	}
	for from := range r.mergedTo {
		if from < r.first { // a profile created and merged in this pass was never written
			p.Merges = append(p.Merges, ProfileMerge{From: from, To: survivor(from)})
		}
	}
	slices.SortFunc(p.Merges, func(a, b ProfileMerge) int { return cmp.Compare(a.From, b.From) })
	for k := range r.linked {
		p.Links = append(p.Links, ProfileLink{Key: k, ProfileID: r.keys[k]})
	}
	slices.SortFunc(p.Links, func(a, b ProfileLink) int { return strings.Compare(a.Key, b.Key) })
	for id := range r.dirty {
		p.Upserts = append(p.Upserts, r.profiles[id])
	}
	slices.SortFunc(p.Upserts, func(a, b *signal.Profile) int { return cmp.Compare(a.ID, b.ID) })
	return p
}

// consentTrait is the key the profile's remembered consent is sealed under,
// inside the traits' JSON: sealed like them, in every backend, with no
// column of its own. SealProfile drops a visitor's own trait of that name.
const consentTrait = "$signal_consent"

// SealProfile encodes a profile's traits (and its remembered consent) and
// trait trust for storage with seal; trust is nil (NULL) when every key was
// browser-set.
func SealProfile(p *signal.Profile, seal func([]byte) ([]byte, error)) (traits, trust []byte, err error) {
	stored := p.Traits
	if _, clash := stored[consentTrait]; clash || p.Consent != "" {
		stored = maps.Clone(p.Traits)
		if stored == nil {
			stored = map[string]any{}
		}
		delete(stored, consentTrait)
		if p.Consent != "" {
			stored[consentTrait] = p.Consent
		}
	}
	b, err := json.Marshal(stored)
	if err != nil {
		return nil, nil, fmt.Errorf("profile %d traits: %w", p.ID, err)
	}
	if traits, err = seal(b); err != nil {
		return nil, nil, fmt.Errorf("seal profile %d traits: %w", p.ID, err)
	}
	if len(p.TraitTrust) == 0 {
		return traits, nil, nil
	}
	if b, err = json.Marshal(p.TraitTrust); err != nil {
		return nil, nil, fmt.Errorf("profile %d trait trust: %w", p.ID, err)
	}
	if trust, err = seal(b); err != nil {
		return nil, nil, fmt.Errorf("seal profile %d trait trust: %w", p.ID, err)
	}
	return traits, trust, nil
}

// OpenProfile decodes a stored profile with open (SealProfile's inverse).
func OpenProfile(id int64, traits, trust []byte, updatedAt time.Time, open func([]byte) ([]byte, error)) (*signal.Profile, error) {
	p := &signal.Profile{ID: id, Traits: map[string]any{}, UpdatedAt: updatedAt}
	if len(traits) > 0 {
		b, err := open(traits)
		if err != nil {
			return nil, fmt.Errorf("open profile %d: %w", id, err)
		}
		if err := json.Unmarshal(b, &p.Traits); err != nil {
			return nil, fmt.Errorf("profile %d: %w", id, err)
		}
		if c, ok := p.Traits[consentTrait].(string); ok {
			p.Consent = c
		}
		delete(p.Traits, consentTrait)
	}
	if len(trust) > 0 {
		b, err := open(trust)
		if err != nil {
			return nil, fmt.Errorf("open profile %d trait trust: %w", id, err)
		}
		if err := json.Unmarshal(b, &p.TraitTrust); err != nil {
			return nil, fmt.Errorf("profile %d trait trust: %w", id, err)
		}
	}
	return p, nil
}

// ReadOnlyProfiles reports whether applying items can change at most a
// remembered consent: each names at most one key and brings no traits (an
// anonymous page view). A backend then loads without taking its write lock
// and returns at once unless the pass Changed (a consent stated for the
// first time, or changed: rare, since Datafly.js states the same one on
// every event); only then does it resolve again, from a fresh read under
// the lock, and write.
func ReadOnlyProfiles(items []ProfileUpdate) bool {
	for _, it := range items {
		if len(it.Keys) > 1 || len(it.Traits) > 0 {
			return false
		}
	}
	return true
}

// missingTraits are the traits whose keys have no value in have.
func missingTraits(have, traits map[string]any) map[string]any {
	out := make(map[string]any, len(traits))
	for k, v := range traits {
		if _, ok := have[k]; !ok {
			out[k] = v
		}
	}
	return out
}
