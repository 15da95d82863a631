package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// Store counts what the gateway, the processor and the delivery engine do
// through the store they share, and passes every call on unchanged.
type Store struct {
	store.Store
	m     *Metrics
	fails *sampler
	log   *slog.Logger
}

// WrapStore returns s instrumented. Vendor failures are logged at info
// through log (sampled per integration), with ids and codes only.
func (m *Metrics) WrapStore(s store.Store, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{Store: s, m: m, fails: newSampler(10 * time.Second), log: log}
}

func (s *Store) AppendEvents(ctx context.Context, p store.AppendEventsParams) error {
	start := time.Now()
	err := s.Store.AppendEvents(ctx, p)
	if err != nil {
		return err
	}
	s.m.appendSeconds.Observe(time.Since(start).Seconds())
	s.m.appendEvents.Observe(float64(len(p.Events)))
	var head int64
	for _, ev := range p.Events {
		head = max(head, ev.Seq)
	}
	s.m.mu.Lock()
	s.m.head = max(s.m.head, head)
	s.m.mu.Unlock()
	return nil
}

func (s *Store) RecordProcessed(ctx context.Context, p store.RecordProcessedParams) error {
	start := time.Now()
	err := s.Store.RecordProcessed(ctx, p)
	if err != nil {
		return err
	}
	s.m.processorSeconds.Observe(time.Since(start).Seconds())
	s.m.processorCursor.Set(float64(p.UpToSeq))
	s.m.mu.Lock()
	lag := max(s.m.head-p.UpToSeq, 0)
	s.m.mu.Unlock()
	s.m.processorLag.Set(float64(lag))
	// Deliveries the processor settles at once (filtered) are final here;
	// the duplicate window may turn a pending one filtered in the store,
	// which is counted as pending (it never reaches FinishDeliveries).
	for _, d := range p.Deliveries {
		if d.Status == signal.StatusFiltered || d.Status == signal.StatusFailed || d.Status == signal.StatusDelivered {
			s.m.deliveries.WithLabelValues(d.IntegrationID, s.vendor(ctx, d.IntegrationID), string(d.Status)).Inc()
		}
	}
	return nil
}

func (s *Store) ClaimDeliveries(ctx context.Context, p store.ClaimDeliveriesParams) ([]*signal.Delivery, error) {
	start := time.Now()
	ds, err := s.Store.ClaimDeliveries(ctx, p)
	if err == nil {
		s.m.claimSeconds.Observe(time.Since(start).Seconds())
	}
	return ds, err
}

func (s *Store) FinishDeliveries(ctx context.Context, p store.FinishDeliveriesParams) error {
	if err := s.Store.FinishDeliveries(ctx, p); err != nil {
		return err
	}
	for _, d := range p.Deliveries {
		switch d.Status {
		case signal.StatusDelivered, signal.StatusFiltered, signal.StatusFailed:
			s.m.deliveries.WithLabelValues(d.IntegrationID, s.vendor(ctx, d.IntegrationID), string(d.Status)).Inc()
		case signal.StatusPending:
			if d.Attempt != nil {
				s.m.retries.WithLabelValues(d.IntegrationID, string(d.Reason)).Inc()
			}
		}
		if d.Attempt != nil && (d.Status == signal.StatusFailed || d.Status == signal.StatusPending) {
			s.logFailure(ctx, d)
		}
	}
	return nil
}

// logFailure says a vendor refused or failed a request: at most one line
// per integration every 10 s, with how many it stands for. The vendor's
// answer is not logged (it may quote the contact).
func (s *Store) logFailure(ctx context.Context, d *signal.Delivery) {
	n, ok := s.fails.allow(d.IntegrationID)
	if !ok {
		return
	}
	s.log.Info("delivery: vendor request failed", "integration", d.IntegrationID, "vendor", s.vendor(ctx, d.IntegrationID),
		"delivery", d.ID, "status", d.Status, "reason", d.Reason, "vendor_status", d.VendorStatus, "attempts", d.Attempts, "failures", n)
}

func (s *Store) PauseIntegration(ctx context.Context, p store.PauseIntegrationParams) (bool, error) {
	paused, err := s.Store.PauseIntegration(ctx, p)
	if err == nil && paused {
		s.m.pauses.WithLabelValues(p.ID, string(p.Reason)).Inc()
	}
	return paused, err
}

// vendor is the catalog key of an integration: from the Refresher's map,
// else read once (an integration installed since the last refresh).
func (s *Store) vendor(ctx context.Context, id string) string {
	if k, ok := s.m.vendors.lookup(id); ok {
		return k
	}
	in, err := s.Store.GetIntegration(ctx, store.GetIntegrationParams{ID: id})
	if err != nil {
		if signal.ErrorCode(err) == signal.ENOTFOUND {
			// Deleted: not read again for each of its deliveries (the
			// Refresher's next map forgets it).
			s.m.vendors.add(id, "unknown")
		}
		return "unknown"
	}
	s.m.vendors.add(id, in.CatalogKey)
	return in.CatalogKey
}

// vendorNames maps integration ids to their vendor's catalog key, kept by
// the Refresher (an integration not seen yet is "unknown").
type vendorNames struct {
	mu sync.RWMutex
	m  map[string]string
}

func (v *vendorNames) lookup(id string) (string, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	k, ok := v.m[id]
	return k, ok
}

func (v *vendorNames) add(id, key string) {
	v.mu.Lock()
	v.m[id] = key
	v.mu.Unlock()
}

func (v *vendorNames) set(m map[string]string) {
	v.mu.Lock()
	v.m = m
	v.mu.Unlock()
}

// sampler lets one event per key through per period and counts the rest.
type sampler struct {
	mu     sync.Mutex
	period time.Duration
	last   map[string]time.Time
	count  map[string]int
}

func newSampler(period time.Duration) *sampler {
	return &sampler{period: period, last: map[string]time.Time{}, count: map[string]int{}}
}

// allow reports whether to log now, and how many events (this one
// included) the line stands for.
func (s *sampler) allow(key string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count[key]++
	now := time.Now()
	if now.Sub(s.last[key]) < s.period {
		return 0, false
	}
	n := s.count[key]
	s.last[key], s.count[key] = now, 0
	if len(s.last) > 10000 { // keys are ids and codes; bound it anyway
		s.last, s.count = map[string]time.Time{}, map[string]int{}
	}
	return n, true
}
