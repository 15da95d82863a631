package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

func exerciseIntegrations(t *testing.T, newStore func(t *testing.T) store.Store) {
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

	// full returns an integration with every field set, config and
	// blueprint nested (numbers are float64, as JSON gives them back).
	full := func(id string, now time.Time) *signal.Integration {
		in := newIntegration(id, now)
		in.Config = map[string]any{
			"api_key":              "omni-key-" + id,
			"default_phone_region": "FR",
			"dry_run":              true,
			"send_consent":         false,
			"batch":                map[string]any{"size": float64(50), "labels": []any{"a", "b"}, "nested": map[string]any{"on": true}},
		}
		in.Status, in.StatusReason = signal.IntegrationPaused, signal.ReasonAuthFailed
		in.PipelineIDs = []string{"pip_1", "pip_2"}
		in.Blueprint = signal.Blueprint{
			Version:  2,
			Defaults: signal.BlueprintDefaults{Action: "forward"},
			Events: map[string]signal.BlueprintEvent{
				"Order Completed": {VendorEventName: "placed order", Enabled: true, Priority: "high", MaxAge: "6h",
					Mappings: []signal.Mapping{
						{Source: "properties.order_id", Target: "orderID"},
						{Source: "properties.revenue", Else: signal.Paths{"properties.total", "properties.value"}, Target: "value"},
					}},
				"page": {VendorEventName: "page viewed", Enabled: false},
			},
		}
		in.UpdatedAt = now.Add(time.Second)
		return in
	}

	// requireIntegration compares as JSON; no pipeline ids may come back as
	// nil or empty.
	requireIntegration := func(t *testing.T, name string, got, want *signal.Integration) {
		t.Helper()
		norm := func(in *signal.Integration) signal.Integration {
			c := *in
			if len(c.PipelineIDs) == 0 {
				c.PipelineIDs = nil
			}
			return c
		}
		requireSameJSON(t, name, norm(got), norm(want))
	}

	get := func(t *testing.T, bundle *testBundle, id string) *signal.Integration {
		t.Helper()
		got, err := bundle.store.GetIntegration(bundle.ctx, store.GetIntegrationParams{ID: id})
		requireNoError(t, err)
		return got
	}

	t.Run("CreateAndGet", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		in := full("int_1", bundle.now)
		requireNoError(t, bundle.store.CreateIntegration(bundle.ctx, store.CreateIntegrationParams{Integration: in}))
		requireIntegration(t, "GetIntegration", get(t, bundle, "int_1"), full("int_1", bundle.now))
	})

	t.Run("EmptyPipelineIDsAndConfig", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		in := newIntegration("int_1", bundle.now)
		in.PipelineIDs, in.Config = nil, map[string]any{}
		requireNoError(t, bundle.store.CreateIntegration(bundle.ctx, store.CreateIntegrationParams{Integration: in}))
		got := get(t, bundle, "int_1")
		if len(got.PipelineIDs) != 0 || len(got.Config) != 0 || !got.Enabled || got.Status != signal.IntegrationActive {
			t.Fatalf("GetIntegration = %+v, want no pipeline ids, empty config, enabled and active", got)
		}
	})

	t.Run("GetNotFound", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		_, err := bundle.store.GetIntegration(bundle.ctx, store.GetIntegrationParams{ID: "int_missing"})
		requireCode(t, err, signal.ENOTFOUND)
	})

	t.Run("CreateConflict", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		requireNoError(t, bundle.store.CreateIntegration(bundle.ctx, store.CreateIntegrationParams{Integration: newIntegration("int_1", bundle.now)}))
		other := newIntegration("int_1", bundle.now)
		other.Name = "Other"
		requireCode(t, bundle.store.CreateIntegration(bundle.ctx, store.CreateIntegrationParams{Integration: other}), signal.ECONFLICT)
		if got := get(t, bundle, "int_1"); got.Name != "Omnisend int_1" {
			t.Fatalf("after the conflict, Name = %q", got.Name)
		}
	})

	t.Run("UpdateWritesEveryField", func(t *testing.T) {
		t.Parallel()

		for _, tt := range []struct {
			name     string
			from, to func(now time.Time) *signal.Integration
		}{
			{"PlainToFull", func(now time.Time) *signal.Integration { return newIntegration("int_1", now) },
				func(now time.Time) *signal.Integration { return full("int_1", now) }},
			{"FullToPlain", func(now time.Time) *signal.Integration { return full("int_1", now) },
				func(now time.Time) *signal.Integration {
					in := newIntegration("int_1", now)
					in.Enabled, in.PipelineIDs = false, []string{"pip_9"}
					in.UpdatedAt = now.Add(time.Hour)
					return in
				}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)

				requireNoError(t, bundle.store.CreateIntegration(bundle.ctx, store.CreateIntegrationParams{Integration: tt.from(bundle.now)}))
				requireNoError(t, bundle.store.CreateIntegration(bundle.ctx, store.CreateIntegrationParams{Integration: newIntegration("int_2", bundle.now)}))
				requireNoError(t, bundle.store.UpdateIntegration(bundle.ctx, store.UpdateIntegrationParams{Integration: tt.to(bundle.now)}))
				requireIntegration(t, "after update", get(t, bundle, "int_1"), tt.to(bundle.now))
				requireIntegration(t, "other integration", get(t, bundle, "int_2"), newIntegration("int_2", bundle.now))
			})
		}
	})

	t.Run("UpdateNotFound", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		requireCode(t, bundle.store.UpdateIntegration(bundle.ctx, store.UpdateIntegrationParams{Integration: newIntegration("int_missing", bundle.now)}), signal.ENOTFOUND)
		_, err := bundle.store.GetIntegration(bundle.ctx, store.GetIntegrationParams{ID: "int_missing"})
		requireCode(t, err, signal.ENOTFOUND)
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		requireNoError(t, bundle.store.CreateIntegration(bundle.ctx, store.CreateIntegrationParams{Integration: newIntegration("int_1", bundle.now)}))
		requireNoError(t, bundle.store.CreateIntegration(bundle.ctx, store.CreateIntegrationParams{Integration: newIntegration("int_2", bundle.now)}))
		requireNoError(t, bundle.store.DeleteIntegration(bundle.ctx, store.DeleteIntegrationParams{ID: "int_1"}))
		_, err := bundle.store.GetIntegration(bundle.ctx, store.GetIntegrationParams{ID: "int_1"})
		requireCode(t, err, signal.ENOTFOUND)
		requireCode(t, bundle.store.DeleteIntegration(bundle.ctx, store.DeleteIntegrationParams{ID: "int_1"}), signal.ENOTFOUND)
		get(t, bundle, "int_2")
	})

	t.Run("ListPaging", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		for _, id := range []string{"int_c", "int_a", "int_e", "int_b", "int_d"} {
			requireNoError(t, bundle.store.CreateIntegration(bundle.ctx, store.CreateIntegrationParams{Integration: full(id, bundle.now)}))
		}
		want := []string{"int_a", "int_b", "int_c", "int_d", "int_e"}

		var got []string
		after := ""
		for pages := 0; ; pages++ {
			if pages > len(want) {
				t.Fatal("ListIntegrations paging never ends")
			}
			page, err := bundle.store.ListIntegrations(bundle.ctx, store.ListParams{After: after, Limit: 2})
			requireNoError(t, err)
			if len(page) > 2 {
				t.Fatalf("page of %d integrations, limit 2", len(page))
			}
			if len(page) == 0 {
				break
			}
			for _, in := range page {
				requireIntegration(t, "listed integration", in, full(in.ID, bundle.now))
				got = append(got, in.ID)
			}
			after = page[len(page)-1].ID
		}
		requireStrings(t, "paged ids", got, want)
	})
}
