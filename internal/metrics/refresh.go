package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// GaugeStore is what the gauges are read from.
type GaugeStore interface {
	ListIntegrations(ctx context.Context, p store.ListParams) ([]*signal.Integration, error)
	IntegrationBacklog(ctx context.Context, p store.IntegrationBacklogParams) (*store.IntegrationBacklog, error)
	Cursor(ctx context.Context, p store.CursorParams) (int64, error)
	ListEvents(ctx context.Context, p store.ListEventsParams) ([]signal.Event, error)
}

// RefreshEvery is how often the store gauges are read: the contract wants
// them within 10 s of the store.
const RefreshEvery = 5 * time.Second

// RunRefresher reads the backlog gauges from the store every period until
// ctx is done, and logs at info when an integration is paused or flows
// again (whichever node or person caused it).
func (m *Metrics) RunRefresher(ctx context.Context, s GaugeStore, period time.Duration, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	status := map[string]string{}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		if err := m.Refresh(ctx, s, status, log); err != nil && ctx.Err() == nil {
			log.Error("metrics: read the store gauges", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Refresh reads the gauges once. status carries each integration's last
// seen status between calls (nil: no pause/resume logs).
func (m *Metrics) Refresh(ctx context.Context, s GaugeStore, status map[string]string, log *slog.Logger) error {
	var all []*signal.Integration
	for after := ""; ; {
		page, err := s.ListIntegrations(ctx, store.ListParams{After: after, Limit: 200})
		if err != nil {
			return err
		}
		all = append(all, page...)
		if len(page) < 200 {
			break
		}
		after = page[len(page)-1].ID
	}
	now := time.Now()
	vendors := make(map[string]string, len(all))
	type gauge struct {
		backlog, oldest float64
		active          float64
	}
	read := make(map[string]gauge, len(all))
	for _, in := range all {
		vendors[in.ID] = in.CatalogKey
		h, err := s.IntegrationBacklog(ctx, store.IntegrationBacklogParams{IntegrationID: in.ID})
		if err != nil {
			return err
		}
		g := gauge{backlog: float64(h.Backlog)}
		if !h.OldestPending.IsZero() {
			g.oldest = max(now.Sub(h.OldestPending).Seconds(), 0)
		}
		if in.Status != signal.IntegrationPaused {
			g.active = 1
		}
		read[in.ID] = g
		if status != nil {
			if was, seen := status[in.ID]; seen && was != in.Status {
				if in.Status == signal.IntegrationPaused {
					log.Info("integration paused", "integration", in.ID, "vendor", in.CatalogKey, "reason", in.StatusReason)
				} else {
					log.Info("integration resumed", "integration", in.ID, "vendor", in.CatalogKey)
				}
			}
			status[in.ID] = in.Status
		}
	}
	m.vendors.set(vendors)
	// Reset first: a deleted integration's series disappear.
	m.backlog.Reset()
	m.oldestPending.Reset()
	m.integrationUp.Reset()
	for id, g := range read {
		m.backlog.WithLabelValues(id).Set(g.backlog)
		m.oldestPending.WithLabelValues(id).Set(g.oldest)
		m.integrationUp.WithLabelValues(id, vendors[id]).Set(g.active)
	}
	// The processor's lag in time, the same on every node: the age of the
	// oldest event it has not passed yet.
	cursor, err := s.Cursor(ctx, store.CursorParams{Name: store.ProcessorCursor})
	if err != nil {
		return err
	}
	next, err := s.ListEvents(ctx, store.ListEventsParams{AfterSeq: cursor, Limit: 1})
	if err != nil {
		return err
	}
	lag := 0.0
	if len(next) > 0 {
		lag = max(now.Sub(next[0].ReceivedAt).Seconds(), 0)
	}
	m.processorLagSeconds.Set(lag)
	m.gaugesRefreshed.Set(float64(now.Unix()))
	return nil
}
