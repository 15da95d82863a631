package store

import (
	"context"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// BackfillStore keeps backfills: historical events sent to one integration
// through the vendor's batch endpoint, durably enough that a backfill that
// got a 202 finishes after a restart (kill -9 included) and the items of a
// batch the vendor acknowledged are never sent again.
//
// A backfill's lines are stored with it (CreateBackfill), then fed in line
// order into the event log under the backfill's id as their pipeline id,
// so the processor builds them like live events (identity, consent,
// blueprint) into deliveries marked with the backfill (Delivery.BackfillID),
// which the live claim skips. The backfill sender claims them
// (ClaimBackfillDeliveries), records each batch the vendor acknowledged
// with its deliveries (RecordBatch) before polling it, and finishes them
// through DeliveryStore.FinishDeliveries.
type BackfillStore interface {
	// CreateBackfill stores a backfill and its accepted items at once.
	CreateBackfill(ctx context.Context, p CreateBackfillParams) error
	// GetBackfill returns a backfill with its counts. Unknown (or of
	// another integration, when IntegrationID is set): ENOTFOUND.
	GetBackfill(ctx context.Context, p GetBackfillParams) (*Backfill, error)
	// ListBackfills lists an integration's backfills, newest first, at
	// most Limit after After, with their counts.
	ListBackfills(ctx context.Context, p ListBackfillsParams) ([]*Backfill, error)
	// RunningBackfills lists the backfills not finished, oldest first (to
	// resume them at start-up), with their counts.
	RunningBackfills(ctx context.Context) ([]*Backfill, error)
	// LeaseBackfill makes Holder the backfill's only runner until Until,
	// if it is running and unleased at Now (or already Holder's). It
	// reports whether Holder holds it. ReleaseLeases frees every lease.
	LeaseBackfill(ctx context.Context, p LeaseBackfillParams) (bool, error)
	// BackfillItems returns up to Limit items of a backfill after the
	// first Offset, in line order.
	BackfillItems(ctx context.Context, p BackfillItemsParams) ([]BackfillItem, error)
	// BackfillQueued counts a backfill's pending deliveries in no batch
	// (cheap: the sender asks at every step, where GetBackfill's counts
	// grow with the backfill).
	BackfillQueued(ctx context.Context, p BackfillQueuedParams) (int, error)
	// ClaimBackfillDeliveries leases up to Limit pending deliveries of a
	// backfill that are due and in no batch, oldest first.
	ClaimBackfillDeliveries(ctx context.Context, p ClaimBackfillParams) ([]*signal.Delivery, error)
	// RecordBatch stores a batch the vendor acknowledged and puts its
	// deliveries in it (their leases released), atomically: from then on
	// they are only polled. A delivery no longer held under the lease its
	// claim took is an ECONFLICT, and nothing is written.
	RecordBatch(ctx context.Context, p RecordBatchParams) error
	// OpenBatches lists a backfill's batches whose results are not in yet,
	// oldest first, with when each was recorded (the start of its wait
	// for results, across restarts).
	OpenBatches(ctx context.Context, p OpenBatchesParams) ([]OpenBatch, error)
	// BatchDeliveries returns the deliveries a batch holds (any status).
	BatchDeliveries(ctx context.Context, p BatchDeliveriesParams) ([]*signal.Delivery, error)
	// CloseBatch marks a batch's results in (after its deliveries were
	// finished).
	CloseBatch(ctx context.Context, p CloseBatchParams) error
	// FinishBackfill ends a running backfill Status (done or failed).
	FinishBackfill(ctx context.Context, p FinishBackfillParams) error
}

// Backfill statuses.
const (
	BackfillRunning = "running"
	BackfillDone    = "done"
	BackfillFailed  = "failed"
)

// Backfill is one backfill and its progress.
type Backfill struct {
	ID            string
	IntegrationID string
	Status        string
	Accepted      int
	Delivered     int
	// Failed counts the items that ended without reaching the vendor's
	// account: refused by the vendor, or filtered by Signal's rules
	// (Filtered of them: consent, blueprint, no identifier, duplicate).
	Failed   int
	Filtered int
	// Pending is Accepted less Delivered and Failed: not yet processed,
	// waiting to be sent, or awaiting the vendor's result (an item a
	// replay sent live counts here until its live send ends).
	Pending int
	// Built counts the deliveries built from the backfill's lines (one a
	// line, kept when a replay sends one live); Held those still pending
	// in the backfill's own queue or batches (not those a replay took).
	// The backfill is over when every line is logged and built and none
	// is pending (a replayed one's live send included).
	Built int
	Held  int
	// Logged counts the items fed into the event log so far (a prefix of
	// the items in line order); Queued the deliveries waiting for a batch.
	Logged    int
	Queued    int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// BackfillItem is one accepted line of a backfill.
type BackfillItem struct {
	Line    int
	Message []byte
}

type CreateBackfillParams struct {
	ID            string
	IntegrationID string
	Items         []BackfillItem
	Now           time.Time
}

type GetBackfillParams struct {
	ID            string
	IntegrationID string
}

type ListBackfillsParams struct {
	IntegrationID string
	// After is the id of the last backfill of the previous page ("": the
	// first page); an unknown one gives an empty page.
	After string
	Limit int
}

type LeaseBackfillParams struct {
	ID     string
	Holder string
	Now    time.Time
	Until  time.Time
}

type BackfillItemsParams struct {
	BackfillID string
	Offset     int
	Limit      int
}

type BackfillQueuedParams struct {
	BackfillID string
}

type ClaimBackfillParams struct {
	BackfillID string
	Limit      int
	Now        time.Time
	LeaseUntil time.Time
}

type RecordBatchParams struct {
	BackfillID string
	BatchID    string
	// Deliveries are the batch's deliveries as claimed (ID, LeaseUntil).
	Deliveries []*signal.Delivery
	Now        time.Time
}

// OpenBatch is a batch awaiting its results.
type OpenBatch struct {
	ID        string
	CreatedAt time.Time
}

type OpenBatchesParams struct {
	BackfillID string
}

type BatchDeliveriesParams struct {
	BackfillID string
	BatchID    string
}

type CloseBatchParams struct {
	BatchID string
}

type FinishBackfillParams struct {
	ID     string
	Status string
	Now    time.Time
}
