package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

func exerciseAudit(t *testing.T, newStore func(t *testing.T) store.Store) {
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

	entry := func(bundle *testBundle, i int) *signal.AuditEntry {
		return &signal.AuditEntry{
			ID:      fmt.Sprintf("aud_%d", i),
			At:      bundle.now.Add(time.Duration(i) * time.Second),
			Actor:   signal.AuditActor{ID: "usr_1", Email: "admin@shop.example"},
			Action:  "pipeline.create",
			Target:  signal.AuditTarget{Type: "pipeline", ID: fmt.Sprintf("pip_%d", i)},
			Summary: fmt.Sprintf("Created pipeline %d", i),
		}
	}

	t.Run("ListAuditNewestFirstInPages", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		var want []*signal.AuditEntry
		for i := 1; i <= 3; i++ {
			e := entry(bundle, i)
			requireNoError(t, bundle.store.AppendAudit(bundle.ctx, store.AppendAuditParams{Entry: e}))
			want = append([]*signal.AuditEntry{e}, want...)
		}
		first, next, err := bundle.store.ListAudit(bundle.ctx, store.ListAuditParams{Limit: 2})
		requireNoError(t, err)
		if next == "" {
			t.Fatal("first page has no next cursor")
		}
		rest, end, err := bundle.store.ListAudit(bundle.ctx, store.ListAuditParams{Cursor: next, Limit: 2})
		requireNoError(t, err)
		if end != "" {
			t.Fatalf("last page's next cursor = %q, want none", end)
		}
		got := append(first, rest...)
		if len(got) != len(want) {
			t.Fatalf("listed %d entries, want %d", len(got), len(want))
		}
		for i := range want {
			requireTime(t, "At", got[i].At, want[i].At)
			got[i].At = want[i].At
			requireSameJSON(t, "entry", got[i], want[i])
		}
	})

	t.Run("ListAuditEmpty", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		got, next, err := bundle.store.ListAudit(bundle.ctx, store.ListAuditParams{})
		requireNoError(t, err)
		if len(got) != 0 || next != "" {
			t.Fatalf("ListAudit of an empty log = %d entries, cursor %q", len(got), next)
		}
	})

	t.Run("ListAuditBadCursor", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		_, _, err := bundle.store.ListAudit(bundle.ctx, store.ListAuditParams{Cursor: "nope"})
		requireCode(t, err, signal.EINVALID)
	})
}
