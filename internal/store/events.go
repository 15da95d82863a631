package store

import (
	"context"
	"errors"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// EventStore is the durable event log.
type EventStore interface {
	// AppendEvents stores events durably (committed and synced) before it
	// returns; concurrent callers share commits. It sets each event's Seq.
	AppendEvents(ctx context.Context, p AppendEventsParams) error
	// ListEvents returns events with Seq > AfterSeq in Seq order. UserID
	// and AnonymousID are not kept apart from the (sealed) payload: readers
	// take them from Payload.
	ListEvents(ctx context.Context, p ListEventsParams) ([]signal.Event, error)
	// Cursor returns the named consumer position in the log (0 if unset).
	Cursor(ctx context.Context, p CursorParams) (int64, error)
}

type CursorParams struct {
	Name string
}

type AppendEventsParams struct {
	Events []*signal.Event
	// Replay, when set, makes the events commit at most once for its key
	// (a hash of a signed request's signature), atomically with them, on
	// every node sharing the store, until Replay.Expires: a second append
	// with the key stores nothing and returns an error wrapping
	// ErrReplayed.
	Replay *ReplayGuard
}

// ReplayGuard is a signed request's mark (see AppendEventsParams.Replay).
type ReplayGuard struct {
	Key     string
	Expires time.Time
}

// ErrReplayed: the request's events were already stored once.
var ErrReplayed = errors.New("signed request already accepted")

type ListEventsParams struct {
	AfterSeq int64
	Limit    int
	// MaxBytes, if set, ends the list once the payloads read reach it (the
	// event that reaches it included, so at least one event comes back):
	// a page of large events is bounded by bytes as well as by count.
	MaxBytes int
}
