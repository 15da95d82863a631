package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

func exerciseAlerts(t *testing.T, newStore func(t *testing.T) store.Store) {
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

	t.Run("SettingsRoundTrip", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.store.GetAlertSettings(b.ctx)
		requireCode(t, err, signal.ENOTFOUND)
		for _, want := range []signal.AlertSettings{
			{WebhookURL: "https://hooks.example.com/a", Secret: "s3cret", BacklogAgeSeconds: 900},
			{WebhookURL: "http://127.0.0.1:9/b", BacklogAgeSeconds: 60},
		} {
			requireNoError(t, b.store.PutAlertSettings(b.ctx, store.PutAlertSettingsParams{Settings: want, Now: b.now}))
			got, err := b.store.GetAlertSettings(b.ctx)
			requireNoError(t, err)
			if *got != want {
				t.Fatalf("settings = %+v, want %+v", *got, want)
			}
		}
	})

	t.Run("IncidentOpensAndClosesOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := store.AlertIncident{IntegrationID: "int_1", Kind: "integration_paused", OpenedAt: b.now}
		for i, want := range []bool{true, false} {
			opened, err := b.store.OpenAlertIncident(b.ctx, in)
			requireNoError(t, err)
			if opened != want {
				t.Fatalf("open #%d = %v, want %v", i+1, opened, want)
			}
		}
		list, err := b.store.ListAlertIncidents(b.ctx)
		requireNoError(t, err)
		if len(list) != 1 || list[0].IntegrationID != "int_1" || list[0].Kind != in.Kind {
			t.Fatalf("incidents = %+v, want the one opened", list)
		}
		requireTime(t, "OpenedAt", list[0].OpenedAt, b.now)
		for i, want := range []bool{true, false} {
			closed, err := b.store.CloseAlertIncident(b.ctx, in)
			requireNoError(t, err)
			if closed != want {
				t.Fatalf("close #%d = %v, want %v", i+1, closed, want)
			}
		}
	})

	t.Run("PostQueuedWithItsChangeOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		post := func(alert string) *store.AlertPost {
			return &store.AlertPost{Alert: alert, Body: []byte(`{"alert":"` + alert + `"}`), CreatedAt: b.now}
		}
		in := store.AlertIncident{IntegrationID: "int_1", Kind: "integration_paused", OpenedAt: b.now, Post: post("integration_paused")}
		for range 2 { // the second open changes nothing: no second post
			_, err := b.store.OpenAlertIncident(b.ctx, in)
			requireNoError(t, err)
		}
		claim := func(at time.Time) []store.AlertPost {
			t.Helper()
			ps, err := b.store.ClaimAlertPosts(b.ctx, store.ClaimAlertPostsParams{Now: at, LeaseUntil: at.Add(time.Minute), Limit: 10})
			requireNoError(t, err)
			return ps
		}
		ps := claim(b.now)
		if len(ps) != 1 || ps[0].Alert != "integration_paused" || ps[0].IntegrationID != "int_1" || string(ps[0].Body) != `{"alert":"integration_paused"}` || ps[0].Attempts != 0 {
			t.Fatalf("claimed %+v, want the one incident's post", ps)
		}
		requireTime(t, "CreatedAt", ps[0].CreatedAt, b.now)
		if again := claim(b.now.Add(59 * time.Second)); len(again) != 0 {
			t.Fatalf("claimed %+v during the lease, want nothing", again)
		}
		// A failed send: due again at NextAt with its attempts counted.
		requireNoError(t, b.store.FinishAlertPost(b.ctx, store.FinishAlertPostParams{ID: ps[0].ID, NextAt: b.now.Add(2 * time.Second), Attempts: 1}))
		if early := claim(b.now.Add(time.Second)); len(early) != 0 {
			t.Fatalf("claimed %+v before its retry time", early)
		}
		retry := claim(b.now.Add(2 * time.Second))
		if len(retry) != 1 || retry[0].ID != ps[0].ID || retry[0].Attempts != 1 {
			t.Fatalf("retry claimed %+v, want the post after 1 attempt", retry)
		}
		requireNoError(t, b.store.FinishAlertPost(b.ctx, store.FinishAlertPostParams{ID: ps[0].ID, Done: true}))
		if left := claim(b.now.Add(time.Hour)); len(left) != 0 {
			t.Fatalf("claimed %+v after the post was done", left)
		}
		// Closing queues the recovery, once.
		in.Post = post("integration_resumed")
		for range 2 {
			_, err := b.store.CloseAlertIncident(b.ctx, in)
			requireNoError(t, err)
		}
		if rec := claim(b.now.Add(time.Hour)); len(rec) != 1 || rec[0].Alert != "integration_resumed" {
			t.Fatalf("claimed %+v after the close, want the recovery's post", rec)
		}
	})

	t.Run("RecentAttemptsWithoutAny", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		total, failed, err := b.store.RecentAttempts(b.ctx, store.RecentAttemptsParams{IntegrationID: "int_none", Limit: 50})
		requireNoError(t, err)
		if total != 0 || failed != 0 {
			t.Fatalf("recent attempts = %d, %d failed; want none", total, failed)
		}
	})
}

