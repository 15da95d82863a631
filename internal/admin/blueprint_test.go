package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// The contract's blueprint example.
const contractBlueprint = `{"version":2,"defaults":{"action":"drop"},"events":{"Order Completed":{"vendor_event_name":"placed order","enabled":true,"mappings":[{"source":"properties.order_id","target":"orderID"}]}}}`

func TestBlueprint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	v := b.install(t, pageInstallBody)
	path := "/v1/admin/integrations/" + v.ID + "/blueprint"
	var got signal.Blueprint
	if code := b.call(t, "GET", path, "", &got); code != 200 || !reflect.DeepEqual(got, blueprint.Default()) {
		t.Fatalf("GET blueprint: %d %+v, want the default", code, got)
	}
	code, body := b.raw(t, "GET", path, "")
	for _, s := range []string{`"version":2`, `"action":"drop"`, `"page":{"vendor_event_name":"page viewed"`, `"max_age":"24h"`, `"else":["context.page.url"]`} {
		if code != 200 || !strings.Contains(body, s) {
			t.Fatalf("GET blueprint %s lacks %s", body, s)
		}
	}

	var want signal.Blueprint
	json.Unmarshal([]byte(contractBlueprint), &want)
	got = signal.Blueprint{}
	if code := b.call(t, "PUT", path, contractBlueprint, &got); code != 200 || !reflect.DeepEqual(got, want) {
		t.Fatalf("PUT blueprint: %d %+v", code, got)
	}
	got = signal.Blueprint{}
	if code := b.call(t, "GET", path, "", &got); code != 200 || !reflect.DeepEqual(got, want) {
		t.Fatalf("GET after PUT: %d %+v", code, got)
	}
	in, _ := b.db.GetIntegration(context.Background(), store.GetIntegrationParams{ID: v.ID})
	if !reflect.DeepEqual(in.Blueprint, want) || in.ConfigString("api_key") != pageAPIKey {
		t.Fatalf("stored blueprint %+v", in.Blueprint)
	}
}

func TestBlueprintErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	v := b.install(t, pageInstallBody)
	path := "/v1/admin/integrations/" + v.ID + "/blueprint"
	ev := func(body string) string {
		return `{"version":2,"defaults":{"action":"drop"},"events":{"Order Completed":` + body + `}}`
	}
	tests := []struct {
		name, body, field string
	}{
		{"version 1", `{"version":1,"events":{}}`, "version"},
		{"no version", `{"events":{}}`, "version"},
		{"version a string", `{"version":"2","events":{}}`, "version"},
		{"bad default action", `{"version":2,"defaults":{"action":"keep"},"events":{}}`, "defaults.action"},
		{"empty target", ev(`{"vendor_event_name":"placed order","enabled":true,"mappings":[{"source":"properties.order_id","target":""}]}`), "events.Order Completed.mappings[0].target"},
		{"no source", ev(`{"vendor_event_name":"placed order","enabled":true,"mappings":[{"target":"orderID"}]}`), "events.Order Completed.mappings[0].source"},
		{"bad else", ev(`{"vendor_event_name":"placed order","enabled":true,"mappings":[{"source":"properties.a","else":["nowhere.b"],"target":"a"}]}`), "events.Order Completed.mappings[0].else[0]"},
		{"reserved target", ev(`{"vendor_event_name":"placed order","enabled":true,"mappings":[{"source":"properties.a","target":"marketing_consent"}]}`), "events.Order Completed.mappings[0].target"},
		{"bad priority", ev(`{"vendor_event_name":"placed order","enabled":true,"priority":"urgent"}`), "events.Order Completed.priority"},
		{"bad max_age", ev(`{"vendor_event_name":"placed order","enabled":true,"max_age":"a day"}`), "events.Order Completed.max_age"},
		{"negative max_age", ev(`{"vendor_event_name":"placed order","enabled":true,"max_age":"-1h"}`), "events.Order Completed.max_age"},
		{"enabled without a name", ev(`{"enabled":true}`), "events.Order Completed.vendor_event_name"},
		{"unknown top-level field", `{"version":2,"event":{}}`, "event"},
		{"unknown field in defaults", `{"version":2,"defaults":{"actions":"drop"}}`, "defaults.actions"},
		{"unknown field in an event", ev(`{"vendor_event_nam":"placed order","enabled":true}`), "events.Order Completed.vendor_event_nam"},
		{"unknown field in a mapping", ev(`{"vendor_event_name":"x","enabled":true,"mappings":[{"source":"properties.a","target":"a"},{"source":"properties.b","to":"b"}]}`), "events.Order Completed.mappings[1].to"},
		{"enabled not a boolean", ev(`{"vendor_event_name":"x","enabled":"yes"}`), "events.Order Completed.enabled"},
		{"mappings not a list", ev(`{"vendor_event_name":"x","enabled":true,"mappings":{"source":"properties.a"}}`), "events.Order Completed.mappings"},
		{"event not an object", `{"version":2,"events":{"page":true}}`, "events.page"},
		{"else not a path", ev(`{"vendor_event_name":"x","enabled":true,"mappings":[{"source":"properties.a","else":[1],"target":"a"}]}`), "events.Order Completed.mappings[0].else[0]"},
		{"malformed", `{"version":2,`, ""},
		{"not an object", `[]`, ""},
	}
	for _, tt := range tests {
		var e apiError
		if code := b.call(t, "PUT", path, tt.body, &e); code != 400 || e.Error.Field != tt.field || e.Error.Message == "" || e.Error.Code != signal.EINVALID {
			t.Errorf("%s: %d %+v, want 400 field %q", tt.name, code, e.Error, tt.field)
		}
	}
	var got signal.Blueprint
	if b.call(t, "GET", path, "", &got); !reflect.DeepEqual(got, blueprint.Default()) {
		t.Fatal("a refused blueprint was stored")
	}
}

