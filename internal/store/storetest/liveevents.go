package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

func exerciseLiveEvents(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()

	type testBundle struct {
		ctx   context.Context
		now   time.Time
		store store.Store
	}

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		return &testBundle{ctx: t.Context(), now: testNow(), store: newStore(t)}
	}

	list := func(t *testing.T, bundle *testBundle, p store.ListLiveEventsParams) []*signal.LiveEvent {
		t.Helper()
		if p.Limit == 0 {
			p.Limit = 100
		}
		return liveEvents(bundle.ctx, t, bundle.store, p)
	}

	// rowKey names a row by its event's message id and its integration.
	rowKey := func(r *signal.LiveEvent) string { return r.MessageID + "/" + r.IntegrationID }

	t.Run("UnprocessedEventIsPending", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		e := appendEvents(bundle.ctx, t, bundle.store, newEvent(bundle.now))[0]
		rows := list(t, bundle, store.ListLiveEventsParams{})
		if len(rows) != 1 {
			t.Fatalf("live events = %d rows, want 1", len(rows))
		}
		r := rows[0]
		if r.ID != fmt.Sprintf("evt_%d", e.Seq) || r.Status != signal.StatusPending || r.IntegrationID != "" ||
			r.MessageID != e.MessageID || r.PipelineID != e.PipelineID || r.Type != e.Type || r.Event != e.Event {
			t.Fatalf("row = %+v, want a pending row evt_%d for %+v", r, e.Seq, e)
		}
		requireTime(t, "ReceivedAt", r.ReceivedAt, e.ReceivedAt)
		requireJSON(t, "Input", r.Input, e.Payload)
	})

	t.Run("NewestFirst", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		events := seedEvents(bundle.ctx, t, bundle.store, bundle.now, 3)
		rows := list(t, bundle, store.ListLiveEventsParams{})
		requireStrings(t, "rows", []string{rows[0].MessageID, rows[1].MessageID, rows[2].MessageID},
			[]string{events[2].MessageID, events[1].MessageID, events[0].MessageID})
	})

	t.Run("RowPerDelivery", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		events := seedEvents(bundle.ctx, t, bundle.store, bundle.now, 2)
		da, db := pendingDelivery(events[0], "int_a"), pendingDelivery(events[0], "int_b")
		da.Warnings = []signal.Warning{{Code: signal.WarningPropertyTypeChanged, Message: "property value was a number, now a string"}}
		db.Status, db.Reason, db.Note = signal.StatusFiltered, signal.ReasonNoIdentifier, "no email"
		db.Payload = nil
		recordProcessed(bundle.ctx, t, bundle.store, bundle.now, da, db)

		rows := list(t, bundle, store.ListLiveEventsParams{})
		got := map[string]*signal.LiveEvent{}
		ids := map[string]bool{}
		for _, r := range rows {
			got[rowKey(r)] = r
			if ids[r.ID] {
				t.Fatalf("two rows with id %s", r.ID)
			}
			ids[r.ID] = true
		}
		if len(rows) != 3 || got[events[1].MessageID+"/"] == nil {
			t.Fatalf("rows %v: want one per delivery of the first event and the unprocessed second", keys(got))
		}
		for _, d := range []*signal.Delivery{da, db} {
			r := got[d.MessageID+"/"+d.IntegrationID]
			if r == nil {
				t.Fatalf("no row for %s on %s (rows %v)", d.MessageID, d.IntegrationID, keys(got))
			}
			if r.Status != d.Status || r.Reason != d.Reason || r.Note != d.Note || r.VendorEventName != d.VendorEventName ||
				r.ReasonText != signal.ReasonText(d.Reason) || strings.HasPrefix(r.ID, "evt_") {
				t.Fatalf("row %+v, want delivery %+v", r, d)
			}
			// Input is the event as received; Payload what was built for the vendor.
			requireJSON(t, "Input", r.Input, events[0].Payload)
		}
		requireJSON(t, "Payload", got[da.MessageID+"/int_a"].Payload, da.Payload)
		requireSameJSON(t, "Warnings", got[da.MessageID+"/int_a"].Warnings, da.Warnings)
		if w := got[db.MessageID+"/int_b"].Warnings; w != nil {
			t.Fatalf("row without warnings shows %+v", w)
		}
	})

	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		// e0: track Order Completed on pip_1, delivered to int_a, failed on int_b.
		// e1: page Home on pip_2, pending on int_a.
		// e2: identify on pip_1, not processed yet.
		e0, e1, e2 := newEvent(bundle.now), newEvent(bundle.now), newEvent(bundle.now)
		e1.PipelineID, e1.Type, e1.Event = "pip_2", signal.TypePage, "Home"
		e2.Type, e2.Event = signal.TypeIdentify, ""
		appendEvents(bundle.ctx, t, bundle.store, e0, e1, e2)
		d0a, d0b, d1a := pendingDelivery(e0, "int_a"), pendingDelivery(e0, "int_b"), pendingDelivery(e1, "int_a")
		d0a.Status = signal.StatusDelivered
		d0b.Status, d0b.Reason = signal.StatusFailed, signal.ReasonVendorRejected
		d1a.NextAttemptAt = bundle.now.Add(time.Hour)
		requireNoError(t, bundle.store.RecordProcessed(bundle.ctx, store.RecordProcessedParams{
			UpToSeq: e1.Seq, Deliveries: []*signal.Delivery{d0a, d0b, d1a}, Now: bundle.now,
		}))

		k := func(e *signal.Event, integrationID string) string { return e.MessageID + "/" + integrationID }
		for _, tt := range []struct {
			name string
			p    store.ListLiveEventsParams
			want []string
		}{
			{"None", store.ListLiveEventsParams{}, []string{k(e2, ""), k(e1, "int_a"), k(e0, "int_a"), k(e0, "int_b")}},
			{"Integration", store.ListLiveEventsParams{IntegrationID: "int_a"}, []string{k(e1, "int_a"), k(e0, "int_a")}},
			{"Pipeline", store.ListLiveEventsParams{PipelineID: "pip_2"}, []string{k(e1, "int_a")}},
			{"StatusDelivered", store.ListLiveEventsParams{Status: signal.StatusDelivered}, []string{k(e0, "int_a")}},
			{"StatusFailed", store.ListLiveEventsParams{Status: signal.StatusFailed}, []string{k(e0, "int_b")}},
			{"StatusPending", store.ListLiveEventsParams{Status: signal.StatusPending}, []string{k(e2, ""), k(e1, "int_a")}},
			{"Type", store.ListLiveEventsParams{Type: signal.TypePage}, []string{k(e1, "int_a")}},
			{"Event", store.ListLiveEventsParams{Event: "Order Completed"}, []string{k(e0, "int_a"), k(e0, "int_b")}},
			{"Combined", store.ListLiveEventsParams{PipelineID: "pip_1", IntegrationID: "int_b", Type: signal.TypeTrack}, []string{k(e0, "int_b")}},
			{"NoMatch", store.ListLiveEventsParams{Event: "Signed Up"}, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()

				var got []string
				for _, r := range list(t, bundle, tt.p) {
					got = append(got, rowKey(r))
				}
				// Rows of one event may come in any order; events newest first.
				requireStrings(t, "rows", sortWithinEvent(got), sortWithinEvent(tt.want))
			})
		}
	})

	t.Run("Paging", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		// 7 events: some with two deliveries, some with one, two unprocessed.
		events := seedEvents(bundle.ctx, t, bundle.store, bundle.now, 7)
		var ds []*signal.Delivery
		for i, e := range events[:5] {
			ds = append(ds, pendingDelivery(e, "int_a"))
			if i%2 == 0 {
				ds = append(ds, pendingDelivery(e, "int_b"))
			}
		}
		recordProcessed(bundle.ctx, t, bundle.store, bundle.now, ds...)
		all := list(t, bundle, store.ListLiveEventsParams{Limit: 100})
		if len(all) != len(ds)+2 {
			t.Fatalf("live events = %d rows, want %d", len(all), len(ds)+2)
		}

		allA := list(t, bundle, store.ListLiveEventsParams{IntegrationID: "int_a", Limit: 100})
		for _, tt := range []struct {
			limit         int
			integrationID string
			all           []*signal.LiveEvent
		}{
			{1, "", all}, {2, "", all}, {3, "", all}, {4, "", all}, {5, "", all}, {len(all) - 1, "", all}, {len(all), "", all},
			{2, "int_a", allA},
		} {
			limit, all := tt.limit, tt.all
			t.Run(fmt.Sprintf("Limit%d%s", limit, tt.integrationID), func(t *testing.T) {
				t.Parallel()

				var (
					got    []*signal.LiveEvent
					cursor string
					pages  int
				)
				for {
					page, next, err := bundle.store.ListLiveEvents(bundle.ctx, store.ListLiveEventsParams{IntegrationID: tt.integrationID, Limit: limit, Cursor: cursor})
					requireNoError(t, err)
					if len(page) > limit {
						t.Fatalf("page of %d rows, limit %d", len(page), limit)
					}
					got = append(got, page...)
					pages++
					if next == "" {
						break
					}
					if pages > len(all)+1 {
						t.Fatal("paging never ends")
					}
					cursor = next
				}
				if limit < len(all) && pages < 2 {
					t.Fatalf("%d rows in one page of limit %d", len(all), limit)
				}
				if len(got) != len(all) {
					t.Fatalf("paged %d rows, want %d", len(got), len(all))
				}
				for i := range all {
					if got[i].ID != all[i].ID {
						t.Fatalf("row %d: %s, want %s", i, got[i].ID, all[i].ID)
					}
				}
			})
		}
	})

	t.Run("BadCursor", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		seedEvents(bundle.ctx, t, bundle.store, bundle.now, 1)
		for _, cursor := range []string{"not-a-cursor", "%%%", "12.x.y"} {
			_, _, err := bundle.store.ListLiveEvents(bundle.ctx, store.ListLiveEventsParams{Cursor: cursor, Limit: 10})
			requireCode(t, err, signal.EINVALID)
		}
	})

	t.Run("Paused", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		paused := newIntegration("int_paused", bundle.now)
		paused.Status, paused.StatusReason = signal.IntegrationPaused, signal.ReasonAuthFailed
		disabled := newIntegration("int_disabled", bundle.now)
		disabled.Enabled = false
		for _, in := range []*signal.Integration{paused, disabled, newIntegration("int_active", bundle.now)} {
			requireNoError(t, bundle.store.CreateIntegration(bundle.ctx, store.CreateIntegrationParams{Integration: in}))
		}
		events := seedEvents(bundle.ctx, t, bundle.store, bundle.now, 2)
		delivered := pendingDelivery(events[0], "int_paused")
		delivered.Status = signal.StatusDelivered
		recordProcessed(bundle.ctx, t, bundle.store, bundle.now, delivered, pendingDelivery(events[1], "int_paused"),
			pendingDelivery(events[1], "int_disabled"), pendingDelivery(events[1], "int_active"))

		status := map[string]signal.DeliveryStatus{}
		for _, r := range list(t, bundle, store.ListLiveEventsParams{}) {
			status[rowKey(r)] = r.Status
		}
		for key, want := range map[string]signal.DeliveryStatus{
			events[0].MessageID + "/int_paused":   signal.StatusDelivered,
			events[1].MessageID + "/int_paused":   signal.StatusPaused,
			events[1].MessageID + "/int_disabled": signal.StatusPaused,
			events[1].MessageID + "/int_active":   signal.StatusPending,
		} {
			if status[key] != want {
				t.Fatalf("%s shows %q, want %q", key, status[key], want)
			}
		}

		for _, tt := range []struct {
			status signal.DeliveryStatus
			want   []string
		}{
			{signal.StatusPaused, []string{"int_disabled", "int_paused"}},
			{signal.StatusPending, []string{"int_active"}},
		} {
			var got []string
			for _, r := range list(t, bundle, store.ListLiveEventsParams{Status: tt.status}) {
				got = append(got, r.IntegrationID)
			}
			sort.Strings(got)
			requireStrings(t, "status "+string(tt.status), got, tt.want)
		}
	})

	t.Run("PayloadOfUnsentDelivery", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		e := seedEvents(bundle.ctx, t, bundle.store, bundle.now, 1)[0]
		d := pendingDelivery(e, "int_a")
		d.Payload = json.RawMessage(`{"eventName":"placed order","properties":{"value":12.5}}`)
		recordProcessed(bundle.ctx, t, bundle.store, bundle.now, d)
		rows := list(t, bundle, store.ListLiveEventsParams{IntegrationID: "int_a"})
		if len(rows) != 1 {
			t.Fatalf("live events = %d rows, want 1", len(rows))
		}
		requireJSON(t, "Payload", rows[0].Payload, d.Payload)
		requireJSON(t, "Input", rows[0].Input, e.Payload)
	})
}

// sortWithinEvent sorts "message/integration" keys by integration within
// runs of one message, keeping the order of messages.
func sortWithinEvent(keys []string) []string {
	out := append([]string(nil), keys...)
	msg := func(k string) string { m, _, _ := strings.Cut(k, "/"); return m }
	for i := 0; i < len(out); {
		j := i + 1
		for j < len(out) && msg(out[j]) == msg(out[i]) {
			j++
		}
		sort.Strings(out[i:j])
		i = j
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
