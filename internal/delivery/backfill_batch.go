package delivery

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// create claims up to a batch of the backfill's deliveries and sends them
// as one vendor batch. Acknowledged: the batch and its deliveries are
// recorded at once, before any poll. Refused: each delivery takes the
// answer as a live send would (retry with back-off, failed, paused).
func (r *runner) create(ctx context.Context, in *signal.Integration, vendor integration.Vendor, bs integration.BatchSender, lim budget) bool {
	b, e := r.b, r.b.e
	r.partial = time.Time{}
	now := e.now()
	ds, err := b.store.ClaimBackfillDeliveries(ctx, store.ClaimBackfillParams{BackfillID: r.id, Limit: bs.MaxBatchItems(), Now: now, LeaseUntil: now.Add(e.cfg.Lease)})
	if err != nil || len(ds) == 0 {
		lim.refund(1)
		if err != nil && ctx.Err() == nil {
			e.log.Error("backfill: claim", "backfill", r.id, "err", err)
		}
		return false
	}
	if lim.held(e.now()) > 0 {
		// A live round's 429 came back after gate took the slot: give the
		// claim back untouched rather than send a batch into the wait.
		if err := e.store.FinishDeliveries(context.WithoutCancel(ctx), store.FinishDeliveriesParams{Deliveries: ds, Now: now}); err != nil {
			e.log.Error("backfill: release claim", "backfill", r.id, "err", err)
		}
		lim.refund(1)
		return false
	}
	items := make([][]byte, len(ds))
	for i, d := range ds {
		items[i] = d.Payload
	}
	start := e.now()
	o, body := e.batchCall(ctx, vendor, func(ctx context.Context) (*http.Request, error) {
		raw := make([]json.RawMessage, len(items))
		for i, it := range items {
			raw[i] = it
		}
		return bs.BatchRequest(ctx, in, raw)
	})
	took := e.now().Sub(start)
	r.learn(lim, start, o)
	if o.Kind == integration.Delivered {
		id, err := bs.ParseBatchCreated(o.Status, body)
		if err == nil {
			// Whatever ctx does now, the acknowledgement is recorded; if
			// that fails (a busy database, a failover), it is retried with
			// back-off before anything else is sent: the batch's claim is
			// still this runner's, so its items never go out again.
			r.unrecorded = &unrecordedBatch{id: id, ds: ds}
			r.record(ctx)
			return true
		}
		// A 2xx without a batch id: the batch may exist; never resend it.
		o = integration.Outcome{Kind: integration.Drop, Reason: signal.ReasonVendorRejected, Status: o.Status, Body: err.Error()}
	}
	now = e.now().UTC()
	for _, d := range ds {
		e.apply(d, o, now)
		d.Attempt = attemptOf(o, start, took)
	}
	if o.Kind == integration.Pause {
		e.pause(context.WithoutCancel(ctx), in, o.Reason)
	}
	if err := e.store.FinishDeliveries(context.WithoutCancel(ctx), store.FinishDeliveriesParams{Deliveries: ds, Now: now}); err != nil {
		e.log.Error("backfill: record refused batch", "backfill", r.id, "err", err)
	}
	return true
}

// poll asks how far an open batch has got and, once it is done, finishes
// its deliveries with their items' results.
func (r *runner) poll(ctx context.Context, in *signal.Integration, vendor integration.Vendor, bs integration.BatchSender, lim budget, id string) {
	b, e := r.b, r.b.e
	p := r.polls[id]
	later := func() {
		if e.now().Sub(p.since) > e.cfg.Backoff.Horizon {
			// Results never came (the vendor failing, or the batch
			// lost): its items end failed, replayable, as a live event
			// that failed for as long.
			r.close(ctx, in, id, nil, integration.Outcome{Kind: integration.Drop, Reason: signal.ReasonRetriesExhausted,
				Body: "The vendor did not report this batch's results within the retry window."})
			return
		}
		p.next, p.delay = e.now().Add(p.delay), min(p.delay*2, b.cfg.PollMax)
	}
	start := e.now()
	o, body := e.batchCall(ctx, vendor, func(ctx context.Context) (*http.Request, error) { return bs.BatchStatusRequest(ctx, in, id) })
	r.learn(lim, start, o)
	var st integration.BatchStatus
	if o.Kind == integration.Delivered {
		var err error
		if st, err = bs.ParseBatchStatus(o.Status, body); err != nil {
			e.log.Warn("backfill: batch status unreadable", "backfill", r.id, "batch", id, "err", err)
			later()
			return
		}
	}
	switch {
	case o.Kind == integration.Drop:
		// The vendor does not know the batch (404): its items have no
		// result to wait for.
		r.close(ctx, in, id, nil, o)
		return
	case o.Kind == integration.Pause:
		e.pause(context.WithoutCancel(ctx), in, o.Reason)
		later()
		return
	case o.Kind != integration.Delivered || !st.Done:
		later()
		return
	}
	// The items' results: one more request, within the budget.
	if wait, ok := r.gate(ctx, in, lim); !ok {
		p.next = e.now().Add(wait)
		return
	}
	start = e.now()
	o, body = e.batchCall(ctx, vendor, func(ctx context.Context) (*http.Request, error) { return bs.BatchItemsRequest(ctx, in, id) })
	r.learn(lim, start, o)
	if o.Kind != integration.Delivered {
		later()
		return
	}
	results, err := bs.ParseBatchItems(o.Status, body)
	if err != nil {
		e.log.Warn("backfill: batch items unreadable", "backfill", r.id, "batch", id, "err", err)
		later()
		return
	}
	missing := integration.Outcome{Kind: integration.Drop, Reason: signal.ReasonVendorRejected,
		Body: "The vendor finished the batch without a result for this event."}
	if st.Stopped {
		missing.Body = "The vendor stopped the batch (too many errors) before this event."
	}
	r.close(ctx, in, id, results, missing)
}

