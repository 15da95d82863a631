package admin

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/pipeline"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

const (
	contactEmail = "Jane.Doe@Shop.example"
	contactUser  = "user-jane-42"
	contactAnon  = "anon-jane-42"
	contactPhone = "+1 (415) 555-0199"
)

// seedContact stores Jane's identify and order (with a pending delivery)
// and her profile, as the processor would, and one event of someone else.
func seedContact(t *testing.T, b *testBundle) {
	t.Helper()
	ctx := context.Background()
	var intg map[string]any
	if code := b.call(t, "POST", "/v1/admin/integration-catalog/omnisend/install", `{"name":"Omni","config":{"api_key":"k-123"}}`, &intg); code != 201 {
		t.Fatalf("install: %d %v", code, intg)
	}
	intID := intg["id"].(string)
	evs := []*signal.Event{
		{MessageID: "m1", PipelineID: "pip_1", Type: "identify", Payload: json.RawMessage(`{"type":"identify","userId":"` + contactUser + `","anonymousId":"` + contactAnon + `","traits":{"email":"` + contactEmail + `","phone":"` + contactPhone + `"}}`)},
		{MessageID: "m2", PipelineID: "pip_1", Type: "track", Event: "Order Completed", Payload: json.RawMessage(`{"type":"track","event":"Order Completed","userId":"` + contactUser + `"}`)},
		{MessageID: "m3", PipelineID: "pip_1", Type: "track", Event: "Order Completed", Payload: json.RawMessage(`{"type":"track","event":"Order Completed","userId":"someone-else"}`)},
	}
	for _, e := range evs {
		e.ReceivedAt, e.Timestamp = *b.now, *b.now
	}
	if err := b.db.AppendEvents(ctx, store.AppendEventsParams{Events: evs}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.ResolveProfiles(ctx, store.ResolveProfilesParams{Now: *b.now, Items: []store.ProfileUpdate{
		{Keys: []string{b.box.Hash("u:" + contactUser), b.box.Hash("a:" + contactAnon)}, Traits: map[string]any{"email": contactEmail, "phone": contactPhone}},
	}}); err != nil {
		t.Fatal(err)
	}
	var ds []*signal.Delivery
	for _, e := range evs[1:] {
		ds = append(ds, &signal.Delivery{EventSeq: e.Seq, MessageID: e.MessageID, PipelineID: e.PipelineID, IntegrationID: intID, Type: e.Type,
			Event: e.Event, Status: signal.StatusPending, Priority: signal.PriorityNormal, ContactKey: e.MessageID, NextAttemptAt: *b.now,
			ReceivedAt: *b.now, Payload: json.RawMessage(`{"email":"` + contactEmail + `"}`)})
	}
	if err := b.db.RecordProcessed(ctx, store.RecordProcessedParams{UpToSeq: evs[2].Seq, Deliveries: ds, Now: *b.now, DedupeWindow: time.Hour,
		SearchKeys: contactKeys(b, evs)}); err != nil {
		t.Fatal(err)
	}
}

// contactKeys are the keys the processor indexes the seeded events by
// (pipeline.searchKeys): ids, the profile's email, every email and phone.
func contactKeys(b *testBundle, evs []*signal.Event) []store.SearchKey {
	key := func(e *signal.Event, k string) store.SearchKey {
		return store.SearchKey{EventSeq: e.Seq, Key: b.box.Hash(k)}
	}
	email := "e:" + pipeline.SearchEmail(contactEmail)
	return []store.SearchKey{
		key(evs[0], "u:"+contactUser), key(evs[0], "a:"+contactAnon), key(evs[0], email), key(evs[0], "p:14155550199"),
		key(evs[1], "u:"+contactUser), key(evs[1], email),
		key(evs[2], "u:someone-else"),
	}
}

type exportAnswer struct {
	Profiles []struct {
		IDs    map[string][]string `json:"ids"`
		Traits map[string]any      `json:"traits"`
	} `json:"profiles"`
	Events []struct {
		MessageID  string `json:"message_id"`
		Deliveries []struct {
			IntegrationID string `json:"integration_id"`
			Status        string `json:"status"`
			Reason        string `json:"reason"`
		} `json:"deliveries"`
	} `json:"events"`
}

func TestContactExportEraseExport(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, body string }{
		{"Email", `{"email":"  jane.doe@shop.EXAMPLE "}`},
		{"UserID", `{"user_id":"` + contactUser + `"}`},
		{"AnonymousID", `{"anonymous_id":"` + contactAnon + `"}`},
		{"Phone", `{"phone":"+14155550199"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			seedContact(t, b)
			var ex exportAnswer
			if code := b.call(t, "POST", "/v1/admin/contacts/export", tt.body, &ex); code != 200 {
				t.Fatalf("export = %d", code)
			}
			if len(ex.Profiles) != 1 || ex.Profiles[0].Traits["email"] != contactEmail || len(ex.Events) != 2 ||
				ex.Events[0].MessageID != "m1" || ex.Events[1].MessageID != "m2" || strings.Join(ex.Profiles[0].IDs["user_ids"], ",") != contactUser {
				t.Fatalf("export = %+v, want Jane's profile and events m1, m2", ex)
			}
			if d := ex.Events[1].Deliveries; len(d) != 1 || d[0].Status != "pending" || d[0].IntegrationID == "" {
				t.Fatalf("m2 deliveries = %+v", d)
			}
			var er struct{ Erased store.EraseResult }
			if code := b.call(t, "POST", "/v1/admin/contacts/erase", tt.body, &er); code != 200 {
				t.Fatalf("erase = %d", code)
			}
			if er.Erased != (store.EraseResult{Profiles: 1, Events: 2, Deliveries: 1}) {
				t.Fatalf("erased = %+v, want 1 profile, 2 events, 1 delivery", er.Erased)
			}
			ex = exportAnswer{}
			b.call(t, "POST", "/v1/admin/contacts/export", tt.body, &ex)
			if len(ex.Profiles) != 0 || len(ex.Events) != 0 || ex.Profiles == nil || ex.Events == nil {
				t.Fatalf("export after erase = %+v, want empty lists", ex)
			}
			var audit struct{ Data []*signal.AuditEntry }
			b.call(t, "GET", "/v1/admin/audit-log", "", &audit)
			raw, _ := json.Marshal(audit)
			for _, id := range []string{"jane", "Jane", contactUser, contactAnon, "4155550199"} {
				if strings.Contains(string(raw), id) {
					t.Fatalf("audit log holds %q: %s", id, raw)
				}
			}
			if !strings.Contains(string(raw), "contact.erase") {
				t.Fatal("no contact.erase audit entry")
			}
		})
	}
}

func TestContactQueryErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, body, field string }{
		{"None", `{}`, "email"},
		{"Two", `{"email":"a@b.c","user_id":"u"}`, "email"},
		{"NotEmail", `{"email":"nope"}`, "email"},
		{"ShortPhone", `{"phone":"12"}`, "phone"},
		{"Unknown", `{"name":"Jane"}`, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			for _, path := range []string{"/v1/admin/contacts/export", "/v1/admin/contacts/erase"} {
				var e apiError
				if code := b.call(t, "POST", path, tt.body, &e); code != 400 || e.Error.Field != tt.field {
					t.Fatalf("%s %s = %d %+v, want 400 naming %s", path, tt.body, code, e.Error, tt.field)
				}
			}
		})
	}
}
