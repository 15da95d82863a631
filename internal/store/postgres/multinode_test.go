package postgres_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/postgres"
	"github.com/signalhq/signal/internal/store/postgres/postgrestest"
	"github.com/signalhq/signal/internal/store/storetest"
)

// TestMultiNode runs several stores ("nodes") on one schema at once.
func TestMultiNode(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		ctx   context.Context
		nodes []*postgres.DB
		sql   *pgxpool.Pool // direct access, to check stored state
	}

	pg := postgrestest.NewDatabase(t)

	// setup opens n nodes on a new schema, all at once: they race to
	// apply the migrations.
	setup := func(t *testing.T, n int) *testBundle {
		t.Helper()
		url := pg.NewSchemaURL(t)
		bundle := &testBundle{ctx: t.Context(), nodes: make([]*postgres.DB, n)}
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				bundle.nodes[i], errs[i] = postgres.Open(t.Context(), postgres.Options{URL: url, Cipher: storetest.Cipher()})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("open node %d: %v", i, err)
			}
			t.Cleanup(func() { bundle.nodes[i].Close() })
		}
		var err error
		if bundle.sql, err = pgxpool.New(t.Context(), url); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(bundle.sql.Close)
		return bundle
	}

	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	newEvent := func(id string) *signal.Event {
		return &signal.Event{MessageID: id, PipelineID: "pip_1", Type: signal.TypeTrack, Event: "Order Completed",
			Timestamp: now, ReceivedAt: now, Payload: []byte(`{"messageId":"` + id + `"}`)}
	}

	t.Run("MigrateOnce", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t, 4)

		files, err := os.ReadDir("migration")
		requireNoError(t, err)
		var n int
		requireNoError(t, bundle.sql.QueryRow(bundle.ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n))
		if n != len(files) {
			t.Fatalf("schema_migrations has %d rows, want one per migration (%d)", n, len(files))
		}
	})

	// A reader following the log by seq, as the processor does, must see
	// every event however the nodes' commits interleave.
	t.Run("ReaderSeesEveryEvent", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t, 3)

		const writersPerNode, appends = 4, 25
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			appended []*signal.Event
		)
		for i, node := range bundle.nodes {
			for w := range writersPerNode {
				wg.Go(func() {
					for a := range appends {
						events := []*signal.Event{newEvent(fmt.Sprintf("n%d-w%d-a%d", i, w, a))}
						if a%3 == 0 {
							events = append(events, newEvent(fmt.Sprintf("n%d-w%d-a%d-b", i, w, a)))
						}
						if err := node.AppendEvents(bundle.ctx, store.AppendEventsParams{Events: events}); err != nil {
							t.Errorf("append: %v", err)
							return
						}
						mu.Lock()
						appended = append(appended, events...)
						mu.Unlock()
					}
				})
			}
		}
		writing := make(chan struct{})
		go func() { wg.Wait(); close(writing) }()

		seen := map[int64]string{}
		var cursor int64
		for done := false; !done; {
			select {
			case <-writing:
				done = true // one more pass reads what is left
			default:
			}
			for {
				page, err := bundle.nodes[0].ListEvents(bundle.ctx, store.ListEventsParams{AfterSeq: cursor, Limit: 1000})
				requireNoError(t, err)
				if len(page) == 0 {
					break
				}
				for _, e := range page {
					seen[e.Seq] = e.MessageID
				}
				cursor = page[len(page)-1].Seq
			}
		}
		for _, e := range appended {
			if seen[e.Seq] != e.MessageID {
				t.Fatalf("the reader skipped seq %d (%s): it committed after a higher seq was read", e.Seq, e.MessageID)
			}
		}
		if len(seen) != len(appended) {
			t.Fatalf("read %d events, appended %d", len(seen), len(appended))
		}
	})

	// Claimers on every node: no delivery leased twice, and a contact's
	// deliveries go one at a time, in order.
	t.Run("ClaimsKeepContactOrder", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t, 2)

		const contacts, perContact = 10, 3
		var events []*signal.Event
		for i := range contacts * perContact {
			events = append(events, newEvent(fmt.Sprintf("m%d", i)))
		}
		requireNoError(t, bundle.nodes[0].AppendEvents(bundle.ctx, store.AppendEventsParams{Events: events}))
		ds := make([]*signal.Delivery, len(events))
		for i, e := range events {
			ds[i] = &signal.Delivery{EventSeq: e.Seq, MessageID: e.MessageID, PipelineID: e.PipelineID, IntegrationID: "int_a",
				Type: e.Type, Event: e.Event, Status: signal.StatusPending, Priority: signal.PriorityNormal,
				ContactKey: fmt.Sprintf("c%d", i%contacts), NextAttemptAt: now, ReceivedAt: now}
		}
		requireNoError(t, bundle.nodes[0].RecordProcessed(bundle.ctx, store.RecordProcessedParams{UpToSeq: events[len(events)-1].Seq, Deliveries: ds, Now: now}))

		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			claimed  = map[int64]bool{}
			lastID   = map[string]int64{}
			finished int
		)
		for _, node := range bundle.nodes {
			for range 3 {
				wg.Go(func() {
					for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
						mu.Lock()
						all := finished == len(ds)
						mu.Unlock()
						if all {
							return
						}
						got, err := node.ClaimDeliveries(bundle.ctx, store.ClaimDeliveriesParams{IntegrationID: "int_a", Limit: 4, Now: now, LeaseUntil: now.Add(time.Hour)})
						if err != nil {
							t.Errorf("claim: %v", err)
							return
						}
						for _, d := range got {
							// Nothing older of its contact may be left pending.
							var older int
							if err := bundle.sql.QueryRow(bundle.ctx, `SELECT COUNT(*) FROM deliveries WHERE integration_id = 'int_a'
								AND contact_key = $1 AND status = 'pending' AND id < $2`, d.ContactKey, d.ID).Scan(&older); err != nil {
								t.Errorf("check: %v", err)
								return
							}
							if older != 0 {
								t.Errorf("contact %s: delivery %d claimed while %d older ones are pending", d.ContactKey, d.ID, older)
							}
						}
						mu.Lock()
						for _, d := range got {
							if claimed[d.ID] {
								t.Errorf("delivery %d claimed twice", d.ID)
							}
							if d.ID <= lastID[d.ContactKey] {
								t.Errorf("contact %s: delivery %d claimed after %d", d.ContactKey, d.ID, lastID[d.ContactKey])
							}
							claimed[d.ID], lastID[d.ContactKey] = true, d.ID
							d.Status, d.Attempts = signal.StatusDelivered, 1
						}
						mu.Unlock()
						if err := node.FinishDeliveries(bundle.ctx, store.FinishDeliveriesParams{Deliveries: got, Now: now}); err != nil {
							t.Errorf("finish: %v", err)
							return
						}
						mu.Lock()
						finished += len(got)
						mu.Unlock()
					}
					t.Errorf("deliveries still pending after 20s")
				})
			}
		}
		wg.Wait()
		if finished != len(ds) {
			t.Fatalf("finished %d deliveries, want %d", finished, len(ds))
		}
	})

	// Nodes resolving the same visitors at once end with one profile each.
	t.Run("ResolveProfilesConcurrently", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t, 2)

		const visitors = 20
		var wg sync.WaitGroup
		for n, node := range bundle.nodes {
			wg.Go(func() {
				for v := range visitors {
					items := []store.ProfileUpdate{
						{Keys: []string{fmt.Sprintf("a:%d", v)}, Traits: map[string]any{fmt.Sprintf("node%d", n): true}},
						{Keys: []string{fmt.Sprintf("u:%d", v), fmt.Sprintf("a:%d", v)}},
					}
					if n == 1 { // the other node meets the user id first
						items[0].Keys[0] = fmt.Sprintf("u:%d", v)
					}
					if _, err := node.ResolveProfiles(bundle.ctx, store.ResolveProfilesParams{Items: items, Now: now}); err != nil {
						t.Errorf("resolve: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()

		var profiles, keys, dangling int
		requireNoError(t, bundle.sql.QueryRow(bundle.ctx, `SELECT (SELECT COUNT(*) FROM profiles), (SELECT COUNT(*) FROM profile_keys),
			(SELECT COUNT(*) FROM profile_keys k WHERE NOT EXISTS (SELECT 1 FROM profiles p WHERE p.id = k.profile_id))`).Scan(&profiles, &keys, &dangling))
		if profiles != visitors || keys != 2*visitors || dangling != 0 {
			t.Fatalf("%d profiles, %d keys (%d dangling); want %d profiles, %d keys", profiles, keys, dangling, visitors, 2*visitors)
		}
		for v := range visitors {
			out, err := bundle.nodes[0].ResolveProfiles(bundle.ctx, store.ResolveProfilesParams{Now: now, Items: []store.ProfileUpdate{{Keys: []string{fmt.Sprintf("a:%d", v), fmt.Sprintf("u:%d", v)}}}})
			requireNoError(t, err)
			if len(out[0].Traits) != 2 {
				t.Fatalf("visitor %d: traits %v, want both nodes'", v, out[0].Traits)
			}
		}
	})
}