// close finishes a batch's deliveries still pending, each with its item's
// result (by the item's id) or, with none, missing; then closes the batch.
func (r *runner) close(ctx context.Context, in *signal.Integration, id string, results []integration.BatchItemResult, missing integration.Outcome) {
	b, e := r.b, r.b.e
	vendor, _ := e.vendors.Vendor(in.CatalogKey)
	bs, _ := vendor.(integration.BatchSender)
	ds, err := b.store.BatchDeliveries(ctx, store.BatchDeliveriesParams{BackfillID: r.id, BatchID: id})
	if err != nil {
		e.log.Error("backfill: batch deliveries", "backfill", r.id, "batch", id, "err", err)
		return
	}
	byID := make(map[string]integration.BatchItemResult, len(results))
	for _, res := range results {
		if res.Finished {
			byID[res.EventID] = res
		}
	}
	now := e.now().UTC()
	var finish []*signal.Delivery
	for _, d := range ds {
		if d.Status != signal.StatusPending {
			continue // finished before a crash
		}
		o := missing
		if res, ok := byID[bs.BatchItemID(d.Payload)]; ok {
			o = integration.Outcome{Kind: integration.Drop, Reason: signal.ReasonVendorRejected, Status: res.Status, Body: res.Response}
			if res.Status >= 200 && res.Status <= 299 {
				o.Kind = integration.Delivered
			}
		}
		d.Attempts++
		d.VendorStatus, d.VendorResponse = o.Status, o.Body
		d.Status, d.Reason = signal.StatusDelivered, ""
		if o.Kind != integration.Delivered {
			d.Status, d.Reason = signal.StatusFailed, o.Reason
		}
		d.Attempt = attemptOf(o, now, 0)
		finish = append(finish, d)
	}
	if len(finish) > 0 {
		if err := e.store.FinishDeliveries(context.WithoutCancel(ctx), store.FinishDeliveriesParams{Deliveries: finish, Now: now}); err != nil {
			e.log.Error("backfill: record batch results", "backfill", r.id, "batch", id, "err", err)
			return
		}
	}
	if err := b.store.CloseBatch(context.WithoutCancel(ctx), store.CloseBatchParams{BatchID: id}); err != nil {
		e.log.Error("backfill: close batch", "backfill", r.id, "batch", id, "err", err)
		return
	}
	delete(r.polls, id)
}

// learn feeds a batch request's answer to the key's budget.
func (r *runner) learn(lim budget, start time.Time, o integration.Outcome) {
	lim.observe(start, o.Limit)
	if o.Kind == integration.RateLimited {
		lim.block(r.b.e.now(), max(o.RetryAfter, 10*time.Millisecond))
	}
}

// batchCall sends one batch request and lets the vendor classify the
// answer (as for a single event); it returns the body too.
func (e *Engine) batchCall(ctx context.Context, vendor integration.Vendor, build func(context.Context) (*http.Request, error)) (integration.Outcome, []byte) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.timeout(vendor))
	defer cancel()
	req, err := build(ctx)
	if err != nil {
		re := &integration.RequestError{Err: err}
		o := vendor.Classify(nil, nil, re)
		if o.Body == "" {
			o.Body = re.Error()
		}
		return o, nil
	}
	resp, err := e.client.Do(req)
	if err != nil {
		o := vendor.Classify(nil, nil, err)
		if o.Body == "" {
			o.Body = transportError(err)
		}
		return o, nil
	}
	defer resp.Body.Close()
	// Item results of a 100-item batch run to a few hundred KiB.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return vendor.Classify(resp, body, nil), body
}
