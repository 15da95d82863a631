package delivery

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// worker delivers the queue of one integration, in rounds: take request
// slots from the key's limiter, claim that many deliveries (highest priority
// first, one per contact), send them concurrently, record the outcomes in
// one write.
type worker struct {
	e    *Engine
	id   string
	wake chan struct{}
	// pauses counts the rounds that paused the integration (after the
	// pause is stored, before their deliveries are released).
	pauses atomic.Int64
}

func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// wait sleeps for d, or until poked or ctx is done (false).
func (w *worker) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-w.wake:
		return true
	case <-t.C:
		return true
	}
}

func (w *worker) run(ctx context.Context) {
	e := w.e
	// Up to Rounds rounds are in flight at once: the next claim need not
	// wait for the slowest request of the last round.
	slots := make(chan struct{}, e.cfg.Rounds)
	var rounds sync.WaitGroup
	defer rounds.Wait()
	for ctx.Err() == nil {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		release := func() { <-slots }
		pauses := w.pauses.Load()
		in, err := e.store.GetIntegration(ctx, store.GetIntegrationParams{ID: w.id})
		if signal.ErrorCode(err) == signal.ENOTFOUND {
			release()
			return // deleted
		}
		if err != nil {
			release()
			if ctx.Err() == nil {
				e.log.Error("delivery: load integration", "integration", w.id, "err", err)
			}
			w.wait(ctx, time.Second)
			continue
		}
		vendor, ok := e.vendors.Vendor(in.CatalogKey)
		if !ok {
			release()
			e.log.Error("delivery: integration's vendor is not registered", "integration", w.id, "catalog_key", in.CatalogKey)
			return
		}
		if !in.Enabled || in.Status == signal.IntegrationPaused {
			// Held: its events wait, spending nothing, until the
			// integration changes (new key, re-enabled).
			release()
			w.wait(ctx, e.cfg.Poll)
			continue
		}
		lim := e.limiter(in, vendor)
		n, delay := lim.reserve(e.now(), e.cfg.MaxInFlight)
		if n == 0 {
			release()
			e.limiterWait(w.id, delay)
			w.wait(ctx, delay)
			continue
		}
		now := e.now()
		ds, err := e.store.ClaimDeliveries(ctx, store.ClaimDeliveriesParams{IntegrationID: w.id, Limit: n, Now: now, LeaseUntil: now.Add(e.cfg.Lease)})
		if err != nil {
			release()
			lim.refund(n)
			if ctx.Err() == nil {
				e.log.Error("delivery: claim", "integration", w.id, "err", err)
			}
			w.wait(ctx, time.Second)
			continue
		}
		lim.refund(n - len(ds))
		if hold := lim.held(e.now()); len(ds) > 0 && hold > 0 {
			// The budget was held between the reservation and the claim
			// (a 429, or an answer saying the window is spent): these
			// slots predate it. Give the claim back untouched and wait
			// with everyone else. With a budget shared by nodes, a 429
			// another node got is seen from this node's next reservation
			// on (the row's block), not here.
			if err := e.store.FinishDeliveries(context.WithoutCancel(ctx), store.FinishDeliveriesParams{Deliveries: ds, Now: now}); err != nil {
				e.log.Error("delivery: release claim", "integration", w.id, "err", err)
			}
			lim.refund(len(ds))
			release()
			e.limiterWait(w.id, hold)
			w.wait(ctx, hold)
			continue
		}
		if len(ds) > 0 && w.pauses.Load() != pauses {
			// A round paused the integration after in was read, and may
			// have released its refused deliveries since: give these back
			// untouched rather than send them with the refused key.
			if err := e.store.FinishDeliveries(context.WithoutCancel(ctx), store.FinishDeliveriesParams{Deliveries: ds, Now: now}); err != nil {
				e.log.Error("delivery: release claim", "integration", w.id, "err", err)
			}
			lim.refund(len(ds))
			release()
			continue
		}
		if len(ds) == 0 {
			release()
			if len(slots) > 0 {
				// Rounds in flight will poke when they finish: their
				// contacts' next events may then be due.
				w.wait(ctx, e.cfg.Poll)
				continue
			}
			next, ok, err := e.store.NextDue(ctx, store.NextDueParams{IntegrationID: w.id})
			switch {
			case err != nil:
				w.wait(ctx, time.Second)
			case !ok:
				w.wait(ctx, e.cfg.Poll)
			case !next.After(now):
				// Due at the claim yet not claimed: it waits behind an
				// earlier delivery of its contact that backs off. NextDue
				// cannot say when that one is due; sleep a poll rather than
				// claim again at once (a hot loop for as long as it backs
				// off, up to the retry horizon).
				w.wait(ctx, e.cfg.Poll)
			default:
				w.wait(ctx, min(max(next.Sub(e.now()), 5*time.Millisecond), e.cfg.Poll))
			}
			continue
		}
		rounds.Add(1)
		go func() {
			defer rounds.Done()
			w.round(ctx, in, vendor, lim, ds)
			release()
			w.poke()
		}()
	}
}

