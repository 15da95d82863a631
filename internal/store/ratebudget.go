package store

import (
	"context"
	"time"
)

// RateBudgetStore keeps one vendor API key's rate budget where every node
// sharing the store can spend it: the vendor's count of the requests left
// in its window, less what the nodes took since. Keys are keyed hashes of
// the API key (never the key). Times are kept to the millisecond.
type RateBudgetStore interface {
	// TakeRateBudget takes up to N slots of the key's budget at Now, in one
	// statement: a window that has ended rolls over to the next (a full
	// Limit, its end one Window later, marked Assumed until an answer
	// about it is observed) when the length is known, else the count
	// becomes unknown; then it grants min(N, Remaining), or N while
	// Remaining is unknown (-1), or none while Now is before BlockedUntil.
	// Node (0–62) marks the caller as active in the window. An unknown key
	// starts with an unknown count.
	TakeRateBudget(ctx context.Context, p TakeRateBudgetParams) (*RateBudget, error)
	// GiveBackRateBudget returns N slots taken but not used, if the
	// window they were taken from is still the current one: it ends
	// after Now and before Before. Never above Limit.
	GiveBackRateBudget(ctx context.Context, p GiveBackRateBudgetParams) error
	// ObserveRateBudget records what a vendor's answer said about the key's
	// window, with the rules of one node's limiter: an End half a Window
	// or more past the known one (or any End once the known window is
	// over, unknown, or only assumed) starts a window with the vendor's
	// Remaining (the lower count, when assumed: takes since the roll are
	// not all in the vendor's count yet); an End within half a Window of
	// the known one keeps the lower count and the earlier end; an End
	// before that is stale and ignored. Limit and Window, when set, are
	// kept (the longest Window). BlockUntil, when set, holds every take
	// until then (a 429). A zero End records only those.
	ObserveRateBudget(ctx context.Context, p ObserveRateBudgetParams) (*RateBudget, error)
}

// RateBudget is a key's shared budget as it stands after a call.
type RateBudget struct {
	// Limit is the vendor's requests per window (0: unknown), Window the
	// window's length (0: unknown).
	Limit  int
	Window time.Duration
	// Remaining is what the window ending at WindowEnd has left (-1:
	// unknown).
	Remaining int
	WindowEnd time.Time
	// Assumed: the window was rolled over by a take, not yet confirmed by
	// an answer about it.
	Assumed      bool
	BlockedUntil time.Time
	// Granted is how many slots the take granted.
	Granted int
	// Nodes is how many nodes took from the budget in this window or the
	// one before (at least the caller, after a take).
	Nodes int
}

type TakeRateBudgetParams struct {
	Key  string
	N    int
	Node int
	Now  time.Time
}

type GiveBackRateBudgetParams struct {
	Key    string
	N      int
	Now    time.Time
	Before time.Time
}

type ObserveRateBudgetParams struct {
	Key string
	// Sent is when the answered request started, End when the vendor's
	// window ends (Sent + Reset; zero: not stated), Remaining what it
	// said is left.
	Sent      time.Time
	End       time.Time
	Remaining int
	Limit     int
	Window    time.Duration
	// BlockUntil, when set, holds every take until then (a 429).
	BlockUntil time.Time
	Now        time.Time
}
