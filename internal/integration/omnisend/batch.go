package omnisend

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

// Omnisend's batch API (v5) for backfills: POST /v5/batches
// {"method":"POST","endpoint":"events","items":[…]} answers 201 {batchID};
// GET /v5/batches/{id} says its state; GET /v5/batches/{id}/items the
// per-item results. See the batch section of the Omnisend reference notes.

// BatchesPath is appended to the base URL.
const BatchesPath = "/v5/batches"

// MaxBatchItems is Omnisend's limit on items a batch (older docs said
// 1,000; the current reference says 100).
const MaxBatchItems = 100

var _ integration.BatchSender = (*Vendor)(nil)

// MaxBatchItems is the most items one batch may hold.
func (v *Vendor) MaxBatchItems() int { return MaxBatchItems }

// batchesURL is {base}/v5/batches: batches are a v5 endpoint whatever the
// events endpoint is.
func (v *Vendor) batchesURL() string {
	return v.base + BatchesPath
}

// BatchRequest creates a batch of event bodies.
func (v *Vendor) BatchRequest(ctx context.Context, in *signal.Integration, items []json.RawMessage) (*http.Request, error) {
	if len(items) == 0 || len(items) > MaxBatchItems {
		return nil, fmt.Errorf("omnisend: batch of %d items: a batch holds 1 to %d", len(items), MaxBatchItems)
	}
	body, err := json.Marshal(struct {
		Method   string            `json:"method"`
		Endpoint string            `json:"endpoint"`
		Items    []json.RawMessage `json:"items"`
		Origin   string            `json:"origin"`
	}{"POST", "events", items, "api"})
	if err != nil {
		return nil, fmt.Errorf("omnisend: batch: %w", err)
	}
	return v.batchCall(ctx, in, http.MethodPost, v.batchesURL(), body)
}

// BatchStatusRequest asks for batch id's state.
func (v *Vendor) BatchStatusRequest(ctx context.Context, in *signal.Integration, id string) (*http.Request, error) {
	return v.batchCall(ctx, in, http.MethodGet, v.batchesURL()+"/"+url.PathEscape(id), nil)
}

// BatchItemsRequest asks for batch id's per-item results.
func (v *Vendor) BatchItemsRequest(ctx context.Context, in *signal.Integration, id string) (*http.Request, error) {
	return v.batchCall(ctx, in, http.MethodGet, v.batchesURL()+"/"+url.PathEscape(id)+"/items", nil)
}

// batchCall is a v5 request with the integration's key (X-API-KEY); the
// error never carries the key.
func (v *Vendor) batchCall(ctx context.Context, in *signal.Integration, method, u string, body []byte) (*http.Request, error) {
	if in == nil {
		return nil, signal.Errorf(signal.EINVALID, "omnisend: batch: no integration")
	}
	key := in.ConfigString(ConfigAPIKey)
	if key == "" || !validAPIKey(key) {
		return nil, signal.FieldErrorf(signal.EINVALID, "config."+ConfigAPIKey, "omnisend: batch: the integration has no usable API key")
	}
	var rd io.Reader // nil, not a nil *bytes.Reader: a GET has no body
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("omnisend: batch: %w", err)
	}
	req.Header.Set("X-API-KEY", key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-INTEGRATION-NAME", IntegrationName)
	return req, nil
}

// ParseBatchCreated reads the batch id from a 2xx answer (v5: 201
// {batchID, totalCount}; v3 returned the whole batch, also with batchID).
func (v *Vendor) ParseBatchCreated(status int, body []byte) (string, error) {
	if status < 200 || status > 299 {
		return "", fmt.Errorf("omnisend: batch not created: status %d: %s", status, truncate(body))
	}
	var b struct {
		BatchID string `json:"batchID"`
	}
	if err := json.Unmarshal(body, &b); err != nil || b.BatchID == "" {
		return "", fmt.Errorf("omnisend: batch created (status %d) but its batchID cannot be read: %s", status, truncate(body))
	}
	return b.BatchID, nil
}

// ParseBatchStatus reads GET /v5/batches/{id}: finished or stopped is done.
func (v *Vendor) ParseBatchStatus(status int, body []byte) (integration.BatchStatus, error) {
	if status < 200 || status > 299 {
		return integration.BatchStatus{}, fmt.Errorf("omnisend: batch status: status %d: %s", status, truncate(body))
	}
	var b struct {
		Status        string `json:"status"`
		TotalCount    int    `json:"totalCount"`
		FinishedCount int    `json:"finishedCount"`
		ErrorsCount   int    `json:"errorsCount"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return integration.BatchStatus{}, fmt.Errorf("omnisend: batch status cannot be read: %w", err)
	}
	st := integration.BatchStatus{Total: b.TotalCount, Finished: b.FinishedCount, Errors: b.ErrorsCount}
	switch b.Status {
	case "finished":
		st.Done = true
	case "stopped":
		st.Done, st.Stopped = true, true
	}
	return st, nil
}

// ParseBatchItems reads GET /v5/batches/{id}/items defensively: the item
// arrays may be named items, errors or responses (the reference shows the
// last two, v3 the first), or the answer may be a bare array; each result
// is matched by request.eventID.
func (v *Vendor) ParseBatchItems(status int, body []byte) ([]integration.BatchItemResult, error) {
	if status < 200 || status > 299 {
		return nil, fmt.Errorf("omnisend: batch items: status %d: %s", status, truncate(body))
	}
	var lists [][]batchItem
	var bare []batchItem
	if err := json.Unmarshal(body, &bare); err == nil {
		lists = append(lists, bare)
	} else {
		var obj struct {
			Items     []batchItem `json:"items"`
			Errors    []batchItem `json:"errors"`
			Responses []batchItem `json:"responses"`
		}
		if err := json.Unmarshal(body, &obj); err != nil {
			return nil, fmt.Errorf("omnisend: batch items cannot be read: %w", err)
		}
		lists = append(lists, obj.Items, obj.Errors, obj.Responses)
	}
	var out []integration.BatchItemResult
	for _, l := range lists {
		for _, it := range l {
			var req struct {
				EventID string `json:"eventID"`
			}
			if json.Unmarshal(it.Request, &req) != nil || req.EventID == "" {
				continue // cannot be matched to an item sent
			}
			r := integration.BatchItemResult{EventID: req.EventID, Status: it.ResponseCode,
				Finished: it.Status == "finished" || (it.Status == "" && it.ResponseCode != 0), Response: responseText(it.Response)}
			out = append(out, r)
		}
	}
	return out, nil
}

// BatchItemID is an item's eventID, which its result's request echoes.
func (v *Vendor) BatchItemID(item []byte) string {
	var b struct {
		EventID string `json:"eventID"`
	}
	if json.Unmarshal(item, &b) != nil {
		return ""
	}
	return b.EventID
}

type batchItem struct {
	ItemID       string          `json:"itemID"`
	Status       string          `json:"status"`
	ResponseCode int             `json:"responseCode"`
	Request      json.RawMessage `json:"request"`
	Response     json.RawMessage `json:"response"`
}

// responseText is an item's response as Live Events shows it: a JSON
// string's text, other JSON as sent, cut to a few KiB.
func responseText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return truncate([]byte(s))
	}
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	return truncate(raw)
}