// round sends claimed deliveries and records what happened. Requests in
// flight are not cancelled when ctx is done: they finish (bounded by the
// request timeout) and are recorded, so a shutdown leaves nothing half done.
func (w *worker) round(ctx context.Context, in *signal.Integration, vendor integration.Vendor, lim budget, ds []*signal.Delivery) {
	e := w.e
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.DrainTimeout)
	defer cancel()
	outcomes := make([]integration.Outcome, len(ds))
	starts, took := make([]time.Time, len(ds)), make([]time.Duration, len(ds))
	lim.sent(e.now(), len(ds))
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			starts[i] = e.now()
			outcomes[i] = e.attempt(sendCtx, in, vendor, d.Payload)
			took[i] = e.now().Sub(starts[i])
		}()
	}
	wg.Wait()

	now := e.now()
	// Cut short by the drain deadline at shutdown: no answer came because
	// we stopped waiting, not because the vendor failed. Such deliveries
	// are released as they were (FinishDeliveries frees the lease),
	// spending no attempt.
	drained := ctx.Err() != nil && sendCtx.Err() != nil
	var pause *integration.Outcome
	for i, d := range ds {
		o := outcomes[i]
		if drained && o.Status == 0 && o.Kind == integration.Retry {
			continue
		}
		lim.observe(starts[i], o.Limit) // as of the request's start
		if o.Kind == integration.RateLimited {
			// The vendor says how long (e.g. until its window resets).
			lim.block(now, max(o.RetryAfter, 10*time.Millisecond))
		}
		if o.Kind == integration.Pause && pause == nil {
			pause = &outcomes[i]
		}
		e.apply(d, o, now)
		d.Attempt = attemptOf(o, starts[i], took[i])
	}
	// Pause, and count it, before the refused deliveries are released: a
	// claim made on the integration as it was before the pause is given
	// back (see run), not sent again with the refused key.
	if pause != nil {
		e.pause(context.WithoutCancel(ctx), in, pause.Reason)
		w.pauses.Add(1)
	}
	if err := e.store.FinishDeliveries(context.WithoutCancel(ctx), store.FinishDeliveriesParams{Deliveries: ds, Now: now}); err != nil {
		// The leases expire and the deliveries are sent again with the
		// same eventID: a duplicate at worst, never a loss.
		e.log.Error("delivery: record outcomes", "integration", w.id, "deliveries", len(ds), "err", err)
	}
}

// attempt sends one payload and classifies the answer.
func (e *Engine) attempt(ctx context.Context, in *signal.Integration, vendor integration.Vendor, payload []byte) integration.Outcome {
	ctx, cancel := context.WithTimeout(ctx, e.timeout(vendor))
	defer cancel()
	req, err := vendor.Request(ctx, in, payload)
	if err != nil {
		// Nothing was sent; the vendor says whether its request failed
		// for the integration (a bad key: pause) or for this event.
		re := &integration.RequestError{Err: err}
		o := vendor.Classify(nil, nil, re)
		if o.Body == "" {
			o.Body = re.Error()
		}
		return o
	}
	resp, err := e.client.Do(req)
	if err != nil {
		o := vendor.Classify(nil, nil, err)
		if o.Body == "" {
			o.Body = transportError(err)
		}
		return o
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // reuse the connection
	return vendor.Classify(resp, body, nil)
}

// attemptOf is what Live Events keeps of one request: the vendor's answer,
// or why none came.
func attemptOf(o integration.Outcome, at time.Time, took time.Duration) *signal.Attempt {
	a := &signal.Attempt{At: at, VendorStatus: o.Status, DurationMS: took.Milliseconds()}
	if o.Status == 0 {
		a.Error = o.Body
	} else {
		a.VendorResponse = o.Body
	}
	return a
}

func transportError(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer within the timeout"
	}
	return "connection failed: " + err.Error()
}

