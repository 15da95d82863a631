package store

import (
	"context"
	"time"
)

// BackfillStore keeps backfills: historical events sent to an integration
// through the vendor's batch endpoint, durably enough that a backfill that
// got a 202 finishes after a restart (kill -9 included) and the items of a
// batch the vendor acknowledged are never sent again.
type BackfillStore interface {
	// CreateBackfill stores a backfill and its accepted items at once.
	CreateBackfill(ctx context.Context, p CreateBackfillParams) error
	// GetBackfill returns a backfill with its item counts. Unknown (or of
	// another integration, when IntegrationID is set): ENOTFOUND.
	GetBackfill(ctx context.Context, p GetBackfillParams) (*Backfill, error)
	// RunningBackfills lists the backfills not finished, oldest first (to
	// resume them at start-up).
	RunningBackfills(ctx context.Context) ([]*Backfill, error)
	// UnsentBackfillItems returns up to Limit items of a backfill in no
	// batch yet, in line order.
	UnsentBackfillItems(ctx context.Context, p UnsentBackfillItemsParams) ([]BackfillItem, error)
	// RecordBatch stores a batch the vendor acknowledged (its id) and
	// marks its items as sent in it, atomically: after this, they are only
	// polled. Items already in a batch are an ECONFLICT (nothing written).
	RecordBatch(ctx context.Context, p RecordBatchParams) error
	// OpenBatches lists a backfill's batches whose results are not in yet.
	OpenBatches(ctx context.Context, p OpenBatchesParams) ([]string, error)
	// FinishBatch writes the items' results of a batch (matched by event
	// id; an item the vendor reported nothing for ends failed with
	// Missing's status and response), closes the batch, and marks the
	// backfill done when no item is left unsent or open.
	FinishBatch(ctx context.Context, p FinishBatchParams) error
	// FailBackfill ends a backfill failed (e.g. its integration deleted).
	FailBackfill(ctx context.Context, p FailBackfillParams) error
}

// Backfill statuses.
const (
	BackfillRunning = "running"
	BackfillDone    = "done"
	BackfillFailed  = "failed"
)

// Backfill item statuses.
const (
	BackfillItemUnsent    = "unsent"
	BackfillItemSent      = "sent"
	BackfillItemDelivered = "delivered"
	BackfillItemFailed    = "failed"
)

// Backfill is one backfill and its progress.
type Backfill struct {
	ID            string
	IntegrationID string
	Status        string
	Accepted      int
	Delivered     int
	Failed        int
	// Pending is Accepted less Delivered and Failed: unsent or awaiting
	// the vendor's result.
	Pending   int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// BackfillItem is one accepted line of a backfill.
type BackfillItem struct {
	Line    int
	Message []byte
	// EventID is the vendor event id the item was sent with ("" until
	// sent).
	EventID        string
	BatchID        string
	Status         string
	VendorStatus   int
	VendorResponse string
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

type UnsentBackfillItemsParams struct {
	BackfillID string
	Limit      int
}

type RecordBatchParams struct {
	BackfillID string
	BatchID    string
	// EventIDs are the items' event ids by line.
	EventIDs map[int]string
	Now      time.Time
}

type OpenBatchesParams struct {
	BackfillID string
}

type FinishBatchParams struct {
	BackfillID string
	BatchID    string
	Results    []BackfillResult
	// Missing is the outcome of an item the vendor reported nothing for.
	Missing BackfillResult
	Now     time.Time
}

// BackfillResult is one item's outcome from the vendor.
type BackfillResult struct {
	EventID        string
	Delivered      bool
	VendorStatus   int
	VendorResponse string
}

type FailBackfillParams struct {
	ID  string
	Now time.Time
}