func exercisePipelineKeys(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	ctx, now := t.Context(), testNow()

	t.Run("SignedOnlyEventsRoundTrip", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_, err := s.CreatePipeline(ctx, store.CreatePipelineParams{ID: "pip_s", Name: "S", Key: "dk_live_s", SigningSecret: "whsec_s", Now: now})
		requireNoError(t, err)
		names := []string{"Order Completed", "Signed Up"}
		got, err := s.UpdatePipeline(ctx, store.UpdatePipelineParams{ID: "pip_s", SignedOnlyEvents: &names, Now: now})
		requireNoError(t, err)
		read, err := s.GetPipeline(ctx, store.GetPipelineParams{Key: "dk_live_s"})
		requireNoError(t, err)
		for _, p := range []*signal.Pipeline{got, read} {
			if len(p.SignedOnlyEvents) != 2 || p.SignedOnlyEvents[0] != names[0] || p.SignedOnlyEvents[1] != names[1] {
				t.Fatalf("signed-only events = %q, want %q", p.SignedOnlyEvents, names)
			}
		}
	})

	tests := []struct {
		name        string
		at          time.Time // when the old key is looked up
		oldKeyFound bool
	}{
		{"OldKeyWorksDuringOverlap", now.Add(59 * time.Second), true},
		{"OldKeyRefusedAfterOverlap", now.Add(61 * time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			_, err := s.CreatePipeline(ctx, store.CreatePipelineParams{ID: "pip_r", Name: "R", Key: "dk_live_old", SigningSecret: "whsec_old", Now: now})
			requireNoError(t, err)
			rotated, err := s.RotatePipeline(ctx, store.RotatePipelineParams{ID: "pip_r", Key: "dk_live_new", SigningSecret: "whsec_new",
				PreviousUntil: now.Add(time.Minute), Now: now})
			requireNoError(t, err)
			if rotated.Key != "dk_live_new" || rotated.SigningSecret != "whsec_new" || rotated.PreviousKey != "dk_live_old" ||
				rotated.PreviousSigningSecret != "whsec_old" || !rotated.PreviousUntil.Equal(now.Add(time.Minute)) {
				t.Fatalf("rotated = %+v, want the new key and the old one until the overlap ends", rotated)
			}
			got, err := s.GetPipeline(ctx, store.GetPipelineParams{Key: "dk_live_new", Now: tt.at})
			requireNoError(t, err)
			if got.ID != "pip_r" {
				t.Fatalf("new key found %q", got.ID)
			}
			got, err = s.GetPipeline(ctx, store.GetPipelineParams{Key: "dk_live_old", Now: tt.at})
			if tt.oldKeyFound {
				requireNoError(t, err)
				if got.ID != "pip_r" {
					t.Fatalf("old key found %q", got.ID)
				}
				return
			}
			requireCode(t, err, signal.ENOTFOUND)
		})
	}

	t.Run("RotateUnknown", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_, err := s.RotatePipeline(ctx, store.RotatePipelineParams{ID: "pip_x", Key: "dk_live_x", SigningSecret: "w", Now: now})
		requireCode(t, err, signal.ENOTFOUND)
	})
}