// stubTester answers test sends with a fixed result and records them.
type stubTester struct {
	mu    sync.Mutex
	calls []string // integration id, api key and email of each call
	res   *TestResult
	err   error
}

func (s *stubTester) SendTest(ctx context.Context, in *signal.Integration, email string) (*TestResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, in.ID+" "+in.ConfigString("api_key")+" "+email)
	return s.res, s.err
}

func TestTestEndpoint(t *testing.T) {
	t.Parallel()
	tester := &stubTester{res: &TestResult{Status: "delivered", VendorStatus: 202, VendorResponse: "{}"}}
	b := setupWith(t, Deps{Tester: tester})
	v := b.install(t, pageInstallBody)
	path := "/v1/admin/integrations/" + v.ID + "/test"
	code, body := b.raw(t, "POST", path, `{"email":"Test@Example.com"}`)
	if code != 200 || body != `{"status":"delivered","vendor_status":202,"vendor_response":"{}"}` {
		t.Fatalf("test: %d %s", code, body)
	}
	// The tester gets the integration with its real key, to send with.
	if len(tester.calls) != 1 || tester.calls[0] != v.ID+" "+pageAPIKey+" Test@Example.com" {
		t.Fatalf("tester calls %q", tester.calls)
	}
	errs := []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"missing email", path, `{}`, 400, "email"},
		{"empty email", path, `{"email":""}`, 400, "email"},
		{"unknown field", path, `{"email":"a@example.com","phone":"1"}`, 400, "phone"},
		{"malformed", path, `{"email":`, 400, ""},
		{"unknown integration", "/v1/admin/integrations/int_nope/test", `{"email":"a@example.com"}`, 404, ""},
	}
	for _, e := range errs {
		var ae apiError
		if code := b.call(t, "POST", e.path, e.body, &ae); code != e.status || ae.Error.Field != e.field {
			t.Errorf("%s: %d %+v, want %d field %q", e.name, code, ae.Error, e.status, e.field)
		}
	}
	if len(tester.calls) != 1 {
		t.Fatalf("refused requests reached the tester: %q", tester.calls)
	}
	tester.err = signal.FieldErrorf(signal.EINVALID, "email", "email is not a valid address")
	var ae apiError
	if code := b.call(t, "POST", path, `{"email":"nope"}`, &ae); code != 400 || ae.Error.Field != "email" {
		t.Fatalf("tester's field error: %d %+v", code, ae.Error)
	}
	tester.err = errors.New("dial tcp: secret detail")
	if code, body := b.raw(t, "POST", path, `{"email":"a@example.com"}`); code != 500 || strings.Contains(body, "secret detail") {
		t.Fatalf("tester's internal error: %d %s", code, body)
	}

	// Without a tester the route says so.
	plain := setup(t)
	pv := plain.install(t, pageInstallBody)
	if code := plain.call(t, "POST", "/v1/admin/integrations/"+pv.ID+"/test", `{"email":"a@example.com"}`, &ae); code != 503 {
		t.Fatalf("no tester: %d %+v", code, ae.Error)
	}
}

