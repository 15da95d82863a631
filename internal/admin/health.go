package admin

import (
	"net/http"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// RateLimits reports the rate-limit state of an integration's vendor key
// (the delivery engine's limiter, in memory on this node).
type RateLimits interface {
	RateLimit(in *signal.Integration) (signal.RateLimitState, bool)
}

// healthView is GET /integrations/{id}/health.
type healthView struct {
	Status               string                 `json:"status"`
	StatusReason         string                 `json:"status_reason"`
	StatusText           string                 `json:"status_text"`
	LastHour             store.Outcomes         `json:"last_hour"`
	LastDay              store.Outcomes         `json:"last_day"`
	Backlog              int                    `json:"backlog"`
	OldestPendingSeconds int64                  `json:"oldest_pending_seconds"`
	RateLimit            *signal.RateLimitState `json:"rate_limit"`
	PerMinute            []store.MinuteOutcomes `json:"per_minute"`
}

func (s *Server) handleIntegrationHealth(w http.ResponseWriter, r *http.Request) {
	if err := checkParams(r, nil); err != nil {
		writeErr(w, err)
		return
	}
	in, err := s.store.GetIntegration(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.now().UTC()
	h, err := s.store.IntegrationHealth(r.Context(), store.IntegrationHealthParams{IntegrationID: in.ID, Now: now})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := healthView{Status: in.Status, StatusReason: in.StatusReason, LastHour: h.LastHour, LastDay: h.LastDay,
		Backlog: h.Backlog, PerMinute: h.PerMinute}
	if !in.Enabled {
		v.Status, v.StatusReason = "disabled", signal.ReasonIntegrationDisabled
	}
	v.StatusText = signal.ReasonText(v.StatusReason)
	if !h.OldestPending.IsZero() {
		v.OldestPendingSeconds = max(int64(now.Sub(h.OldestPending).Seconds()), 0)
	}
	if s.rateLimits != nil {
		if st, ok := s.rateLimits.RateLimit(in); ok {
			v.RateLimit = &st
		}
	}
	writeJSON(w, http.StatusOK, v)
}
