// Package storetest is the conformance suite every store backend must pass.
// A backend's test calls Exercise with a constructor that opens a fresh,
// empty store for each subtest (see internal/store/store_test.go).
//
// The suite pins the semantics documented in package store; when a backend
// changes, extend the suite so that every backend exercises the change.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// Exercise runs the conformance suite against the stores newStore opens.
// newStore must return a new, empty store each time it is called and close
// it when t ends (a subtest may have closed it already); subtests run in
// parallel.
func Exercise(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	areas := []struct {
		name string
		run  func(t *testing.T, newStore func(t *testing.T) store.Store)
	}{
		{"ClaimDeliveries", exerciseClaimDeliveries},
		{"Deliveries", exerciseDeliveries},
		{"Events", exerciseEvents},
		{"ReplayGuards", exerciseReplayGuards},
		{"Integrations", exerciseIntegrations},
		{"LiveEvents", exerciseLiveEvents},
		{"LiveDetails", exerciseLiveDetails},
		{"PauseIntegration", exercisePauseIntegration},
		{"Pipelines", exercisePipelines},
		{"Profiles", exerciseProfiles},
		{"ProfileTrust", exerciseProfileTrust},
		{"ProfilePass", exerciseProfilePass},
		{"ProfileRecord", exerciseProfileRecord},
		{"ProfileCarry", exerciseProfileCarry},
		{"StaleWrites", exerciseStaleWrites},
		{"HeldClocks", exerciseHeldClocks},
		{"Prune", exercisePrune},
		{"Users", exerciseUsers},
		{"UserManagement", exerciseUserManagement},
		{"Audit", exerciseAudit},
		{"Rebuild", exerciseRebuild},
		{"Backfills", exerciseBackfills},
		{"Alerts", exerciseAlerts},
		{"PipelineKeys", exercisePipelineKeys},
		{"Contacts", exerciseContacts},
		{"BlueprintVersions", exerciseBlueprintVersions},
		{"ProfileConsent", exerciseProfileConsent},
		{"RateBudgets", exerciseRateBudgets},
	}
	for _, area := range areas {
		t.Run(area.name, func(t *testing.T) {
			t.Parallel()
			area.run(t, newStore)
		})
	}
}

const processorCursor = store.ProcessorCursor

// testNow is the suite's fixed "now", at millisecond precision (the finest
// precision every backend keeps).
func testNow() time.Time {
	return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
}

var messageCounter atomic.Int64

// newEvent returns an unsaved track event with a unique message id.
func newEvent(now time.Time) *signal.Event {
	n := messageCounter.Add(1)
	msgID := fmt.Sprintf("msg-%d", n)
	return &signal.Event{
		MessageID:   msgID,
		PipelineID:  "pip_1",
		Type:        signal.TypeTrack,
		Event:       "Order Completed",
		AnonymousID: "anon-" + msgID,
		Timestamp:   now.Add(-time.Second),
		ReceivedAt:  now,
		Payload:     json.RawMessage(`{"type":"track","event":"Order Completed","messageId":"` + msgID + `"}`),
	}
}

// appendEvents appends events and fails t on error.
func appendEvents(ctx context.Context, t *testing.T, s store.Store, events ...*signal.Event) []*signal.Event {
	t.Helper()
	if err := s.AppendEvents(ctx, store.AppendEventsParams{Events: events}); err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}
	return events
}

// seedEvents appends n default events received at now.
func seedEvents(ctx context.Context, t *testing.T, s store.Store, now time.Time, n int) []*signal.Event {
	t.Helper()
	events := make([]*signal.Event, n)
	for i := range events {
		events[i] = newEvent(now)
	}
	return appendEvents(ctx, t, s, events...)
}

// pendingDelivery returns an unsaved pending delivery of e to integrationID,
// due at e.ReceivedAt, with a contact of its own.
func pendingDelivery(e *signal.Event, integrationID string) *signal.Delivery {
	return &signal.Delivery{
		EventSeq:        e.Seq,
		MessageID:       e.MessageID,
		PipelineID:      e.PipelineID,
		IntegrationID:   integrationID,
		Type:            e.Type,
		Event:           e.Event,
		Status:          signal.StatusPending,
		VendorEventName: "placed order",
		Priority:        signal.PriorityNormal,
		ContactKey:      "contact-" + e.MessageID,
		NextAttemptAt:   e.ReceivedAt,
		Payload:         json.RawMessage(`{"eventName":"placed order","integration":"` + integrationID + `"}`),
		ReceivedAt:      e.ReceivedAt,
	}
}

// recordProcessed records deliveries, moving the cursor to their last event.
func recordProcessed(ctx context.Context, t *testing.T, s store.Store, now time.Time, deliveries ...*signal.Delivery) {
	t.Helper()
	var upTo int64
	for _, d := range deliveries {
		upTo = max(upTo, d.EventSeq)
	}
	err := s.RecordProcessed(ctx, store.RecordProcessedParams{UpToSeq: upTo, Deliveries: deliveries, DedupeWindow: 24 * time.Hour, Now: now})
	if err != nil {
		t.Fatalf("RecordProcessed: %v", err)
	}
}

// newIntegration returns an unsaved, active and enabled integration.
func newIntegration(id string, now time.Time) *signal.Integration {
	return &signal.Integration{
		ID:           id,
		CatalogKey:   "omnisend",
		Name:         "Omnisend " + id,
		Variant:      "default",
		DeliveryMode: "server_side",
		Config:       map[string]any{"api_key": "key-" + id},
		Enabled:      true,
		Status:       signal.IntegrationActive,
		CreatedAt:    now,
		UpdatedAt:    now,
	}
}

// liveEvents lists every live event matching p, following cursors.
func liveEvents(ctx context.Context, t *testing.T, s store.Store, p store.ListLiveEventsParams) []*signal.LiveEvent {
	t.Helper()
	var all []*signal.LiveEvent
	for range 1000 {
		page, next, err := s.ListLiveEvents(ctx, p)
		if err != nil {
			t.Fatalf("ListLiveEvents(%+v): %v", p, err)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		p.Cursor = next
	}
	t.Fatalf("ListLiveEvents(%+v): cursor never ended", p)
	return nil
}

func requireNoError(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// requireCode fails t unless err carries the signal error code.
func requireCode(t *testing.T, err error, code signal.Code) {
	t.Helper()
	if got := signal.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (err %v), want %q", got, err, code)
	}
}

func requireTime(t *testing.T, name string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Fatalf("%s = %v, want %v", name, got, want)
	}
}

// requireJSON fails t unless got and want are the same JSON value, however
// they are spaced (a backend may store JSON in a normalised form).
func requireJSON(t *testing.T, name string, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %q is not JSON: %v", name, got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: want %q is not JSON: %v", name, want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s = %s, want %s", name, got, want)
	}
}

// requireSameJSON fails t unless got and want encode to the same JSON: a
// comparison of values that ignores time zones and number types.
func requireSameJSON(t *testing.T, name string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	requireNoError(t, err)
	w, err := json.Marshal(want)
	requireNoError(t, err)
	if !bytes.Equal(g, w) {
		t.Fatalf("%s:\n got %s\nwant %s", name, g, w)
	}
}

func requireStrings(t *testing.T, name string, got, want []string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s = %q, want %q", name, got, want)
	}
}

// messageIDs returns the message ids of deliveries, in order.
func messageIDs(ds []*signal.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.MessageID
	}
	return out
}
