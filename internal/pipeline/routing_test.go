package pipeline

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

const identifyU1 = `{"type":"identify","messageId":"id-1","userId":"u1","traits":{"email":"r@example.com"}}`

// TestFilteredReasons: what one integration makes of an event that is not
// sent, and that a filtered row holds no payload (dry_run excepted).
func TestFilteredReasons(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       func(*signal.Integration)
		msg        string
		status     signal.DeliveryStatus
		reason     signal.Reason
		hasPayload bool
	}{
		{"track not in the blueprint", nil, `{"type":"track","event":"Cart Viewed","messageId":"m1","userId":"u1"}`,
			signal.StatusFiltered, signal.ReasonEventNotEnabled, false},
		{"a track named page is not a page view", nil, `{"type":"track","event":"page","messageId":"m1","userId":"u1","properties":{"url":"https://shop.example.com/"}}`,
			signal.StatusFiltered, signal.ReasonEventNotEnabled, false},
		{"a track named identify is not an identify", func(in *signal.Integration) { in.Blueprint.Defaults.Action = "forward" },
			`{"type":"track","event":"identify","messageId":"m1","userId":"u1"}`,
			signal.StatusFiltered, signal.ReasonEventNotEnabled, false},
		{"event names are case-sensitive", nil, `{"type":"track","event":"order completed","messageId":"m1","userId":"u1"}`,
			signal.StatusFiltered, signal.ReasonEventNotEnabled, false},
		{"identify", nil, `{"type":"identify","messageId":"m1","userId":"u1","traits":{"plan":"pro"}}`,
			signal.StatusFiltered, signal.ReasonUnsupportedType, false},
		{"group", nil, `{"type":"group","messageId":"m1","userId":"u1","groupId":"g1"}`,
			signal.StatusFiltered, signal.ReasonUnsupportedType, false},
		{"alias", nil, `{"type":"alias","messageId":"m1","userId":"u1","previousId":"old"}`,
			signal.StatusFiltered, signal.ReasonUnsupportedType, false},
		{"screen", nil, `{"type":"screen","name":"Home","messageId":"m1","userId":"u1"}`,
			signal.StatusFiltered, signal.ReasonUnsupportedType, false},
		{"disabled integration", func(in *signal.Integration) { in.Enabled = false },
			`{"type":"track","event":"Order Completed","messageId":"m1","userId":"u1",` + orderProps + `}`,
			signal.StatusFiltered, signal.ReasonIntegrationDisabled, false},
		{"disabled blueprint event", func(in *signal.Integration) {
			ev := in.Blueprint.Events["Order Completed"]
			ev.Enabled = false
			in.Blueprint.Events["Order Completed"] = ev
		}, `{"type":"track","event":"Order Completed","messageId":"m1","userId":"u1",` + orderProps + `}`,
			signal.StatusFiltered, signal.ReasonEventNotEnabled, false},
		{"dry run", withConfig(map[string]any{"dry_run": true}),
			`{"type":"track","event":"Order Completed","messageId":"m1","userId":"u1",` + orderProps + `}`,
			signal.StatusFiltered, signal.ReasonDryRun, true},
		{"dry run false sends", withConfig(map[string]any{"dry_run": false}),
			`{"type":"track","event":"Order Completed","messageId":"m1","userId":"u1",` + orderProps + `}`,
			signal.StatusPending, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var opts []func(*signal.Integration)
			if tt.opts != nil {
				opts = append(opts, tt.opts)
			}
			in := b.install(t, opts...)
			b.send(t, identifyU1, tt.msg)
			b.process(t)
			le := b.rowOf(t, "m1", in.ID)
			wantStatus(t, le, tt.status, tt.reason)
			if tt.reason != "" && le.ReasonText == "" {
				t.Fatalf("reason %s has no text", tt.reason)
			}
			if got := string(le.Payload) != "null"; got != tt.hasPayload {
				t.Fatalf("payload %s; want one: %v", le.Payload, tt.hasPayload)
			}
			if tt.hasPayload {
				if p := payloadOf(t, le); p.EventName != "placed order" || p.Contact["email"] != "r@example.com" {
					t.Fatalf("payload %s", le.Payload)
				}
			}
			if claimed := b.claimAll(t, in.ID); (len(claimed) == 1) != (tt.status == signal.StatusPending) {
				t.Fatalf("claimable %v with status %s", claimed, tt.status)
			}
		})
	}
}

