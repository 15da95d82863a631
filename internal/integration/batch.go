package integration

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/signalhq/signal/internal/signal"
)

// BatchSender is a vendor that also takes many events in one asynchronous
// request (Omnisend's batches), which backfills use: create a batch of
// items (each the body the vendor's single-event request would get), keep
// its id, poll its state, then read each item's result. Optional: a vendor
// without it cannot be backfilled.
type BatchSender interface {
	// MaxBatchItems is the most items one batch may hold.
	MaxBatchItems() int
	// BatchRequest creates a batch of items.
	BatchRequest(ctx context.Context, in *signal.Integration, items []json.RawMessage) (*http.Request, error)
	// ParseBatchCreated reads the answer to BatchRequest: the batch's id,
	// or an error (the batch was not created, or its id cannot be read).
	ParseBatchCreated(status int, body []byte) (string, error)
	// BatchStatusRequest asks how far batch id has got.
	BatchStatusRequest(ctx context.Context, in *signal.Integration, id string) (*http.Request, error)
	// ParseBatchStatus reads the answer to BatchStatusRequest.
	ParseBatchStatus(status int, body []byte) (BatchStatus, error)
	// BatchItemsRequest asks for the per-item results of batch id.
	BatchItemsRequest(ctx context.Context, in *signal.Integration, id string) (*http.Request, error)
	// ParseBatchItems reads the answer to BatchItemsRequest.
	ParseBatchItems(status int, body []byte) ([]BatchItemResult, error)
	// BatchItemID is the id an item's result is matched by
	// (BatchItemResult.EventID), read from the item as built by Payload;
	// "" when it has none.
	BatchItemID(item []byte) string
}

// BatchStatus is how far a batch has got.
type BatchStatus struct {
	// Done: every item has its result (the vendor finished or stopped the
	// batch); the items can be read.
	Done     bool
	Stopped  bool
	Total    int
	Finished int
	Errors   int
}

// BatchItemResult is one item's outcome, matched to the item sent by
// EventID (never by position alone).
type BatchItemResult struct {
	EventID string
	// Finished: the vendor processed the item; Status is its answer code
	// (2xx delivered, else refused with Response).
	Finished bool
	Status   int
	Response string
}