// recordDeliveries records deliveries of an integration in a status, for events
// received at the given times.
func (b *testBundle) recordDeliveries(t *testing.T, integrationID string, status signal.DeliveryStatus, received ...time.Time) {
	t.Helper()
	ctx := context.Background()
	var evs []*signal.Event
	for _, at := range received {
		evs = append(evs, &signal.Event{MessageID: fmt.Sprintf("m-%s-%d", integrationID, at.UnixNano()), PipelineID: "pip_x", Type: "track",
			Event: "Order Completed", Timestamp: at, ReceivedAt: at, Payload: json.RawMessage(`{"type":"track","event":"Order Completed","userId":"u1"}`)})
	}
	if err := b.db.AppendEvents(ctx, store.AppendEventsParams{Events: evs}); err != nil {
		t.Fatal(err)
	}
	var ds []*signal.Delivery
	for _, ev := range evs {
		ds = append(ds, &signal.Delivery{EventSeq: ev.Seq, MessageID: ev.MessageID, PipelineID: ev.PipelineID, IntegrationID: integrationID,
			Type: ev.Type, Event: ev.Event, Status: status, Reason: signal.ReasonRetriesExhausted, Attempts: 9,
			Payload: json.RawMessage(`{"eventName":"placed order"}`), ReceivedAt: ev.ReceivedAt, NextAttemptAt: ev.ReceivedAt})
	}
	if err := b.db.RecordProcessed(ctx, store.RecordProcessedParams{UpToSeq: evs[len(evs)-1].Seq, Deliveries: ds, Now: *b.now}); err != nil {
		t.Fatal(err)
	}
}

func TestReplay(t *testing.T) {
	t.Parallel()
	n := &recNotifier{}
	b := setupWith(t, Deps{Notifier: n})
	v := b.install(t, pageInstallBody)
	other := b.install(t, installBody("other-0123456789"))
	day := func(d int) time.Time { return time.Date(2026, 11, d, 12, 0, 0, 0, time.UTC) }
	b.recordDeliveries(t, v.ID, signal.StatusFailed, day(20), day(25), day(26))
	b.recordDeliveries(t, v.ID, signal.StatusFiltered, day(26))
	b.recordDeliveries(t, other.ID, signal.StatusFailed, day(26))
	path := "/v1/admin/integrations/" + v.ID + "/replay"

	var got map[string]int
	if code := b.call(t, "POST", path, `{"status":"failed","since":"2026-11-25T00:00:00Z"}`, &got); code != 200 || got["requeued"] != 2 || len(got) != 1 {
		t.Fatalf("replay since: %d %v", code, got)
	}
	if code := b.call(t, "POST", path, `{"status":"failed"}`, &got); code != 200 || got["requeued"] != 1 {
		t.Fatalf("replay the rest: %d %v", code, got)
	}
	if code := b.call(t, "POST", path, `{"status":"failed"}`, &got); code != 200 || got["requeued"] != 0 {
		t.Fatalf("replay again: %d %v", code, got)
	}
	if n.count(v.ID) < 4 {
		t.Fatal("delivery was not told of the requeued deliveries")
	}
	live, _, err := b.db.ListLiveEvents(context.Background(), store.ListLiveEventsParams{IntegrationID: v.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[signal.DeliveryStatus]int{}
	for _, le := range live {
		statuses[le.Status]++
		if le.Status == signal.StatusPending && (le.Attempts != 0 || le.Reason != "") {
			t.Fatalf("requeued %+v", le)
		}
	}
	if statuses[signal.StatusPending] != 3 || statuses[signal.StatusFiltered] != 1 || len(live) != 4 {
		t.Fatalf("after replay: %v", statuses)
	}
	if code := b.call(t, "POST", "/v1/admin/integrations/"+other.ID+"/replay", `{}`, &got); code != 200 || got["requeued"] != 1 {
		t.Fatalf("status defaults to failed: %d %v", code, got)
	}

	errs := []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"status pending", path, `{"status":"pending"}`, 400, "status"},
		{"filtered by the event", path, `{"status":"filtered","reason":"no_identifier"}`, 400, "reason"},
		{"filtered reasons list", path, `{"status":"filtered","reasons":["dry_run","duplicate"]}`, 400, "reasons"},
		{"reason with failed", path, `{"status":"failed","reason":"dry_run"}`, 400, "reason"},
		{"status delivered", path, `{"status":"delivered"}`, 400, "status"},
		{"bad since", path, `{"status":"failed","since":"yesterday"}`, 400, "since"},
		{"date-only since", path, `{"status":"failed","since":"2026-11-25"}`, 400, "since"},
		{"since not a string", path, `{"status":"failed","since":1764000000}`, 400, "since"},
		{"unknown field", path, `{"status":"failed","until":"2026-11-25T00:00:00Z"}`, 400, "until"},
		{"malformed", path, `{"status":`, 400, ""},
		{"unknown integration", "/v1/admin/integrations/int_nope/replay", `{"status":"failed"}`, 404, ""},
	}
	for _, e := range errs {
		var ae apiError
		if code := b.call(t, "POST", e.path, e.body, &ae); code != e.status || ae.Error.Field != e.field || ae.Error.Message == "" {
			t.Errorf("%s: %d %+v, want %d field %q", e.name, code, ae.Error, e.status, e.field)
		}
	}
}