// TestRouting: one row per integration that receives the event's pipeline,
// or a single no_integration row.
func TestRouting(t *testing.T) {
	t.Parallel()
	order := `{"type":"track","event":"Order Completed","messageId":"m1","userId":"u1",` + orderProps + `}`
	t.Run("no integrations", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.send(t, identifyU1, order)
		b.process(t)
		le := b.row(t, "m1")
		wantStatus(t, le, signal.StatusFiltered, signal.ReasonNoIntegration)
		if le.IntegrationID != "" {
			t.Fatalf("no_integration row names integration %q", le.IntegrationID)
		}
	})
	t.Run("only integration restricted to another pipeline", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.install(t, func(in *signal.Integration) { in.PipelineIDs = []string{pipB} })
		b.send(t, identifyU1, order)
		b.process(t)
		wantStatus(t, b.row(t, "m1"), signal.StatusFiltered, signal.ReasonNoIntegration)
	})
	t.Run("pipeline_ids", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		onlyB := b.install(t, func(in *signal.Integration) { in.PipelineIDs = []string{pipB} })
		all := b.install(t)
		both := b.install(t, func(in *signal.Integration) { in.PipelineIDs = []string{pipA, pipB} })
		b.send(t, identifyU1, order)
		b.sendTo(t, pipB, `{"type":"track","event":"Order Completed","messageId":"m2","userId":"u1",`+orderProps+`}`)
		b.process(t)
		rs := b.rows(t, "m1")
		if len(rs) != 2 {
			t.Fatalf("m1 on %s: %s, want rows for %s and %s only", pipA, describe(rs), all.ID, both.ID)
		}
		for _, le := range rs {
			if le.IntegrationID == onlyB.ID {
				t.Fatalf("m1 of %s reached %s, restricted to %s", pipA, onlyB.ID, pipB)
			}
			wantStatus(t, le, signal.StatusPending, "")
		}
		for _, in := range []*signal.Integration{onlyB, all, both} {
			wantStatus(t, b.rowOf(t, "m2", in.ID), signal.StatusPending, "")
		}
	})
	t.Run("each integration decides alone", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		on := b.install(t)
		off := b.install(t, func(in *signal.Integration) { in.Enabled = false })
		dry := b.install(t, withConfig(map[string]any{"dry_run": true}))
		b.send(t, identifyU1, order)
		b.process(t)
		wantStatus(t, b.rowOf(t, "m1", on.ID), signal.StatusPending, "")
		wantStatus(t, b.rowOf(t, "m1", off.ID), signal.StatusFiltered, signal.ReasonIntegrationDisabled)
		wantStatus(t, b.rowOf(t, "m1", dry.ID), signal.StatusFiltered, signal.ReasonDryRun)
	})
}

// TestBlueprintChange: a changed blueprint applies to events processed
// after the change, not to those already processed.
func TestBlueprintChange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.install(t)
	b.send(t, identifyU1,
		`{"type":"track","event":"Order Completed","messageId":"before","userId":"u1",`+orderProps+`}`,
		`{"type":"track","event":"Cart Viewed","messageId":"cart-before","userId":"u1","properties":{"cart_id":"c1"}}`)
	b.process(t)

	ev := in.Blueprint.Events["Order Completed"]
	ev.VendorEventName = "order placed v2"
	in.Blueprint.Events["Order Completed"] = ev
	in.Blueprint.Events["Cart Viewed"] = signal.BlueprintEvent{VendorEventName: "viewed cart", Enabled: true}
	delete(in.Blueprint.Events, "Signed Up")
	if err := b.db.UpdateIntegration(context.Background(), store.UpdateIntegrationParams{Integration: in}); err != nil {
		t.Fatal(err)
	}
	b.send(t,
		`{"type":"track","event":"Order Completed","messageId":"after","userId":"u1",`+orderProps+`}`,
		`{"type":"track","event":"Cart Viewed","messageId":"cart-after","userId":"u1","properties":{"cart_id":"c1","items":2}}`,
		`{"type":"track","event":"Signed Up","messageId":"signup-after","userId":"u1"}`)
	b.process(t)

	if le := b.row(t, "before"); le.VendorEventName != "placed order" || payloadOf(t, le).EventName != "placed order" {
		t.Fatalf("an event processed before the change was remapped: %s", le.Payload)
	}
	wantStatus(t, b.row(t, "cart-before"), signal.StatusFiltered, signal.ReasonEventNotEnabled)
	if le := b.row(t, "after"); le.VendorEventName != "order placed v2" || payloadOf(t, le).EventName != "order placed v2" {
		t.Fatalf("after the change: %s %s", le.VendorEventName, le.Payload)
	}
	le := b.row(t, "cart-after")
	wantStatus(t, le, signal.StatusPending, "")
	// An enabled event without mappings forwards its properties unchanged.
	if got := propertyOrder(t, le.Payload); len(got) != 3 || got[0] != "cart_id" || got[1] != "items" || got[2] != "marketing_consent" {
		t.Fatalf("forwarded properties %v in %s", got, le.Payload)
	}
	wantStatus(t, b.row(t, "signup-after"), signal.StatusFiltered, signal.ReasonEventNotEnabled)
}

