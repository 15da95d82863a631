package store

import (
	"context"
	"fmt"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// DeliveryStore keeps deliveries: the per-integration queue and Live Events.
type DeliveryStore interface {
	// RecordProcessed stores the outcome of processing events up to
	// UpToSeq and moves the processor cursor there, atomically. A delivery
	// whose (integration, pipeline, signed-or-not, message id) was already
	// recorded in the last DedupeWindow is stored as filtered, reason
	// duplicate (message ids are the sender's and the pipeline key is
	// public: an unsigned event never suppresses a signed one); a pending
	// delivery of an integration deleted meanwhile, as filtered,
	// integration_deleted.
	RecordProcessed(ctx context.Context, p RecordProcessedParams) error
	// ClaimDeliveries returns up to Limit pending deliveries of one
	// integration that are due, highest priority first, oldest first, and
	// leases them until LeaseUntil. A delivery waits while its contact has
	// an earlier pending delivery of the same or a higher priority: one
	// contact's events keep their order, except that a higher-priority
	// event (an order) does not wait behind the contact's page views.
	// Deliveries of a backfill (Delivery.BackfillID) are neither claimed
	// nor waited behind: the backfill sender claims them
	// (BackfillStore.ClaimBackfillDeliveries).
	ClaimDeliveries(ctx context.Context, p ClaimDeliveriesParams) ([]*signal.Delivery, error)
	// FinishDeliveries writes the outcome of attempts.
	FinishDeliveries(ctx context.Context, p FinishDeliveriesParams) error
	// NextDue returns when the integration's earliest pending live
	// delivery is due (false when it has none); backfill rows do not count.
	NextDue(ctx context.Context, p NextDueParams) (time.Time, bool, error)
	// RequeueDeliveries sets the deliveries of an integration in Status
	// (failed) whose event was received at or after Since back to pending,
	// with a fresh retry window (replay), as live deliveries (a backfill's
	// mark is cleared: its backfill may be over). It returns how many.
	RequeueDeliveries(ctx context.Context, p RequeueDeliveriesParams) (int, error)
	// ReplayableDeliveries returns up to Limit deliveries of an integration
	// in Status whose reason is one of Reasons (any, when empty), with id
	// above AfterID, in id order; or, with DeliveryID set, that one delivery
	// whatever its state. Each comes with its event and processed body
	// (nil if none): what a replay rebuilds through the current blueprint.
	ReplayableDeliveries(ctx context.Context, p ReplayableParams) ([]Replayable, error)
	// ReplaceDeliveries writes rebuilt deliveries over their rows (by ID):
	// Status, Reason, Note, VendorEventName, Priority, ContactKey, Payload
	// and ExpiresAt as given, attempts reset, due Now, as live deliveries
	// (a backfill's mark cleared, as for RequeueDeliveries). A row no longer in
	// the status and reason it was read with (p.Was, by ID) is left alone,
	// so a replay racing a worker or a second replay sends nothing twice.
	// It returns how many rows it replaced.
	ReplaceDeliveries(ctx context.Context, p ReplaceDeliveriesParams) (int, error)
	// ListLiveEvents lists events and their deliveries, newest first.
	ListLiveEvents(ctx context.Context, p ListLiveEventsParams) ([]*signal.LiveEvent, string, error)
	// CountLiveEvents counts the Live Events rows matching the filters by
	// the status they show (Status and Cursor are ignored): with Limit,
	// only the first Limit rows of the list, newest first, saying whether
	// more match (LiveCounts.Limited).
	CountLiveEvents(ctx context.Context, p ListLiveEventsParams) (LiveCounts, error)
	// GetLiveEvent returns one Live Events row with its processed event and
	// its delivery's last attempts, oldest first. Unknown: ENOTFOUND.
	GetLiveEvent(ctx context.Context, p GetLiveEventParams) (*signal.LiveEventDetail, error)
	// IntegrationHealth summarises an integration's recent outcomes and
	// backlog as of Now.
	IntegrationHealth(ctx context.Context, p IntegrationHealthParams) (*IntegrationHealth, error)
	// IntegrationBacklog is IntegrationHealth's backlog alone, without
	// reading the day's outcomes.
	IntegrationBacklog(ctx context.Context, p IntegrationBacklogParams) (*IntegrationBacklog, error)
	// ReleaseLeases makes every leased delivery claimable again (at start-up
	// of a single node, after a crash).
	ReleaseLeases(ctx context.Context) error
	// Prune deletes what is no longer needed: dedupe entries created
	// before DedupeBefore, and up to Limit of the events received before
	// Before that the processor has passed, wherever they lie in the log,
	// with their deliveries. Their deliveries still waiting (a paused or
	// disabled integration's included) end filtered, reason expired, first,
	// so that a worker's late outcome cannot bring them back. It returns
	// how many events it deleted and deliveries it expired; callers repeat
	// until fewer than Limit events were deleted.
	Prune(ctx context.Context, p PruneParams) (PruneResult, error)
}

type RecordProcessedParams struct {
	// FromSeq, when set, is the cursor the events were read at: if another
	// processor has moved it since, nothing is written and the error is
	// ECONFLICT. Several nodes may then run processors safely.
	FromSeq    *int64
	UpToSeq    int64
	Deliveries []*signal.Delivery
	// SearchKeys are the keyed hashes Live Events finds the events by.
	SearchKeys []SearchKey
	// Processed are the events after identity and consent (stored sealed).
	Processed []ProcessedEvent
	// Profiles, when set, is the events' profile pass (PrepareProfiles),
	// written in this transaction after the cursor moved: a processor
	// that lost the race writes none of it. If a contact was erased since
	// the pass was read (its Erasures), nothing is written and the error
	// is ECONFLICT: the processor reads the batch again. The pass's
	// created profiles get their ids here.
	Profiles     *ProfilePass
	DedupeWindow time.Duration
	Now          time.Time
}

// SearchKey links a keyed hash of an id ("u:"+user id, "e:"+email, "o:"+
// order id) to an event.
type SearchKey struct {
	EventSeq int64
	Key      string
}

// ProcessedEvent is the JSON of a signal.Processed for one event.
type ProcessedEvent struct {
	EventSeq int64
	Body     []byte
	// ProfileItem is 1 + the index of the event's item in the pass's
	// Profiles; 0 when the event has no profile. The store records the
	// profile that holds the event's ids at the end of the pass
	// (Profiles.Owners) with the processed event: privacy requests find a
	// person's events through it, so the processor need not index an
	// event by its anonymous id (a random insert in a large index per
	// event, 30% of the processor's cost when it did).
	ProfileItem int
}

// ProcessedProfileIDs returns, for each of p.Processed, the id of the
// profile recorded with it (0: none). Call it after the pass's ids are
// bound (RecordProcessed writes the profiles first).
func ProcessedProfileIDs(p RecordProcessedParams) ([]int64, error) {
	ids := make([]int64, len(p.Processed))
	for i, pe := range p.Processed {
		if pe.ProfileItem == 0 {
			continue
		}
		if p.Profiles == nil || pe.ProfileItem < 0 || pe.ProfileItem > len(p.Profiles.Owners) {
			return nil, fmt.Errorf("processed event %d names profile item %d of a pass of %d", pe.EventSeq, pe.ProfileItem, ownersLen(p.Profiles))
		}
		ids[i] = p.Profiles.Owners[pe.ProfileItem-1]
	}
	return ids, nil
}

func ownersLen(p *ProfilePass) int {
	if p == nil {
		return 0
	}
	return len(p.Owners)
}

// MaxAttemptsKept is how many attempts a delivery keeps (the last ones).
const MaxAttemptsKept = 20

type ClaimDeliveriesParams struct {
	IntegrationID string
	Limit         int
	Now           time.Time
	LeaseUntil    time.Time
}

// FinishDeliveriesParams carries finished attempts. Each delivery's Status,
// Reason, Note, Attempts, NextAttemptAt, VendorStatus, VendorResponse and
// Payload are written as given, and its lease released, if it is still
// pending under the lease its claim took (LeaseUntil): a delivery filtered
// meanwhile (its integration deleted) or claimed again after the lease ran
// out (by another node) is left as it is.
type FinishDeliveriesParams struct {
	Deliveries []*signal.Delivery
	Now        time.Time
}

type NextDueParams struct {
	IntegrationID string
}

type RequeueDeliveriesParams struct {
	IntegrationID string
	Status        signal.DeliveryStatus
	Since         time.Time
	Now           time.Time
}

type ReplayableParams struct {
	IntegrationID string
	Status        signal.DeliveryStatus
	Reasons       []signal.Reason
	// Since keeps events received at or after it (zero: all).
	Since   time.Time
	AfterID int64
	Limit   int
	// DeliveryID, when set, selects that delivery alone (the other
	// filters are ignored). Unknown: an empty result.
	DeliveryID int64
}

// Replayable is a delivery with what rebuilding it needs.
type Replayable struct {
	Delivery  *signal.Delivery
	Event     signal.Event
	Processed []byte
}

type ReplaceDeliveriesParams struct {
	Deliveries []*signal.Delivery
	// Was is each delivery's status and reason when it was read, by ID.
	Was map[int64]DeliveryState
	Now time.Time
}

// DeliveryState is a delivery's status and reason.
type DeliveryState struct {
	Status signal.DeliveryStatus
	Reason signal.Reason
}

type PruneParams struct {
	Before       time.Time
	DedupeBefore time.Time
	Limit        int
	// Now stamps the deliveries it expires (zero: the wall clock).
	Now time.Time
}

// PruneResult says what one Prune call did.
type PruneResult struct {
	// Events is how many events were deleted (at most Limit).
	Events int
	// Expired is how many of their deliveries were still waiting (a paused
	// or disabled integration's, or one retrying) and ended filtered,
	// expired.
	Expired int
}
