package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

func exerciseBlueprintVersions(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()

	type testBundle struct {
		ctx   context.Context
		now   time.Time
		store store.Store
	}

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		b := &testBundle{ctx: t.Context(), now: testNow(), store: newStore(t)}
		requireNoError(t, b.store.CreateIntegration(b.ctx, store.CreateIntegrationParams{Integration: newIntegration("int_1", b.now)}))
		return b
	}

	blueprint := func(vendorName string) signal.Blueprint {
		return signal.Blueprint{Version: 2, Defaults: signal.BlueprintDefaults{Action: "drop"},
			Events: map[string]signal.BlueprintEvent{"Order Completed": {VendorEventName: vendorName, Enabled: true}}}
	}
	author := signal.AuditActor{ID: "usr_1", Email: "editor@shop.example"}

	t.Run("SaveNumbersVersionsAndSetsTheBlueprint", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		for i := 1; i <= 3; i++ {
			v, err := bundle.store.SaveBlueprint(bundle.ctx, store.SaveBlueprintParams{IntegrationID: "int_1",
				Blueprint: blueprint(fmt.Sprintf("placed order %d", i)), Author: author, Summary: "put", Now: bundle.now.Add(time.Duration(i) * time.Second)})
			requireNoError(t, err)
			if v.Version != i {
				t.Fatalf("save %d got version %d", i, v.Version)
			}
		}
		in, err := bundle.store.GetIntegration(bundle.ctx, store.GetIntegrationParams{ID: "int_1"})
		requireNoError(t, err)
		requireSameJSON(t, "integration blueprint", in.Blueprint, blueprint("placed order 3"))
		requireTime(t, "updated_at", in.UpdatedAt, bundle.now.Add(3*time.Second))

		first, next, err := bundle.store.ListBlueprintVersions(bundle.ctx, store.ListBlueprintVersionsParams{IntegrationID: "int_1", Limit: 2})
		requireNoError(t, err)
		rest, end, err := bundle.store.ListBlueprintVersions(bundle.ctx, store.ListBlueprintVersionsParams{IntegrationID: "int_1", Cursor: next, Limit: 2})
		requireNoError(t, err)
		if next == "" || end != "" {
			t.Fatalf("cursors = %q, %q; want a next page then none", next, end)
		}
		got := append(first, rest...)
		if len(got) != 3 || got[0].Version != 3 || got[1].Version != 2 || got[2].Version != 1 {
			t.Fatalf("versions listed = %+v, want 3, 2, 1", got)
		}
		if got[0].Author != author || got[0].Summary != "put" {
			t.Fatalf("version 3 author %+v summary %q", got[0].Author, got[0].Summary)
		}
		requireTime(t, "version 3 created_at", got[0].CreatedAt, bundle.now.Add(3*time.Second))

		v1, err := bundle.store.GetBlueprintVersion(bundle.ctx, store.GetBlueprintVersionParams{IntegrationID: "int_1", Version: 1})
		requireNoError(t, err)
		requireSameJSON(t, "version 1", v1.Blueprint, blueprint("placed order 1"))
	})

	t.Run("ConcurrentSavesGetDistinctVersions", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = bundle.store.SaveBlueprint(bundle.ctx, store.SaveBlueprintParams{IntegrationID: "int_1", Blueprint: blueprint("x"), Now: bundle.now})
			}()
		}
		wg.Wait()
		for _, err := range errs {
			requireNoError(t, err)
		}
		vs, _, err := bundle.store.ListBlueprintVersions(bundle.ctx, store.ListBlueprintVersionsParams{IntegrationID: "int_1"})
		requireNoError(t, err)
		if len(vs) != 8 || vs[0].Version != 8 {
			t.Fatalf("got %d versions, newest %d; want 8", len(vs), vs[0].Version)
		}
	})

	t.Run("Unknown", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		tests := []struct {
			name string
			err  func() error
		}{
			{"SaveUnknownIntegration", func() error {
				_, err := bundle.store.SaveBlueprint(bundle.ctx, store.SaveBlueprintParams{IntegrationID: "int_missing", Blueprint: blueprint("x"), Now: bundle.now})
				return err
			}},
			{"GetUnknownVersion", func() error {
				_, err := bundle.store.GetBlueprintVersion(bundle.ctx, store.GetBlueprintVersionParams{IntegrationID: "int_1", Version: 9})
				return err
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				requireCode(t, tt.err(), signal.ENOTFOUND)
			})
		}
		_, _, err := bundle.store.ListBlueprintVersions(bundle.ctx, store.ListBlueprintVersionsParams{IntegrationID: "int_1", Cursor: "x"})
		requireCode(t, err, signal.EINVALID)
	})

	t.Run("DeleteIntegrationDropsItsVersions", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		_, err := bundle.store.SaveBlueprint(bundle.ctx, store.SaveBlueprintParams{IntegrationID: "int_1", Blueprint: blueprint("x"), Now: bundle.now})
		requireNoError(t, err)
		requireNoError(t, bundle.store.DeleteIntegration(bundle.ctx, store.DeleteIntegrationParams{ID: "int_1", Now: bundle.now}))
		vs, _, err := bundle.store.ListBlueprintVersions(bundle.ctx, store.ListBlueprintVersionsParams{IntegrationID: "int_1"})
		requireNoError(t, err)
		if len(vs) != 0 {
			t.Fatalf("deleted integration still lists %d versions", len(vs))
		}
	})

	t.Run("PropertyTypesFirstWins", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		key := func(prop string) store.PropertyKey {
			return store.PropertyKey{IntegrationID: "int_1", VendorEventName: "placed order", Property: prop}
		}
		tests := []struct {
			name  string
			given map[store.PropertyKey]string
			want  map[store.PropertyKey]string
		}{
			{"FirstSeen", map[store.PropertyKey]string{key("value"): "number"}, map[store.PropertyKey]string{key("value"): "number"}},
			{"LaterTypeDoesNotReplace", map[store.PropertyKey]string{key("value"): "string", key("currency"): "string"},
				map[store.PropertyKey]string{key("value"): "number", key("currency"): "string"}},
			{"OtherEventIsApart", map[store.PropertyKey]string{{IntegrationID: "int_1", VendorEventName: "started checkout", Property: "value"}: "string"},
				map[store.PropertyKey]string{{IntegrationID: "int_1", VendorEventName: "started checkout", Property: "value"}: "string"}},
		}
		for _, tt := range tests { // in order: each builds on the last
			got, err := bundle.store.RememberPropertyTypes(bundle.ctx, store.RememberPropertyTypesParams{Types: tt.given, Now: bundle.now})
			requireNoError(t, err)
			requireSameJSON(t, tt.name, fmt.Sprint(got), fmt.Sprint(tt.want))
		}
		all, err := bundle.store.PropertyTypes(bundle.ctx, store.PropertyTypesParams{IntegrationID: "int_1"})
		requireNoError(t, err)
		want := map[store.PropertyKey]string{key("value"): "number", key("currency"): "string",
			{IntegrationID: "int_1", VendorEventName: "started checkout", Property: "value"}: "string"}
		requireSameJSON(t, "all types", fmt.Sprint(all), fmt.Sprint(want))
	})
}
