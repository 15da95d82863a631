package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// exerciseBackfills pins the backfill tables and the backfill marker: lines
// are fed into the log under the backfill's id, their deliveries (marked)
// are skipped by the live claim and claimed by the backfill's own, a batch
// the vendor acknowledged holds its deliveries for good (never claimed
// again, also after a restart), and the counts follow the deliveries.
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
			items = append(items, store.BackfillItem{Line: line * 2, Message: []byte(fmt.Sprintf(`{"type":"track","event":"Order Completed","line":%d}`, line*2))})
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
	// feed logs n backfill events (the backfill's id as pipeline) and
	// records one marked delivery each, plus one live delivery to int_a.
	feed := func(t *testing.T, b *testBundle, n int) (backfill []*signal.Delivery, live *signal.Delivery) {
		t.Helper()
		var events []*signal.Event
		for range n {
			e := newEvent(b.now)
			e.PipelineID = "bf_1"
			events = append(events, e)
		}
		liveEv := newEvent(b.now)
		appendEvents(b.ctx, t, b.store, append(events, liveEv)...)
		for _, e := range events {
			d := pendingDelivery(e, "int_a")
			d.BackfillID, d.ContactKey = "bf_1", "same-contact"
			backfill = append(backfill, d)
		}
		live = pendingDelivery(liveEv, "int_a")
		live.ContactKey = "same-contact"
		recordProcessed(b.ctx, t, b.store, b.now, append(backfill, live)...)
		return backfill, live
	}
	claimBackfill := func(t *testing.T, b *testBundle, limit int, at time.Time) []*signal.Delivery {
		t.Helper()
		ds, err := b.store.ClaimBackfillDeliveries(b.ctx, store.ClaimBackfillParams{BackfillID: "bf_1", Limit: limit, Now: at, LeaseUntil: at.Add(time.Minute)})
		requireNoError(t, err)
		return ds
	}

	t.Run("Items", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if bf := get(t, b); bf.Status != store.BackfillRunning || bf.Accepted != 5 || bf.Pending != 5 || bf.Logged != 0 {
			t.Fatalf("new backfill = %+v", bf)
		}
		items, err := b.store.BackfillItems(b.ctx, store.BackfillItemsParams{BackfillID: "bf_1", Offset: 1, Limit: 3})
		requireNoError(t, err)
		if len(items) != 3 || items[0].Line != 4 || string(items[2].Message) != `{"type":"track","event":"Order Completed","line":8}` {
			t.Fatalf("items after the first = %+v", items)
		}
	})

	t.Run("MarkerAndBatches", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		backfill, live := feed(t, b, 4)
		if bf := get(t, b); bf.Logged != 4 || bf.Queued != 4 || bf.Pending != 5 {
			t.Fatalf("after feeding 4 = %+v", bf)
		}
		queued := func() int {
			n, err := b.store.BackfillQueued(b.ctx, store.BackfillQueuedParams{BackfillID: "bf_1"})
			requireNoError(t, err)
			return n
		}
		// The live claim takes only the live delivery, which does not wait
		// behind the same contact's earlier backfill rows; NextDue sees
		// only live rows.
		ds, err := b.store.ClaimDeliveries(b.ctx, store.ClaimDeliveriesParams{IntegrationID: "int_a", Limit: 10, Now: b.now, LeaseUntil: b.now.Add(time.Minute)})
		requireNoError(t, err)
		if len(ds) != 1 || ds[0].ID != live.ID {
			t.Fatalf("live claim = %v, want only the live delivery %d", messageIDs(ds), live.ID)
		}
		live = ds[0]
		live.Status = signal.StatusDelivered
		requireNoError(t, b.store.FinishDeliveries(b.ctx, store.FinishDeliveriesParams{Deliveries: []*signal.Delivery{live}, Now: b.now}))
		if _, ok, err := b.store.NextDue(b.ctx, store.NextDueParams{IntegrationID: "int_a"}); err != nil || ok {
			t.Fatalf("NextDue with only backfill rows pending = %v, %v; want none", ok, err)
		}

		first := claimBackfill(t, b, 3, b.now)
		requireStrings(t, "backfill claim", messageIDs(first), messageIDs(backfill[:3]))
		if again := claimBackfill(t, b, 3, b.now); len(again) != 1 || again[0].ID != backfill[3].ID {
			t.Fatalf("second claim = %v, want the one unleased row", messageIDs(again))
		}
		requireNoError(t, b.store.RecordBatch(b.ctx, store.RecordBatchParams{BackfillID: "bf_1", BatchID: "b1", Deliveries: first, Now: b.now}))
		if n := queued(); n != 1 {
			t.Fatalf("BackfillQueued after a batch of 3 = %d, want 1", n)
		}
		// Recorded once: the same claim cannot go into a second batch.
		err = b.store.RecordBatch(b.ctx, store.RecordBatchParams{BackfillID: "bf_1", BatchID: "b2", Deliveries: first[:1], Now: b.now})
		requireCode(t, err, signal.ECONFLICT)
		// A batch's rows are never claimed again, not after the leases
		// expire, not after ReleaseLeases (a restart).
		requireNoError(t, b.store.ReleaseLeases(b.ctx))
		later := claimBackfill(t, b, 10, b.now.Add(time.Hour))
		requireStrings(t, "claim after a batch and a restart", messageIDs(later), messageIDs(backfill[3:]))
		open, err := b.store.OpenBatches(b.ctx, store.OpenBatchesParams{BackfillID: "bf_1"})
		requireNoError(t, err)
		requireStrings(t, "open batches", batchIDs(open), []string{"b1"})
		if !open[0].CreatedAt.Equal(b.now) {
			t.Fatalf("open batch recorded at %v, want %v (its wait for results starts there, across restarts)", open[0].CreatedAt, b.now)
		}
		in, err := b.store.BatchDeliveries(b.ctx, store.BatchDeliveriesParams{BackfillID: "bf_1", BatchID: "b1"})
		requireNoError(t, err)
		requireStrings(t, "batch deliveries", messageIDs(in), messageIDs(first))
		if in[0].BackfillID != "bf_1" || string(in[0].Payload) != string(first[0].Payload) {
			t.Fatalf("batch delivery = %+v", in[0])
		}

		// Results land through FinishDeliveries (held under lease 0).
		in[0].Status = signal.StatusDelivered
		in[1].Status, in[1].Reason, in[1].VendorStatus, in[1].VendorResponse = signal.StatusFailed, signal.ReasonVendorRejected, 400, "bad"
		in[2].Status, in[2].Reason = signal.StatusFailed, signal.ReasonVendorRejected
		requireNoError(t, b.store.FinishDeliveries(b.ctx, store.FinishDeliveriesParams{Deliveries: in, Now: b.now}))
		requireNoError(t, b.store.CloseBatch(b.ctx, store.CloseBatchParams{BatchID: "b1"}))
		open, err = b.store.OpenBatches(b.ctx, store.OpenBatchesParams{BackfillID: "bf_1"})
		requireNoError(t, err)
		requireStrings(t, "open batches after closing", batchIDs(open), nil)
		if bf := get(t, b); bf.Delivered != 1 || bf.Failed != 2 || bf.Pending != 2 || bf.Queued != 1 {
			t.Fatalf("after batch 1 = %+v", bf)
		}
		fails := liveEvents(b.ctx, t, b.store, store.ListLiveEventsParams{IntegrationID: "int_a", Status: signal.StatusFailed})
		if len(fails) != 2 || fails[1].VendorStatus != 400 || fails[1].VendorResponse != "bad" || fails[1].PipelineID != "bf_1" {
			t.Fatalf("failed live events = %+v", fails)
		}
	})

	t.Run("FilteredCountsAsFailed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		e := newEvent(b.now)
		e.PipelineID = "bf_1"
		appendEvents(b.ctx, t, b.store, e)
		d := pendingDelivery(e, "int_a")
		d.BackfillID, d.Status, d.Reason = "bf_1", signal.StatusFiltered, signal.ReasonConsentDenied
		recordProcessed(b.ctx, t, b.store, b.now, d)
		if bf := get(t, b); bf.Failed != 1 || bf.Filtered != 1 || bf.Pending != 4 || bf.Queued != 0 {
			t.Fatalf("with a filtered item = %+v", bf)
		}
	})

	t.Run("RequeueSendsLive", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		backfill, _ := feed(t, b, 1)
		ds := claimBackfill(t, b, 1, b.now)
		ds[0].Status, ds[0].Reason = signal.StatusFailed, signal.ReasonRetriesExhausted
		requireNoError(t, b.store.FinishDeliveries(b.ctx, store.FinishDeliveriesParams{Deliveries: ds, Now: b.now}))
		// A replayed backfill item goes out as a live event: its
		// backfill may be over.
		n, err := b.store.RequeueDeliveries(b.ctx, store.RequeueDeliveriesParams{IntegrationID: "int_a", Status: signal.StatusFailed, Now: b.now})
		requireNoError(t, err)
		live, err := b.store.ClaimDeliveries(b.ctx, store.ClaimDeliveriesParams{IntegrationID: "int_a", Limit: 10, Now: b.now, LeaseUntil: b.now.Add(time.Minute)})
		requireNoError(t, err)
		// The contact's live delivery waits behind it (same contact).
		if n != 1 || len(live) != 1 || live[0].ID != backfill[0].ID {
			t.Fatalf("requeued %d, live claim %v; want the replayed backfill row", n, messageIDs(live))
		}
	})

	// A replay takes a backfill's failed rows live while the backfill
	// runs: they still count for it (pending, then delivered), and the
	// backfill no longer holds them, so it can end.
	t.Run("ReplayedRowsStillCount", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		feed(t, b, 5)
		ds := claimBackfill(t, b, 5, b.now)
		for _, d := range ds {
			d.Status, d.Reason = signal.StatusFailed, signal.ReasonRetriesExhausted
		}
		requireNoError(t, b.store.FinishDeliveries(b.ctx, store.FinishDeliveriesParams{Deliveries: ds, Now: b.now}))
		if bf := get(t, b); bf.Failed != 5 || bf.Pending != 0 || bf.Built != 5 || bf.Held != 0 {
			t.Fatalf("all failed = %+v", bf)
		}
		_, err := b.store.RequeueDeliveries(b.ctx, store.RequeueDeliveriesParams{IntegrationID: "int_a", Status: signal.StatusFailed, Now: b.now})
		requireNoError(t, err)
		if bf := get(t, b); bf.Failed != 0 || bf.Pending != 5 || bf.Built != 5 || bf.Held != 0 || bf.Logged != 5 {
			t.Fatalf("after a replay = %+v; want 5 pending live, none held", bf)
		}
		// One contact: the live claim takes its rows one at a time.
		for range 6 {
			live, err := b.store.ClaimDeliveries(b.ctx, store.ClaimDeliveriesParams{IntegrationID: "int_a", Limit: 10, Now: b.now, LeaseUntil: b.now.Add(time.Minute)})
			requireNoError(t, err)
			for _, d := range live {
				d.Status = signal.StatusDelivered
			}
			requireNoError(t, b.store.FinishDeliveries(b.ctx, store.FinishDeliveriesParams{Deliveries: live, Now: b.now}))
		}
		if bf := get(t, b); bf.Delivered != 5 || bf.Pending != 0 || bf.Failed != 0 {
			t.Fatalf("replayed rows delivered live = %+v; want 5 delivered", bf)
		}
		// Ended, its counts are kept as they were.
		requireNoError(t, b.store.FinishBackfill(b.ctx, store.FinishBackfillParams{ID: "bf_1", Status: store.BackfillDone, Now: b.now}))
		if bf := get(t, b); bf.Status != store.BackfillDone || bf.Delivered != 5 || bf.Pending != 0 || bf.Logged != 5 || bf.Held != 0 {
			t.Fatalf("done = %+v; want its 5 delivered kept", bf)
		}
	})

	// Erasing a person reaches the lines of running backfills, fed or not
	// (counted as the person's events): they become erased messages, in
	// place. A finished backfill keeps no lines.
	t.Run("EraseAndFinishDropLines", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		now := testNow()
		lines := []string{
			`{"type":"track","event":"Order Completed","userId":"` + janeUser + `","properties":{"order_id":"1"}}`,
			`{"type":"track","event":"Order Completed","userId":"` + bobUser + `","properties":{"order_id":"2"}}`,
			`{"type":"identify","userId":"` + janeUser + `","traits":{"email":"` + janeEmail + `"}}`,
		}
		var items []store.BackfillItem
		for i, l := range lines {
			items = append(items, store.BackfillItem{Line: i + 1, Message: []byte(l)})
		}
		requireNoError(t, s.CreateBackfill(ctx, store.CreateBackfillParams{ID: "bf_e", IntegrationID: "int_a", Items: items, Now: now}))
		// The first line is in the log already (fed): export finds its
		// event; the third, not fed yet, is listed as an event of its own.
		fed := newEvent(now)
		fed.PipelineID, fed.Payload = "bf_e", json.RawMessage(lines[0])
		appendEvents(ctx, t, s, fed)
		c, err := s.FindContact(ctx, contactBy("user_id", janeUser))
		requireNoError(t, err)
		if len(c.Events) != 2 || c.Events[0].Event.Seq != fed.Seq || c.Events[1].Event.PipelineID != "bf_e" || c.Events[1].Event.Type != "identify" {
			t.Fatalf("export = %+v, want the fed line's event and the unfed identify", c.Events)
		}
		res, err := s.EraseContact(ctx, contactBy("user_id", janeUser))
		requireNoError(t, err)
		if res.Events != 2 {
			t.Fatalf("erased %+v, want Jane's 2 backfill lines counted as events", res)
		}
		left, err := s.BackfillItems(ctx, store.BackfillItemsParams{BackfillID: "bf_e", Limit: 10})
		requireNoError(t, err)
		if len(left) != 3 || string(left[0].Message) != `{}` || string(left[1].Message) != lines[1] || string(left[2].Message) != `{}` {
			t.Fatalf("lines after Jane's erasure = %+v", left)
		}
		requireNoError(t, s.FinishBackfill(ctx, store.FinishBackfillParams{ID: "bf_e", Status: store.BackfillDone, Now: now}))
		left, err = s.BackfillItems(ctx, store.BackfillItemsParams{BackfillID: "bf_e", Limit: 10})
		requireNoError(t, err)
		if len(left) != 0 {
			t.Fatalf("a finished backfill keeps %d lines", len(left))
		}
	})

	t.Run("ListPages", func(t *testing.T) {
		t.Parallel()
		ctx, s, now := t.Context(), newStore(t), testNow()
		// Two at the same instant: the id breaks the tie.
		for i, at := range []time.Time{now, now.Add(time.Second), now.Add(time.Second)} {
			requireNoError(t, s.CreateBackfill(ctx, store.CreateBackfillParams{ID: fmt.Sprintf("bf_%d", i), IntegrationID: "int_p",
				Items: []store.BackfillItem{{Line: 1, Message: []byte(`{}`)}}, Now: at}))
		}
		var got []string
		after := ""
		for range 3 {
			page, err := s.ListBackfills(ctx, store.ListBackfillsParams{IntegrationID: "int_p", After: after, Limit: 1})
			requireNoError(t, err)
			if len(page) != 1 {
				t.Fatalf("page after %q = %d backfills, want 1", after, len(page))
			}
			after = page[0].ID
			got = append(got, after)
		}
		requireStrings(t, "backfills paged newest first", got, []string{"bf_2", "bf_1", "bf_0"})
		last, err := s.ListBackfills(ctx, store.ListBackfillsParams{IntegrationID: "int_p", After: after, Limit: 1})
		requireNoError(t, err)
		if len(last) != 0 {
			t.Fatalf("page after the last = %+v", last)
		}
	})

	t.Run("ReplacedSendsLive", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		e := newEvent(b.now)
		e.PipelineID = "bf_1"
		appendEvents(b.ctx, t, b.store, e)
		d := pendingDelivery(e, "int_a")
		d.BackfillID, d.Status, d.Reason = "bf_1", signal.StatusFiltered, signal.ReasonEventNotEnabled
		recordProcessed(b.ctx, t, b.store, b.now, d)
		// Replayed through a fixed blueprint, it is a live delivery.
		d.Status, d.Reason = signal.StatusPending, ""
		n, err := b.store.ReplaceDeliveries(b.ctx, store.ReplaceDeliveriesParams{Deliveries: []*signal.Delivery{d},
			Was: map[int64]store.DeliveryState{d.ID: {Status: signal.StatusFiltered, Reason: signal.ReasonEventNotEnabled}}, Now: b.now})
		requireNoError(t, err)
		live, err := b.store.ClaimDeliveries(b.ctx, store.ClaimDeliveriesParams{IntegrationID: "int_a", Limit: 10, Now: b.now, LeaseUntil: b.now.Add(time.Minute)})
		requireNoError(t, err)
		if n != 1 || len(live) != 1 || live[0].ID != d.ID {
			t.Fatalf("replaced %d, live claim %v; want the replayed backfill row", n, messageIDs(live))
		}
	})

	t.Run("LeaseAndFinish", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		lease := func(holder string, at time.Time) bool {
			ok, err := b.store.LeaseBackfill(b.ctx, store.LeaseBackfillParams{ID: "bf_1", Holder: holder, Now: at, Until: at.Add(time.Minute)})
			requireNoError(t, err)
			return ok
		}
		if !lease("n1", b.now) || !lease("n1", b.now.Add(time.Second)) {
			t.Fatal("first holder cannot take or renew the lease")
		}
		if lease("n2", b.now.Add(30*time.Second)) {
			t.Fatal("second holder took a held lease")
		}
		if !lease("n2", b.now.Add(2*time.Minute)) {
			t.Fatal("second holder cannot take an expired lease")
		}
		requireNoError(t, b.store.ReleaseLeases(b.ctx))
		if !lease("n3", b.now.Add(2*time.Minute)) {
			t.Fatal("ReleaseLeases left the backfill leased")
		}
		list, err := b.store.ListBackfills(b.ctx, store.ListBackfillsParams{IntegrationID: "int_a", Limit: 10})
		requireNoError(t, err)
		if len(list) != 1 || list[0].ID != "bf_1" {
			t.Fatalf("ListBackfills = %+v", list)
		}
		requireCode(t, b.store.FinishBackfill(b.ctx, store.FinishBackfillParams{ID: "bf_1", Status: "running", Now: b.now}), signal.EINVALID)
		requireNoError(t, b.store.FinishBackfill(b.ctx, store.FinishBackfillParams{ID: "bf_1", Status: store.BackfillDone, Now: b.now}))
		if bf := get(t, b); bf.Status != store.BackfillDone {
			t.Fatalf("after FinishBackfill = %+v", bf)
		}
		if lease("n3", b.now.Add(time.Hour)) {
			t.Fatal("a finished backfill was leased")
		}
		running, err := b.store.RunningBackfills(b.ctx)
		requireNoError(t, err)
		if len(running) != 0 {
			t.Fatalf("running after done = %+v", running)
		}
		if _, err := b.store.GetBackfill(b.ctx, store.GetBackfillParams{ID: "bf_1", IntegrationID: "int_other"}); signal.ErrorCode(err) != signal.ENOTFOUND {
			t.Fatalf("GetBackfill of another integration: %v, want ENOTFOUND", err)
		}
	})
}

func batchIDs(bs []store.OpenBatch) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.ID)
	}
	return out
}
