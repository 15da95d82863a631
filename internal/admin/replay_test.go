package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// recordFiltered records one order per reason, filtered (or in the status
// given after a colon, "failed:vendor_rejected") for integrationID, and
// returns their Live Events ids in the same order.
func (b *testBundle) recordFiltered(t *testing.T, integrationID string, reasons ...string) []string {
	t.Helper()
	ctx := context.Background()
	var evs []*signal.Event
	for i := range reasons {
		at := b.now.Add(-time.Duration(len(reasons)-i) * time.Minute)
		evs = append(evs, &signal.Event{MessageID: fmt.Sprintf("m-%s-%d", integrationID, i), PipelineID: "pip_x", Type: "track",
			Event: "Order Completed", Timestamp: at, ReceivedAt: at, Payload: json.RawMessage(fmt.Sprintf(
				`{"type":"track","event":"Order Completed","userId":"u%d","context":{"traits":{"email":"buyer%d@example.com"}},"properties":{"order_id":"o%d","total":12.5,"currency":"eur"}}`, i, i, i))})
	}
	if err := b.db.AppendEvents(ctx, store.AppendEventsParams{Events: evs}); err != nil {
		t.Fatal(err)
	}
	var ds []*signal.Delivery
	for i, ev := range evs {
		status, reason := signal.StatusFiltered, reasons[i]
		if s, r, ok := strings.Cut(reason, ":"); ok {
			status, reason = signal.DeliveryStatus(s), r
		}
		ds = append(ds, &signal.Delivery{EventSeq: ev.Seq, MessageID: ev.MessageID, PipelineID: ev.PipelineID, IntegrationID: integrationID,
			Type: ev.Type, Event: ev.Event, Status: status, Reason: signal.Reason(reason), ReceivedAt: ev.ReceivedAt, NextAttemptAt: ev.ReceivedAt})
	}
	if err := b.db.RecordProcessed(ctx, store.RecordProcessedParams{UpToSeq: evs[len(evs)-1].Seq, Deliveries: ds, Now: *b.now}); err != nil {
		t.Fatal(err)
	}
	live, _, err := b.db.ListLiveEvents(ctx, store.ListLiveEventsParams{IntegrationID: integrationID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(reasons))
	for _, le := range live {
		for i, ev := range evs {
			if le.MessageID == ev.MessageID {
				ids[i] = le.ID
			}
		}
	}
	return ids
}

func (b *testBundle) liveEvent(t *testing.T, id string) liveDetail {
	t.Helper()
	var d liveDetail
	if code := b.call(t, "GET", "/v1/admin/live-events/"+id, "", &d); code != 200 {
		t.Fatalf("GET live event %s: %d", id, code)
	}
	return d
}

type liveDetail struct {
	Status  signal.DeliveryStatus `json:"status"`
	Reason  signal.Reason         `json:"reason"`
	Payload json.RawMessage       `json:"payload"`
}

func TestReplayFiltered(t *testing.T) {
	t.Parallel()
	n := &recNotifier{}
	b := setupWith(t, Deps{Notifier: n})
	v := b.install(t, pageInstallBody)
	ids := b.recordFiltered(t, v.ID, "dry_run", "event_not_enabled", "no_identifier", "integration_disabled", "dry_run")
	path := "/v1/admin/integrations/" + v.ID + "/replay"

	var got map[string]int
	if code := b.call(t, "POST", path, `{"status":"filtered","reason":"dry_run"}`, &got); code != 200 || got["requeued"] != 2 || got["still_filtered"] != 0 {
		t.Fatalf("replay dry_run: %d %v", code, got)
	}
	d := b.liveEvent(t, ids[0])
	if d.Status != signal.StatusPending || d.Reason != "" || !strings.Contains(string(d.Payload), `"eventID"`) || !strings.Contains(string(d.Payload), "buyer0@example.com") {
		t.Fatalf("replayed dry-run order = %+v, want pending with its built payload", d)
	}
	if d := b.liveEvent(t, ids[1]); d.Status != signal.StatusFiltered || d.Reason != signal.ReasonEventNotEnabled {
		t.Fatalf("event_not_enabled replayed by a dry_run replay: %+v", d)
	}
	// The rest of the setting reasons by default; no_identifier is the
	// event's own fault and stays.
	if code := b.call(t, "POST", path, `{"status":"filtered"}`, &got); code != 200 || got["requeued"] != 2 {
		t.Fatalf("replay every setting reason: %d %v", code, got)
	}
	if code := b.call(t, "POST", path, `{"status":"filtered"}`, &got); code != 200 || got["requeued"] != 0 {
		t.Fatalf("replay again: %d %v", code, got)
	}
	if d := b.liveEvent(t, ids[2]); d.Status != signal.StatusFiltered || d.Reason != signal.ReasonNoIdentifier {
		t.Fatalf("no_identifier order: %+v", d)
	}
	if n.count(v.ID) < 3 {
		t.Fatal("delivery was not told of the replayed deliveries")
	}
}

func TestReplayFilteredStillFiltered(t *testing.T) {
	t.Parallel()
	b := setup(t)
	v := b.install(t, installBody("dry-0123456789"))
	var pv integrationView
	if code := b.call(t, "PATCH", "/v1/admin/integrations/"+v.ID, `{"config":{"dry_run":true}}`, &pv); code != 200 {
		t.Fatalf("dry run on: %d", code)
	}
	ids := b.recordFiltered(t, v.ID, "dry_run")
	var got map[string]int
	if code := b.call(t, "POST", "/v1/admin/integrations/"+v.ID+"/replay", `{"status":"filtered","reasons":["dry_run"]}`, &got); code != 200 ||
		got["requeued"] != 0 || got["still_filtered"] != 1 {
		t.Fatalf("replay while still in dry run: %d %v", code, got)
	}
	if d := b.liveEvent(t, ids[0]); d.Status != signal.StatusFiltered || d.Reason != signal.ReasonDryRun {
		t.Fatalf("order after a replay in dry run: %+v", d)
	}

	// Dry run off, but the integration now takes another pipeline only:
	// the processor would not send it the event, nor does a replay.
	var pl struct{ ID string }
	if code := b.call(t, "POST", "/v1/admin/pipelines", `{"name":"Other"}`, &pl); code != 201 {
		t.Fatalf("create pipeline: %d", code)
	}
	if code := b.call(t, "PATCH", "/v1/admin/integrations/"+v.ID, `{"config":{"dry_run":null},"pipeline_ids":["`+pl.ID+`"]}`, &pv); code != 200 {
		t.Fatalf("dry run off, other pipeline: %d", code)
	}
	if code := b.call(t, "POST", "/v1/admin/integrations/"+v.ID+"/replay", `{"status":"filtered"}`, &got); code != 200 ||
		got["requeued"] != 0 || got["still_filtered"] != 1 {
		t.Fatalf("replay for an integration that no longer takes the pipeline: %d %v", code, got)
	}
	if code := b.call(t, "PATCH", "/v1/admin/integrations/"+v.ID, `{"pipeline_ids":[]}`, &pv); code != 200 {
		t.Fatalf("every pipeline: %d", code)
	}
	if code := b.call(t, "POST", "/v1/admin/integrations/"+v.ID+"/replay", `{"status":"filtered"}`, &got); code != 200 || got["requeued"] != 1 {
		t.Fatalf("replay once fixed: %d %v", code, got)
	}
}

func TestReplayLiveEvent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	v := b.install(t, pageInstallBody)
	ids := b.recordFiltered(t, v.ID, "failed:vendor_rejected", "delivered:", "event_not_enabled")

	var got struct {
		Requeued int               `json:"requeued"`
		Event    *signal.LiveEvent `json:"event"`
	}
	if code := b.call(t, "POST", "/v1/admin/live-events/"+ids[0]+"/replay", ``, &got); code != 200 || got.Requeued != 1 ||
		got.Event == nil || got.Event.Status != signal.StatusPending || got.Event.ID != ids[0] {
		t.Fatalf("replay a failed event: %d %+v", code, got)
	}
	if code := b.call(t, "POST", "/v1/admin/live-events/"+ids[2]+"/replay", ``, &got); code != 200 || got.Requeued != 1 {
		t.Fatalf("replay a filtered event: %d %+v", code, got)
	}
	if d := b.liveEvent(t, ids[1]); d.Status != signal.StatusDelivered {
		t.Fatalf("delivered row touched: %+v", d)
	}
	errs := []struct {
		name, id string
		status   int
	}{
		{"delivered", ids[1], 409},
		{"pending now", ids[0], 409},
		{"unknown", "dlv_999999", 404},
		{"malformed", "nope", 404},
		{"not processed", "evt_1", 409},
	}
	for _, e := range errs {
		var ae apiError
		if code := b.call(t, "POST", "/v1/admin/live-events/"+e.id+"/replay", ``, &ae); code != e.status {
			t.Errorf("%s: %d %+v, want %d", e.name, code, ae.Error, e.status)
		}
	}
}