// apply turns an outcome into the delivery's next state.
func (e *Engine) apply(d *signal.Delivery, o integration.Outcome, now time.Time) {
	d.VendorStatus, d.VendorResponse = o.Status, o.Body
	switch o.Kind {
	case integration.Delivered:
		d.Attempts++
		d.Status, d.Reason = signal.StatusDelivered, ""
	case integration.Drop:
		d.Attempts++
		d.Status, d.Reason = signal.StatusFailed, o.Reason
		if d.Reason == "" {
			d.Reason = signal.ReasonVendorRejected
		}
		if d.Reason == signal.ReasonPayloadError && o.Body != "" {
			// Nothing was sent: the reason's text points to the note.
			d.Note = strings.TrimSpace(d.Note + " The payload could not be built: " + o.Body)
		}
	case integration.RateLimited:
		// Not due before the vendor's wait is over, whatever the limiter
		// says by then (another round may hold slots reserved before it).
		d.Status, d.Reason = signal.StatusPending, signal.ReasonRateLimited
		d.NextAttemptAt = now.Add(max(o.RetryAfter, 10*time.Millisecond))
	case integration.Pause:
		d.Status, d.Reason = signal.StatusPending, o.Reason
		d.NextAttemptAt = now
	default: // Retry
		if d.Attempts == 0 {
			// The first failure starts the retry window: time spent
			// waiting in the queue, behind 429s or a pause, is not
			// retrying. (CreatedAt also moves on by a pause's length
			// when the integration flows again: store.UpdateIntegration.)
			d.CreatedAt = now
		}
		d.Attempts++
		deadline := d.CreatedAt.Add(e.cfg.Backoff.Horizon)
		if !now.Before(deadline) || now.Add(o.RetryAfter).After(deadline) {
			// Out of time, or the vendor asks to wait past it.
			d.Status, d.Reason = signal.StatusFailed, signal.ReasonRetriesExhausted
			return
		}
		// The last try is at the window's end, not one back-off before it.
		next := now.Add(max(e.cfg.Backoff.Next(d.Attempts), o.RetryAfter))
		if next.After(deadline) {
			next = deadline
		}
		d.Status, d.Reason = signal.StatusPending, signal.ReasonRetrying
		d.NextAttemptAt = next
	}
}

// pause holds an integration after the vendor refused its credentials,
// unless its config changed while the request was in flight (a key that was
// just replaced must not be paused for the old key's answer).
func (e *Engine) pause(ctx context.Context, sent *signal.Integration, reason signal.Reason) {
	paused, err := e.store.PauseIntegration(ctx, store.PauseIntegrationParams{
		ID: sent.ID, Reason: reason, IfUpdatedAt: sent.UpdatedAt, Now: e.now().UTC(),
	})
	if err != nil {
		e.log.Error("delivery: pause integration", "integration", sent.ID, "err", err)
		return
	}
	if paused {
		e.log.Warn("delivery: integration paused; its events wait until its config changes", "integration", sent.ID, "reason", reason)
	}
}

// BuildTest builds a test event's payload without sending it (dry run).
func (e *Engine) BuildTest(in *signal.Integration, ev *integration.Event) ([]byte, error) {
	vendor, ok := e.vendors.Vendor(in.CatalogKey)
	if !ok {
		return nil, signal.Errorf(signal.ECONFLICT, "this integration's vendor is not available")
	}
	return vendor.Payload(ev)
}

// SendTest sends one test event through an integration now, outside the
// queue but within the key's rate limit, and returns the vendor's answer.
func (e *Engine) SendTest(ctx context.Context, in *signal.Integration, ev *integration.Event) (integration.Outcome, []byte, error) {
	vendor, ok := e.vendors.Vendor(in.CatalogKey)
	if !ok {
		return integration.Outcome{}, nil, signal.Errorf(signal.ECONFLICT, "this integration's vendor is not available")
	}
	payload, err := vendor.Payload(ev)
	if err != nil {
		return integration.Outcome{}, nil, err
	}
	lim := e.limiter(in, vendor)
	deadline := e.now().Add(e.timeout(vendor))
	for {
		n, delay := lim.reserve(e.now(), 1)
		if n == 1 {
			lim.sent(e.now(), 1)
			break
		}
		if e.now().Add(delay).After(deadline) {
			return integration.Outcome{Kind: integration.RateLimited, Body: "the vendor's rate limit is spent; try again in a minute"}, payload, nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return integration.Outcome{}, nil, ctx.Err()
		case <-t.C:
		}
	}
	sent := e.now()
	o := e.attempt(ctx, in, vendor, payload)
	lim.observe(sent, o.Limit)
	return o, payload, nil
}
