package pipeline

import (
	"context"
	"testing"

	"github.com/signalhq/signal/internal/integration/omnisend"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// TestBackfillEventsGoToTheirIntegrationOnly: an event logged under a
// backfill's id is built for the backfill's integration alone (not for
// another that takes every pipeline), marked with the backfill, through
// identity like a live event; a backfill unknown to the store (or whose
// integration is gone) ends filtered, integration_deleted, still marked.
func TestBackfillEventsGoToTheirIntegrationOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	target, other := b.install(t), b.install(t)
	if err := b.db.CreateBackfill(context.Background(), store.CreateBackfillParams{ID: "bf_hist", IntegrationID: target.ID, Now: b.now}); err != nil {
		t.Fatal(err)
	}
	// The shopper's email comes from a live identify; the history line
	// carries only the user id.
	b.send(t, identifyU1)
	b.sendAs(t, "bf_hist", signal.TrustServer, `{"type":"track","event":"Order Completed","messageId":"h1","userId":"u1",`+orderProps+`}`)
	b.sendAs(t, "bf_gone", signal.TrustServer, `{"type":"track","event":"Order Completed","messageId":"h2","userId":"u1",`+orderProps+`}`)
	b.process(t)

	rows := b.rows(t, "h1")
	if len(rows) != 1 || rows[0].IntegrationID != target.ID || rows[0].PipelineID != "bf_hist" {
		t.Fatalf("rows of the backfilled order = %s, want one, to %s", describe(rows), target.ID)
	}
	wantStatus(t, rows[0], signal.StatusPending, "")
	if p := payloadOf(t, rows[0]); p.EventName != "placed order" || p.Contact["email"] != "r@example.com" {
		t.Fatalf("payload %s", rows[0].Payload)
	}
	// Marked: the live claim of neither integration takes it.
	if c := b.claimAll(t, target.ID); len(c) != 0 {
		t.Fatalf("live claim took backfill rows: %v", c)
	}
	if c := b.claimAll(t, other.ID); len(c) != 0 {
		t.Fatalf("the other integration got the backfill row: %v", c)
	}
	ds, err := b.db.ClaimBackfillDeliveries(context.Background(), store.ClaimBackfillParams{BackfillID: "bf_hist", Limit: 10, Now: b.now, LeaseUntil: b.now.Add(60e9)})
	if err != nil || len(ds) != 1 || ds[0].MessageID != "h1" {
		t.Fatalf("backfill claim = %v, %v", ds, err)
	}

	gone := b.rows(t, "h2")
	if len(gone) != 1 {
		t.Fatalf("rows of an unknown backfill's event = %s", describe(gone))
	}
	wantStatus(t, gone[0], signal.StatusFiltered, signal.ReasonIntegrationDeleted)
}

// TestBackfillHistoryFillsOnlyMissingTraits: a backfill's old identify does
// not replace the live profile's email, only fills a key it lacks, at the
// lowest trust (a later browser call corrects it); the consent it states
// is not remembered for later events. An erased line ends filtered.
func TestBackfillHistoryFillsOnlyMissingTraits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	target := b.install(t)
	if err := b.db.CreateBackfill(context.Background(), store.CreateBackfillParams{ID: "bf_old", IntegrationID: target.ID, Now: b.now}); err != nil {
		t.Fatal(err)
	}
	b.send(t, identifyU1) // live: r@example.com
	b.process(t)
	b.sendAs(t, "bf_old", signal.TrustServer,
		`{"type":"identify","messageId":"h1","userId":"u1","traits":{"email":"old@example.com","firstName":"Ann"},`+
			`"context":{"consent":{"canonical":{"marketing":true}}}}`,
		`{}`)
	b.process(t)
	erased := 0
	all, _, err := b.db.ListLiveEvents(context.Background(), store.ListLiveEventsParams{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, le := range all {
		if le.PipelineID == "bf_old" && le.Status == signal.StatusFiltered && le.Reason == signal.ReasonContactErased {
			erased++
		}
	}
	if erased != 1 {
		t.Fatalf("%d erased backfill lines filtered contact_erased, want 1: %s", erased, describe(all))
	}

	order := func(id string) map[string]string {
		t.Helper()
		b.sendAs(t, pipA, signal.TrustServer, `{"type":"track","event":"Order Completed","messageId":"`+id+`","userId":"u1",`+orderProps+`}`)
		b.process(t)
		p := payloadOf(t, b.row(t, id))
		if got := p.Properties["marketing_consent"]; got != omnisend.ConsentNonSubscribed {
			t.Fatalf("marketing_consent %v after a history line stated consent, want %s", got, omnisend.ConsentNonSubscribed)
		}
		return p.Contact
	}
	if c := order("m1"); c["email"] != "r@example.com" || c["firstName"] != "Ann" {
		t.Fatalf("contact after history = %v, want the live email and the history's first name", c)
	}
	b.send(t, `{"type":"identify","messageId":"id-2","userId":"u1","traits":{"firstName":"Anna"}}`)
	b.process(t)
	if c := order("m2"); c["firstName"] != "Anna" {
		t.Fatalf("contact after a browser correction = %v, want firstName Anna", c)
	}
}
