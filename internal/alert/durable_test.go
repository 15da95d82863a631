package alert

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/sqlite/sqlitetest"
	"github.com/signalhq/signal/internal/store/storetest/eventually"
)

// A post queued while the webhook is down survives a restart (a new
// evaluator over the same database, reopened) and is posted exactly once
// when the webhook is back; the open incident is not alerted again.
func TestPostSurvivesRestart(t *testing.T) {
	t.Parallel()
	ctx, dir := t.Context(), t.TempDir()
	h := &hook{fail: 1 << 30}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := &clock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	newEv := func(s Store) *Evaluator {
		return New(Config{FirstRetry: time.Second, MaxRetryWait: time.Minute}, Deps{Store: s, Now: c.now})
	}

	db := sqlitetest.Open(t, dir)
	in := &signal.Integration{ID: "int_1", CatalogKey: "omnisend", Name: "Shop", Variant: "default", DeliveryMode: "server_side",
		Config: map[string]any{}, Enabled: true, Status: signal.IntegrationActive, CreatedAt: c.now(), UpdatedAt: c.now()}
	if err := db.CreateIntegration(ctx, store.CreateIntegrationParams{Integration: in}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutAlertSettings(ctx, store.PutAlertSettingsParams{Settings: signal.AlertSettings{WebhookURL: srv.URL, BacklogAgeSeconds: 900}, Now: c.now()}); err != nil {
		t.Fatal(err)
	}
	if paused, err := db.PauseIntegration(ctx, store.PauseIntegrationParams{ID: "int_1", Reason: signal.ReasonAuthFailed, IfUpdatedAt: c.now(), Now: c.now()}); err != nil || !paused {
		t.Fatalf("pause = %v, %v", paused, err)
	}
	before := newEv(db)
	if err := before.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	for range 3 { // the webhook answers 500 to each attempt
		next, err := before.SendDue(ctx)
		if err != nil || next.IsZero() {
			t.Fatalf("SendDue = %v, %v; want a retry scheduled", next, err)
		}
		c.set(next)
	}
	if ps, calls := h.got(); len(ps) != 0 || calls != 3 {
		t.Fatalf("%d posts in %d calls while the webhook is down, want 0 in 3", len(ps), calls)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart: the database reopened, a new evaluator; the webhook is up.
	db = sqlitetest.Open(t, dir)
	h.mu.Lock()
	h.fail = 0
	h.mu.Unlock()
	c.set(c.now().Add(time.Hour))
	for _, e := range []*Evaluator{newEv(db), newEv(db)} {
		for range 2 {
			if err := e.Evaluate(ctx); err != nil {
				t.Fatal(err)
			}
			if next, err := e.SendDue(ctx); err != nil || !next.IsZero() {
				t.Fatalf("SendDue = %v, %v; want every post sent", next, err)
			}
		}
	}
	ps, _ := h.got()
	if len(ps) != 1 || decodePost(t, ps[0]).Alert != Paused {
		t.Fatalf("%d posts after the restart, want integration_paused exactly once", len(ps))
	}
}

// Run posts a queued alert at once (not after its Interval) and stops with
// its context.
func TestRunPostsWhenQueued(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.store.set(func(in *signal.Integration) { in.Status = "paused" })
	e := New(Config{Interval: time.Hour}, Deps{Store: b.store})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	eventually.True(t, 10*time.Second, "the pause posted", func() bool { ps, _ := b.hook.got(); return len(ps) == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Failed sends wait FirstRetry, then twice as long, at most MaxRetryWait;
// a post still failing RetryFor after it was queued is dropped.
func TestRetryScheduleAndGivingUp(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.hook.fail = 1 << 30
	e := New(Config{FirstRetry: 2 * time.Second, MaxRetryWait: 10 * time.Second, RetryFor: time.Minute}, Deps{Store: b.store, Now: b.clock.now})
	for i, want := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second} {
		if got := e.retryWait(i + 1); got != want {
			t.Errorf("wait after %d failures = %v, want %v", i+1, got, want)
		}
	}
	b.store.set(func(in *signal.Integration) { in.Status = "paused" })
	if err := e.Evaluate(t.Context()); err != nil {
		t.Fatal(err)
	}
	b.sendAll(t, e)
	if len(b.store.posts) != 0 {
		t.Fatalf("%d posts still queued after RetryFor", len(b.store.posts))
	}
	if _, calls := b.hook.got(); calls < 5 || calls > 12 || b.clock.now().Sub(b.now) > time.Minute {
		t.Fatalf("%d calls over %v, want retries for at most a minute", calls, b.clock.now().Sub(b.now))
	}
}

// A send cut off by shutdown gives its post back due at once, for the next
// start; SendDue must then return, not claim it again and again (it spun
// a CPU for minutes once posts were claimed one at a time).
func TestSendDueEndsWhenShutDownMidSend(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	b.hook.onCall = cancel
	b.hook.fail = 1 << 30
	e := New(Config{}, Deps{Store: b.store, Now: b.clock.now})
	b.store.set(func(in *signal.Integration) { in.Status = "paused" })
	if err := e.Evaluate(t.Context()); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := e.SendDue(ctx); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("SendDue = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SendDue still claiming the post it gave back 10 s after shutdown")
	}
	if len(b.store.posts) != 1 {
		t.Fatalf("%d posts queued after the cut-off send, want it kept for the next start", len(b.store.posts))
	}
}
