package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// Secrets a backend must never keep in clear; PlantSecrets writes each of
// them where it belongs: a signing secret, an integration's API key, an
// email in an event, a profile trait and a delivery payload, a vendor
// response, a processed event's traits and an attempt's vendor response.
var Secrets = []string{
	"whsec_SigningSecret_7f3a9c",
	"omni_ApiKey_5be0d41e",
	"jane.sealed@shop.example",
	"traits.sealed@shop.example",
	"vendor-response-d9e8f7",
	"processed.sealed@shop.example",
	"attempt-response-c4b3a2",
}

// PlantSecrets stores Secrets through every sealed path of s, then checks
// they read back (sealed, not lost). A backend's own test then searches its
// raw storage for them.
func PlantSecrets(t *testing.T, s store.Store) {
	t.Helper()
	signingSecret, apiKey, email, traitEmail, vendorResponse := Secrets[0], Secrets[1], Secrets[2], Secrets[3], Secrets[4]
	processedEmail, attemptResponse := Secrets[5], Secrets[6]
	ctx, now := t.Context(), time.Now().UTC()

	_, err := s.CreatePipeline(ctx, store.CreatePipelineParams{ID: "pip_1", Name: "Shop", Key: "dk_live_1", SigningSecret: signingSecret, Now: now})
	requireNoError(t, err)
	requireNoError(t, s.CreateIntegration(ctx, &signal.Integration{
		ID: "int_1", CatalogKey: "omnisend", Name: "Omnisend", Variant: "default", DeliveryMode: "server_side",
		Config: map[string]any{"api_key": apiKey}, Enabled: true, Status: signal.IntegrationActive, CreatedAt: now, UpdatedAt: now,
	}))
	payload, err := json.Marshal(map[string]any{"type": "identify", "userId": "u1", "traits": map[string]any{"email": email}})
	requireNoError(t, err)
	e := &signal.Event{MessageID: "m1", PipelineID: "pip_1", Type: signal.TypeIdentify, Timestamp: now, ReceivedAt: now, Payload: payload}
	requireNoError(t, s.AppendEvents(ctx, store.AppendEventsParams{Events: []*signal.Event{e}}))
	_, err = s.ResolveProfiles(ctx, store.ResolveProfilesParams{Now: now, Items: []store.ProfileUpdate{
		{Keys: []string{"u:hash1"}, Traits: map[string]any{"email": traitEmail}},
	}})
	requireNoError(t, err)
	d := &signal.Delivery{EventSeq: e.Seq, MessageID: "m1", PipelineID: "pip_1", IntegrationID: "int_1", Type: e.Type,
		Status: signal.StatusPending, Priority: signal.PriorityNormal, ContactKey: "c1", NextAttemptAt: now, ReceivedAt: now,
		Payload: json.RawMessage(`{"contact":{"email":"` + email + `"}}`)}
	processed := []byte(`{"user_id":"u1","traits":{"email":"` + processedEmail + `"}}`)
	requireNoError(t, s.RecordProcessed(ctx, store.RecordProcessedParams{UpToSeq: e.Seq, Deliveries: []*signal.Delivery{d}, Now: now,
		Processed: []store.ProcessedEvent{{EventSeq: e.Seq, Body: processed}}}))
	claimed, err := s.ClaimDeliveries(ctx, store.ClaimDeliveriesParams{IntegrationID: "int_1", Limit: 1, Now: now, LeaseUntil: now.Add(time.Minute)})
	requireNoError(t, err)
	if len(claimed) != 1 {
		t.Fatalf("claimed %d deliveries, want 1", len(claimed))
	}
	claimed[0].Status, claimed[0].VendorStatus, claimed[0].VendorResponse = signal.StatusFailed, 400, vendorResponse
	claimed[0].Attempt = &signal.Attempt{At: now, VendorStatus: 400, VendorResponse: attemptResponse}
	requireNoError(t, s.FinishDeliveries(ctx, store.FinishDeliveriesParams{Deliveries: claimed, Now: now}))

	det, err := s.GetLiveEvent(ctx, store.GetLiveEventParams{ID: store.LiveEventID(e.Seq, claimed[0].ID)})
	requireNoError(t, err)
	requireJSON(t, "Processed", det.Processed, processed)
	if len(det.Attempts) != 1 || det.Attempts[0].VendorResponse != attemptResponse {
		t.Fatalf("attempts read back as %+v", det.Attempts)
	}

	got, err := s.GetIntegration(ctx, "int_1")
	requireNoError(t, err)
	if got.ConfigString("api_key") != apiKey {
		t.Fatalf("api_key read back as %q", got.ConfigString("api_key"))
	}
}
