package store

import (
	"context"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// ProfileStore keeps visitor profiles. Keys are keyed hashes of the ids a
// visitor was seen with ("u:"+userId, "a:"+anonymousId), never the ids.
type ProfileStore interface {
	// ResolveProfiles applies Items in order, in one transaction: each
	// links its keys to one profile (merging profiles that were apart: the
	// oldest keeps its id; per key the most trusted, then the most recently
	// updated value wins: MergeProfiles), merges its Traits in (new keys
	// win, but never over a key a more trusted source set: MergeTraits) and
	// yields the profile as it then stands.
	// Applying the same items twice leaves the same stored state.
	// Backends merge with the one resolver, store.ResolveProfiles: they
	// load the items' key links and profiles and write back its
	// ProfilePass, a few statements per call whatever its size.
	ResolveProfiles(ctx context.Context, p ResolveProfilesParams) ([]*signal.Profile, error)
	// PrepareProfiles is ResolveProfiles without the write: it reads what
	// the items name (without the writer's lock), merges in memory and
	// returns the pass, Out as ResolveProfiles would return it (profiles
	// created in the pass carry placeholder ids until written). The
	// processor hands the pass to RecordProcessed
	// (RecordProcessedParams.Profiles), which writes it in its own
	// transaction: one commit a pass. The pass remembers how many contacts
	// had been erased when it was read (Erasures), and RecordProcessed
	// writes nothing if that count moved since.
	PrepareProfiles(ctx context.Context, p ResolveProfilesParams) (*ProfilePass, error)
}

type ResolveProfilesParams struct {
	Items []ProfileUpdate
	Now   time.Time
	// Carry (PrepareProfiles only) is the pass before's ProfilePass.Carry:
	// that pass may not be written yet, and this one resolves as if it
	// were. It must be written before this one, and this one dropped if
	// it is not written.
	Carry *ProfileCarry
	// KeepCarry asks for the pass's Carry, for the next pass to resolve
	// over while this one is written.
	KeepCarry bool
}

// ProfileUpdate is one event's identity: its id keys and the traits it
// carries (nil for none), with the trust rank of its source
// (signal.TrustRank of the event's Trust).
type ProfileUpdate struct {
	Keys   []string
	Traits map[string]any
	Trust  int
	// Consent is the marketing consent the event states
	// (signal.ConsentGranted, signal.ConsentDenied), "" when it states
	// none: the profile keeps the last one stated.
	Consent string
	// FillOnly (a backfill's historical line): Traits only fill keys the
	// profile lacks, at the lowest trust (a later live call may correct
	// them), and Consent is not remembered: old data never replaces what
	// live traffic set.
	FillOnly bool
}
