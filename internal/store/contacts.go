package store

import (
	"context"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// ContactStore finds and erases everything held about one person (privacy
// requests). Ids are stored only as keyed hashes and values sealed, so the
// caller says how to recognise the person: the hashes of their ids and
// matchers run on opened profiles and events.
type ContactStore interface {
	// FindContact returns the person's profiles and events (events already
	// erased are not theirs any more).
	FindContact(ctx context.Context, p FindContactParams) (*Contact, error)
	// EraseContact deletes the person's profiles and their keys, empties
	// their events (the rows stay, without payload, for Live Events'
	// counts), deletes their search keys, processed events and attempts,
	// drops payloads and vendor responses from their deliveries and ends
	// the pending ones filtered, contact_erased, stamped Now.
	EraseContact(ctx context.Context, p FindContactParams) (EraseResult, error)
}

// FindContactParams says who the person is.
type FindContactParams struct {
	// ProfileKeys are keyed hashes of the person's ids ("u:"+user id,
	// "a:"+anonymous id), as profiles are keyed.
	ProfileKeys []string
	// SearchKeys are keyed hashes the person's events are indexed by
	// ("u:"+user id, "e:"+email, "p:"+phone digits); the profile keys of
	// the person's profiles are looked up in the same index.
	SearchKeys []string
	// MatchProfile, if set, reports whether a profile's traits are the
	// person's (an email or phone, which no key indexes).
	MatchProfile func(traits map[string]any) bool
	// EventKeys returns the profile keys of an event's ids: an event
	// whose keys meet the person's profile keys is theirs.
	EventKeys func(payload []byte) []string
	// MatchEvent, if set, reports whether an event names the person
	// itself (an email or phone in its traits or properties).
	MatchEvent func(payload []byte) bool
	Now        time.Time
}

// Contact is what Signal holds about one person.
type Contact struct {
	Profiles []ContactProfile
	Events   []ContactEvent
}

// ContactProfile is one of the person's profiles.
type ContactProfile struct {
	ID     int64
	Traits map[string]any
}

// ContactEvent is one of the person's events and its deliveries.
type ContactEvent struct {
	Event      signal.Event
	Deliveries []ContactDelivery
}

// ContactDelivery is where one of the person's events went.
type ContactDelivery struct {
	IntegrationID string
	Status        signal.DeliveryStatus
	Reason        signal.Reason
}

// EraseResult counts what an erasure removed.
type EraseResult struct {
	Profiles   int `json:"profiles"`
	Events     int `json:"events"`
	Deliveries int `json:"deliveries"`
}