// TestPriorityAndExpiry: the default blueprint's priorities, and max_age
// on browsing events.
func TestPriorityAndExpiry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.install(t)
	msgs := map[string]string{
		"order":   `"type":"track","event":"Order Completed",` + orderProps,
		"page":    `"type":"page","name":"Home"`,
		"viewed":  `"type":"track","event":"Product Viewed","properties":{"product_id":"SKU-1"}`,
		"checkou": `"type":"track","event":"Checkout Started","properties":{"value":1}`,
		"signup":  `"type":"track","event":"Signed Up"`,
		"added":   `"type":"track","event":"Product Added","properties":{"product_id":"SKU-1"}`,
	}
	for id, m := range msgs {
		// One visitor per event: a contact's deliveries are claimed one at a time.
		b.send(t, `{"messageId":"`+id+`","userId":"`+id+`","context":{"traits":{"email":"`+id+`@example.com"}},`+m+`}`)
	}
	b.process(t)
	want := map[string]struct {
		priority int
		maxAge   time.Duration
	}{
		"order": {signal.PriorityHigh, 0}, "checkou": {signal.PriorityHigh, 0},
		"page": {signal.PriorityLow, 24 * time.Hour}, "viewed": {signal.PriorityLow, 24 * time.Hour},
		"signup": {signal.PriorityNormal, 0}, "added": {signal.PriorityNormal, 0},
	}
	claimed := b.claimAll(t, in.ID)
	if len(claimed) != len(want) {
		t.Fatalf("claimed %d deliveries, want %d", len(claimed), len(want))
	}
	for id, w := range want {
		d := claimed[id]
		if d.Priority != w.priority {
			t.Errorf("%s: priority %d, want %d", id, d.Priority, w.priority)
		}
		if w.maxAge == 0 && !d.ExpiresAt.IsZero() {
			t.Errorf("%s: expires at %v, want no expiry", id, d.ExpiresAt)
		}
		if w.maxAge > 0 && !d.ExpiresAt.Equal(b.now.Add(w.maxAge)) {
			t.Errorf("%s: expires at %v, want received + %v = %v", id, d.ExpiresAt, w.maxAge, b.now.Add(w.maxAge))
		}
	}
}

// TestDuplicates: a message id seen again within the dedupe window is
// filtered duplicate, per integration.
func TestDuplicates(t *testing.T) {
	t.Parallel()
	order := `{"type":"track","event":"Order Completed","messageId":"dup","userId":"u1",` + orderProps + `}`
	for _, mode := range []string{"one pass", "two passes"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			one := b.install(t)
			two := b.install(t)
			b.send(t, identifyU1, order)
			if mode == "two passes" {
				b.process(t)
			}
			b.send(t, order)
			b.process(t)
			for _, in := range []*signal.Integration{one, two} {
				var got []string
				for _, le := range b.rows(t, "dup") {
					if le.IntegrationID == in.ID {
						got = append(got, string(le.Status)+"/"+string(le.Reason))
					}
				}
				// Newest first: the second copy is the duplicate.
				if len(got) != 2 || got[0] != "filtered/duplicate" || got[1] != "pending/" {
					t.Fatalf("%s: rows of the repeated message %v, want [filtered/duplicate pending/]", in.ID, got)
				}
				if n := len(b.claimAll(t, in.ID)); n != 1 {
					t.Fatalf("%s: %d claimable, want 1", in.ID, n)
				}
			}
		})
	}
	t.Run("a message filtered for want of an identifier may come again", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.install(t)
		b.send(t, order)
		b.process(t)
		b.send(t, identifyU1, order)
		b.process(t)
		rs := b.rows(t, "dup")
		if len(rs) != 2 || rs[0].Status != signal.StatusPending || rs[1].Reason != signal.ReasonNoIdentifier {
			t.Fatalf("rows %s, want the resent message pending", describe(rs))
		}
	})
}

// TestUnreadableEventDoesNotStopTheLog: a stored event that cannot be read
// back is recorded as failed with its reason; the events after it are
// processed.
func TestUnreadableEventDoesNotStopTheLog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.install(t)
	bad := &signal.Event{MessageID: "bad", PipelineID: pipA, Type: "track", Event: "Order Completed", Timestamp: b.now, ReceivedAt: b.now,
		Payload: json.RawMessage(`{"type":"track"} trailing`)}
	if err := b.db.AppendEvents(context.Background(), store.AppendEventsParams{Events: []*signal.Event{bad}}); err != nil {
		t.Fatal(err)
	}
	b.send(t, `{"type":"identify","messageId":"id","userId":"u","traits":{"email":"u@example.com"}}`,
		`{"type":"track","event":"Signed Up","messageId":"after","userId":"u"}`)
	b.process(t)
	if le := b.row(t, "bad"); le.Status != signal.StatusFailed || le.Reason != signal.ReasonUnreadableEvent || le.ReasonText == "" {
		t.Fatalf("unreadable event: %s/%s %q", le.Status, le.Reason, le.ReasonText)
	}
	if le := b.row(t, "after"); le.Status != signal.StatusPending {
		t.Fatalf("the event after it is %s/%s, want pending", le.Status, le.Reason)
	}
}
