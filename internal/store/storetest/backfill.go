package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// exerciseBackfills pins the backfill tables: items sent in an
// acknowledged batch are never handed out again (a restart resumes by
// polling the open batches), every item ends delivered or failed, and the
// backfill ends done.
func exerciseBackfills(t *testing.T, newStore func(t *testing.T) store.Store) {
	type testBundle struct {
		ctx   context.Context
		now   time.Time
		store store.Store
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		b := &testBundle{ctx: t.Context(), now: testNow(), store: newStore(t)}
		var items []store.BackfillItem
		for line := 1; line <= 5; line++ {
			items = append(items, store.BackfillItem{Line: line, Message: []byte(`{"type":"track","event":"Order Completed","line":` + string(rune('0'+line)) + `}`)})
		}
		requireNoError(t, b.store.CreateBackfill(b.ctx, store.CreateBackfillParams{ID: "bf_1", IntegrationID: "int_a", Items: items, Now: b.now}))
		return b
	}
	get := func(t *testing.T, b *testBundle) *store.Backfill {
		t.Helper()
		bf, err := b.store.GetBackfill(b.ctx, store.GetBackfillParams{ID: "bf_1", IntegrationID: "int_a"})
		requireNoError(t, err)
		return bf
	}

	t.Run("Lifecycle", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if bf := get(t, b); bf.Status != store.BackfillRunning || bf.Accepted != 5 || bf.Pending != 5 {
			t.Fatalf("new backfill = %+v", bf)
		}
		unsent, err := b.store.UnsentBackfillItems(b.ctx, store.UnsentBackfillItemsParams{BackfillID: "bf_1", Limit: 3})
		requireNoError(t, err)
		if len(unsent) != 3 || unsent[0].Line != 1 || string(unsent[2].Message) != `{"type":"track","event":"Order Completed","line":3}` {
			t.Fatalf("unsent = %+v", unsent)
		}
		requireNoError(t, b.store.RecordBatch(b.ctx, store.RecordBatchParams{BackfillID: "bf_1", BatchID: "b1",
			EventIDs: map[int]string{1: "e1", 2: "e2", 3: "e3"}, Now: b.now}))
		// Sent once: a second batch of the same lines is refused whole.
		err = b.store.RecordBatch(b.ctx, store.RecordBatchParams{BackfillID: "bf_1", BatchID: "b2", EventIDs: map[int]string{3: "e3", 4: "e4"}, Now: b.now})
		if signal.ErrorCode(err) != signal.ECONFLICT {
			t.Fatalf("second batch of line 3: %v, want ECONFLICT", err)
		}
		unsent, err = b.store.UnsentBackfillItems(b.ctx, store.UnsentBackfillItemsParams{BackfillID: "bf_1", Limit: 10})
		requireNoError(t, err)
		if len(unsent) != 2 || unsent[0].Line != 4 {
			t.Fatalf("unsent after a batch = %+v, want lines 4 and 5", unsent)
		}
		open, err := b.store.OpenBatches(b.ctx, store.OpenBatchesParams{BackfillID: "bf_1"})
		requireNoError(t, err)
		requireStrings(t, "open batches", open, []string{"b1"})

		requireNoError(t, b.store.FinishBatch(b.ctx, store.FinishBatchParams{BackfillID: "bf_1", BatchID: "b1", Now: b.now,
			Results: []store.BackfillResult{{EventID: "e1", Delivered: true, VendorStatus: 200}, {EventID: "e2", VendorStatus: 400, VendorResponse: "bad"}},
			Missing: store.BackfillResult{VendorResponse: "no result"}}))
		if bf := get(t, b); bf.Delivered != 1 || bf.Failed != 2 || bf.Pending != 2 || bf.Status != store.BackfillRunning {
			t.Fatalf("after batch 1 = %+v", bf)
		}
		requireNoError(t, b.store.RecordBatch(b.ctx, store.RecordBatchParams{BackfillID: "bf_1", BatchID: "b2", EventIDs: map[int]string{4: "e4", 5: "e5"}, Now: b.now}))
		requireNoError(t, b.store.FinishBatch(b.ctx, store.FinishBatchParams{BackfillID: "bf_1", BatchID: "b2", Now: b.now,
			Results: []store.BackfillResult{{EventID: "e4", Delivered: true, VendorStatus: 200}, {EventID: "e5", Delivered: true, VendorStatus: 200}}}))
		if bf := get(t, b); bf.Delivered != 3 || bf.Failed != 2 || bf.Pending != 0 || bf.Status != store.BackfillDone {
			t.Fatalf("after batch 2 = %+v", bf)
		}
		running, err := b.store.RunningBackfills(b.ctx)
		requireNoError(t, err)
		if len(running) != 0 {
			t.Fatalf("running after done = %+v", running)
		}
	})

	t.Run("NotFoundAndFail", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if _, err := b.store.GetBackfill(b.ctx, store.GetBackfillParams{ID: "bf_1", IntegrationID: "int_other"}); signal.ErrorCode(err) != signal.ENOTFOUND {
			t.Fatalf("other integration's backfill: %v", err)
		}
		if _, err := b.store.GetBackfill(b.ctx, store.GetBackfillParams{ID: "bf_nope"}); signal.ErrorCode(err) != signal.ENOTFOUND {
			t.Fatalf("unknown backfill: %v", err)
		}
		running, err := b.store.RunningBackfills(b.ctx)
		requireNoError(t, err)
		if len(running) != 1 || running[0].ID != "bf_1" {
			t.Fatalf("running = %+v", running)
		}
		requireNoError(t, b.store.FailBackfill(b.ctx, store.FailBackfillParams{ID: "bf_1", Now: b.now}))
		if bf := get(t, b); bf.Status != store.BackfillFailed {
			t.Fatalf("after FailBackfill = %+v", bf)
		}
	})
}
