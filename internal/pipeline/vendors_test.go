package pipeline

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/integration/klaviyo"
	"github.com/signalhq/signal/internal/integration/omnisend"
	"github.com/signalhq/signal/internal/signal"
)

// withKlaviyo makes b's processor know Klaviyo beside Omnisend and installs
// one Klaviyo integration with its default blueprint.
func withKlaviyo(t *testing.T, b *testBundle) *signal.Integration {
	t.Helper()
	vendors := integration.NewRegistry()
	vendors.Register(omnisend.New(omnisend.Options{BaseURL: "http://127.0.0.1:1"}))
	vendors.Register(klaviyo.New(klaviyo.Options{BaseURL: "http://127.0.0.1:1"}))
	b.proc = New(Config{Batch: 100}, Deps{Store: b.db, Hasher: b.box, Vendors: vendors, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return b.now }})
	return b.install(t, func(in *signal.Integration) {
		in.CatalogKey, in.Name, in.Blueprint = klaviyo.Key, "Klaviyo", klaviyo.DefaultBlueprint()
	})
}

// TestVendorRulesDecide: the call types and identifier rule are each
// vendor's: one event fans out to both integrations, and each applies its
// own rules (Omnisend takes no identify and needs an email or phone;
// Klaviyo takes identify and an external id alone).
func TestVendorRulesDecide(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		msg        string
		omniStatus signal.DeliveryStatus
		omniWhy    signal.Reason
		klavStatus signal.DeliveryStatus
		klavName   string
	}{
		{"identify", `{"type":"identify","messageId":"m1","userId":"u1","traits":{"email":"a@example.com","plan":"gold"}}`,
			signal.StatusFiltered, signal.ReasonUnsupportedType, signal.StatusPending, klaviyo.ProfileImportName},
		{"order with only a user id", `{"type":"track","event":"Order Completed","messageId":"m1","userId":"u2","properties":{"order_id":"O1","revenue":5}}`,
			signal.StatusFiltered, signal.ReasonNoIdentifier, signal.StatusPending, "Placed Order"},
		{"order with an email", `{"type":"track","event":"Order Completed","messageId":"m1","userId":"u3","context":{"traits":{"email":"c@example.com"}},"properties":{"order_id":"O1"}}`,
			signal.StatusPending, "", signal.StatusPending, "Placed Order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			omni := b.install(t)
			klav := withKlaviyo(t, b)
			b.send(t, tt.msg)
			b.process(t)
			o, k := b.rowOf(t, "m1", omni.ID), b.rowOf(t, "m1", klav.ID)
			wantStatus(t, o, tt.omniStatus, tt.omniWhy)
			wantStatus(t, k, tt.klavStatus, "")
			if k.VendorEventName != tt.klavName {
				t.Fatalf("Klaviyo row names %q, want %q", k.VendorEventName, tt.klavName)
			}
			if tt.omniStatus == signal.StatusPending && !strings.Contains(string(o.Payload), `"marketing_consent":"nonSubscribed"`) {
				t.Fatalf("Omnisend payload lacks its consent property: %s", o.Payload)
			}
			if strings.Contains(string(k.Payload), "marketing_consent") {
				t.Fatalf("Klaviyo payload carries Omnisend's consent property: %s", k.Payload)
			}
		})
	}
}

// TestDryRunIsTheIntegrations: config.dry_run (as older installs set it)
// holds any vendor's deliveries as dry_run with their payload built.
func TestDryRunIsTheIntegrations(t *testing.T) {
	t.Parallel()
	b := setup(t)
	withKlaviyo(t, b)
	klav := b.install(t, func(in *signal.Integration) {
		in.CatalogKey, in.Blueprint = klaviyo.Key, klaviyo.DefaultBlueprint()
		in.Config[signal.ConfigDryRun] = true
	})
	b.send(t, `{"type":"track","event":"Order Completed","messageId":"m1","userId":"u1","properties":{"order_id":"O1"}}`)
	b.process(t)
	le := b.rowOf(t, "m1", klav.ID)
	wantStatus(t, le, signal.StatusFiltered, signal.ReasonDryRun)
	if len(le.Payload) == 0 {
		t.Fatal("dry run built no payload")
	}
}
