package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

func exercisePipelines(t *testing.T, newStore func(t *testing.T) store.Store) {
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

	create := func(t *testing.T, bundle *testBundle, id string) *signal.Pipeline {
		t.Helper()
		p, err := bundle.store.CreatePipeline(bundle.ctx, store.CreatePipelineParams{
			ID: id, Name: "Shop " + id, Key: "dk_live_" + id, SigningSecret: "whsec_" + id, Now: bundle.now,
		})
		requireNoError(t, err)
		return p
	}

	requirePipeline := func(t *testing.T, got, want *signal.Pipeline) {
		t.Helper()
		if got.ID != want.ID || got.Name != want.Name || got.Key != want.Key || got.SigningSecret != want.SigningSecret {
			t.Fatalf("pipeline = %+v, want %+v", got, want)
		}
		requireTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
		requireTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	}

	t.Run("CreateAndGet", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		created := create(t, bundle, "pip_1")
		want := &signal.Pipeline{ID: "pip_1", Name: "Shop pip_1", Key: "dk_live_pip_1", SigningSecret: "whsec_pip_1",
			CreatedAt: bundle.now, UpdatedAt: bundle.now}
		requirePipeline(t, created, want)

		for _, p := range []store.GetPipelineParams{{ID: "pip_1"}, {Key: "dk_live_pip_1"}} {
			got, err := bundle.store.GetPipeline(bundle.ctx, p)
			requireNoError(t, err)
			requirePipeline(t, got, want)
		}
	})

	t.Run("GetNotFound", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		create(t, bundle, "pip_1")
		for _, p := range []store.GetPipelineParams{{ID: "pip_missing"}, {Key: "dk_live_missing"}} {
			_, err := bundle.store.GetPipeline(bundle.ctx, p)
			requireCode(t, err, signal.ENOTFOUND)
		}
	})

	t.Run("CreateConflict", func(t *testing.T) {
		t.Parallel()

		for _, tt := range []struct {
			name string
			p    store.CreatePipelineParams
		}{
			{"SameKey", store.CreatePipelineParams{ID: "pip_2", Name: "Other", Key: "dk_live_pip_1", SigningSecret: "s"}},
			{"SameID", store.CreatePipelineParams{ID: "pip_1", Name: "Other", Key: "dk_live_other", SigningSecret: "s"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)

				create(t, bundle, "pip_1")
				tt.p.Now = bundle.now
				_, err := bundle.store.CreatePipeline(bundle.ctx, tt.p)
				requireCode(t, err, signal.ECONFLICT)

				// The first pipeline is untouched.
				got, err := bundle.store.GetPipeline(bundle.ctx, store.GetPipelineParams{Key: "dk_live_pip_1"})
				requireNoError(t, err)
				if got.ID != "pip_1" || got.Name != "Shop pip_1" {
					t.Fatalf("after the conflict, key dk_live_pip_1 = %+v", got)
				}
			})
		}
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		created := create(t, bundle, "pip_1")
		later := bundle.now.Add(time.Minute)
		name := "Renamed"
		updated, err := bundle.store.UpdatePipeline(bundle.ctx, store.UpdatePipelineParams{ID: "pip_1", Name: &name, Now: later})
		requireNoError(t, err)
		want := *created
		want.Name, want.UpdatedAt = "Renamed", later
		requirePipeline(t, updated, &want)

		got, err := bundle.store.GetPipeline(bundle.ctx, store.GetPipelineParams{ID: "pip_1"})
		requireNoError(t, err)
		requirePipeline(t, got, &want)

		// Nothing to change: the pipeline comes back as it is.
		same, err := bundle.store.UpdatePipeline(bundle.ctx, store.UpdatePipelineParams{ID: "pip_1", Now: later.Add(time.Minute)})
		requireNoError(t, err)
		requirePipeline(t, same, &want)
	})

	t.Run("UpdateNotFound", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		name := "x"
		for _, p := range []store.UpdatePipelineParams{{ID: "pip_missing", Name: &name}, {ID: "pip_missing"}} {
			p.Now = bundle.now
			_, err := bundle.store.UpdatePipeline(bundle.ctx, p)
			requireCode(t, err, signal.ENOTFOUND)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		create(t, bundle, "pip_1")
		create(t, bundle, "pip_2")
		requireNoError(t, bundle.store.DeletePipeline(bundle.ctx, store.DeletePipelineParams{ID: "pip_1"}))
		for _, p := range []store.GetPipelineParams{{ID: "pip_1"}, {Key: "dk_live_pip_1"}} {
			_, err := bundle.store.GetPipeline(bundle.ctx, p)
			requireCode(t, err, signal.ENOTFOUND)
		}
		requireCode(t, bundle.store.DeletePipeline(bundle.ctx, store.DeletePipelineParams{ID: "pip_1"}), signal.ENOTFOUND)

		_, err := bundle.store.GetPipeline(bundle.ctx, store.GetPipelineParams{ID: "pip_2"})
		requireNoError(t, err)

		// The key is free again.
		create(t, bundle, "pip_1")
	})

	t.Run("ListPaging", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		for _, id := range []string{"pip_c", "pip_a", "pip_e", "pip_b", "pip_d"} {
			create(t, bundle, id)
		}
		want := []string{"pip_a", "pip_b", "pip_c", "pip_d", "pip_e"}

		var got []string
		after := ""
		for pages := 0; ; pages++ {
			if pages > len(want) {
				t.Fatal("ListPipelines paging never ends")
			}
			page, err := bundle.store.ListPipelines(bundle.ctx, store.ListParams{After: after, Limit: 2})
			requireNoError(t, err)
			if len(page) > 2 {
				t.Fatalf("page of %d pipelines, limit 2", len(page))
			}
			if len(page) == 0 {
				break
			}
			for _, p := range page {
				if p.SigningSecret != "whsec_"+p.ID {
					t.Fatalf("listed pipeline %s has signing secret %q", p.ID, p.SigningSecret)
				}
				got = append(got, p.ID)
			}
			after = page[len(page)-1].ID
		}
		requireStrings(t, "paged ids", got, want)

		all, err := bundle.store.ListPipelines(bundle.ctx, store.ListParams{Limit: 100})
		requireNoError(t, err)
		if len(all) != len(want) {
			t.Fatalf("ListPipelines = %d, want %d", len(all), len(want))
		}
	})
}
