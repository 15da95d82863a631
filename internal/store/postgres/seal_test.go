package postgres_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/postgres"
	"github.com/signalhq/signal/internal/store/postgres/postgrestest"
	"github.com/signalhq/signal/internal/store/storetest"
)

// TestSealsSensitiveColumns writes secrets and personal data through every
// sealed column and checks that no column of any table holds them in clear.
func TestSealsSensitiveColumns(t *testing.T) {
	t.Parallel()

	const (
		signingSecret  = "whsec_SigningSecret_7f3a9c"
		apiKey         = "omni_ApiKey_5be0d41e"
		email          = "jane.sealed@shop.example"
		traitEmail     = "traits.sealed@shop.example"
		vendorResponse = "vendor-response-d9e8f7"
	)

	type testBundle struct {
		db  *postgres.DB
		sql *pgxpool.Pool
	}

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		url := postgrestest.NewDatabase(t).SchemaURL(t)
		db, err := postgres.Open(t.Context(), postgres.Options{URL: url, Cipher: storetest.Cipher()})
		requireNoError(t, err)
		t.Cleanup(func() { db.Close() })
		pool, err := pgxpool.New(t.Context(), url)
		requireNoError(t, err)
		t.Cleanup(pool.Close)
		return &testBundle{db: db, sql: pool}
	}

	bundle := setup(t)
	ctx, now := t.Context(), time.Now().UTC()

	_, err := bundle.db.CreatePipeline(ctx, store.CreatePipelineParams{ID: "pip_1", Name: "Shop", Key: "dk_live_1", SigningSecret: signingSecret, Now: now})
	requireNoError(t, err)
	requireNoError(t, bundle.db.CreateIntegration(ctx, &signal.Integration{
		ID: "int_1", CatalogKey: "omnisend", Name: "Omnisend", Variant: "default", DeliveryMode: "server_side",
		Config: map[string]any{"api_key": apiKey}, Enabled: true, Status: signal.IntegrationActive, CreatedAt: now, UpdatedAt: now,
	}))
	payload, err := json.Marshal(map[string]any{"type": "identify", "userId": "u1", "traits": map[string]any{"email": email}})
	requireNoError(t, err)
	e := &signal.Event{MessageID: "m1", PipelineID: "pip_1", Type: signal.TypeIdentify, Timestamp: now, ReceivedAt: now, Payload: payload}
	requireNoError(t, bundle.db.AppendEvents(ctx, store.AppendEventsParams{Events: []*signal.Event{e}}))
	_, err = bundle.db.ResolveProfiles(ctx, store.ResolveProfilesParams{Now: now, Items: []store.ProfileUpdate{
		{Keys: []string{"u:hash1"}, Traits: map[string]any{"email": traitEmail}},
	}})
	requireNoError(t, err)
	d := &signal.Delivery{EventSeq: e.Seq, MessageID: "m1", PipelineID: "pip_1", IntegrationID: "int_1", Type: e.Type,
		Status: signal.StatusPending, Priority: signal.PriorityNormal, ContactKey: "c1", NextAttemptAt: now, ReceivedAt: now,
		Payload: json.RawMessage(`{"contact":{"email":"` + email + `"}}`)}
	requireNoError(t, bundle.db.RecordProcessed(ctx, store.RecordProcessedParams{UpToSeq: e.Seq, Deliveries: []*signal.Delivery{d}, Now: now}))
	claimed, err := bundle.db.ClaimDeliveries(ctx, store.ClaimDeliveriesParams{IntegrationID: "int_1", Limit: 1, Now: now, LeaseUntil: now.Add(time.Minute)})
	requireNoError(t, err)
	if len(claimed) != 1 {
		t.Fatalf("claimed %d deliveries, want 1", len(claimed))
	}
	claimed[0].Status, claimed[0].VendorStatus, claimed[0].VendorResponse = signal.StatusFailed, 400, vendorResponse
	requireNoError(t, bundle.db.FinishDeliveries(ctx, store.FinishDeliveriesParams{Deliveries: claimed, Now: now}))

	// The values read back: they were sealed, not lost.
	got, err := bundle.db.GetIntegration(ctx, "int_1")
	requireNoError(t, err)
	if got.ConfigString("api_key") != apiKey {
		t.Fatalf("api_key read back as %q", got.ConfigString("api_key"))
	}

	// Every column of every table of the schema, bytea as raw bytes.
	rows, err := bundle.sql.Query(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`)
	requireNoError(t, err)
	type column struct{ table, name, typ string }
	columns, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (column, error) {
		var c column
		return c, row.Scan(&c.table, &c.name, &c.typ)
	})
	requireNoError(t, err)
	if len(columns) < 40 {
		t.Fatalf("found %d columns: is search_path set?", len(columns))
	}
	for _, c := range columns {
		expr := pgx.Identifier{c.name}.Sanitize()
		if c.typ != "bytea" {
			expr += "::text"
		}
		rows, err := bundle.sql.Query(ctx, `SELECT `+expr+` FROM `+pgx.Identifier{c.table}.Sanitize())
		requireNoError(t, err)
		values, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		requireNoError(t, err)
		for _, v := range values {
			for _, secret := range []string{signingSecret, apiKey, email, traitEmail, vendorResponse} {
				if bytes.Contains(v, []byte(secret)) {
					t.Errorf("%s.%s holds %q in clear", c.table, c.name, secret)
				}
			}
		}
	}
}

func requireNoError(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}
