package admin

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/token"
)

var liveStatuses = map[string]bool{
	signal.StatusPending: true, signal.StatusDelivered: true, signal.StatusFiltered: true,
	signal.StatusFailed: true, signal.StatusPaused: true,
}

func liveParams(r *http.Request) (store.ListLiveEventsParams, error) {
	q := r.URL.Query()
	cursor, limit, err := pageParams(r)
	if err != nil {
		return store.ListLiveEventsParams{}, err
	}
	p := store.ListLiveEventsParams{
		IntegrationID: q.Get("integration_id"),
		PipelineID:    q.Get("pipeline_id"),
		Status:        q.Get("status"),
		Type:          q.Get("type"),
		Event:         q.Get("event"),
		Cursor:        cursor,
		Limit:         limit,
	}
	if p.Status != "" && !liveStatuses[p.Status] {
		return p, signal.FieldErrorf(signal.EINVALID, "status", "status must be one of pending, delivered, filtered, failed, paused")
	}
	return p, nil
}

func (s *Server) handleListLiveEvents(w http.ResponseWriter, r *http.Request) {
	p, err := liveParams(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	evs, next, err := s.store.ListLiveEvents(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if evs == nil {
		evs = []*signal.LiveEvent{}
	}
	writeJSON(w, http.StatusOK, page[*signal.LiveEvent]{Data: evs, NextCursor: next, HasMore: next != ""})
}

// handleStreamLiveEvents sends one server-sent event per live event that is
// new or changed, oldest change first. It watches the newest rows matching
// the filters (the view a person has open) by polling the store, so it works
// the same when several nodes share a database.
func (s *Server) handleStreamLiveEvents(w http.ResponseWriter, r *http.Request) {
	p, err := liveParams(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	p.Cursor, p.Limit = "", 100
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, signal.EINTERNAL, "streaming is not supported by this connection", "")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt_ := func(le *signal.LiveEvent) error {
		b, err := json.Marshal(le)
		if err != nil {
			return err
		}
		if _, err := w.Write([]byte("data: ")); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		_, err = w.Write([]byte("\n\n"))
		return err
	}
	w.Write([]byte(": connected\n\n"))
	flusher.Flush()

	seen := map[string]time.Time{}
	first := true
	tick := time.NewTicker(s.cfg.StreamPoll)
	defer tick.Stop()
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	subject := r.Context().Value(ctxKey{}).(*token.Claims).Subject
	for {
		// The stream outlives the request's checks: it ends once its
		// user is deleted (seen within UserCheckTTL).
		if _, err := s.user(r.Context(), subject); signal.ErrorCode(err) == signal.EUNAUTHORIZED {
			return
		}
		evs, _, err := s.store.ListLiveEvents(r.Context(), p)
		if err != nil {
			if r.Context().Err() == nil {
				s.log.Error("admin: live events stream", "err", err)
			}
			return
		}
		for i := len(evs) - 1; i >= 0; i-- {
			le := evs[i]
			key := le.ID + "|" + le.Status
			if last, ok := seen[key]; ok && !le.UpdatedAt.After(last) {
				continue
			}
			seen[key] = le.UpdatedAt
			if first {
				continue // the stream sends changes from now on
			}
			if err := fmt_(le); err != nil {
				return
			}
		}
		if len(seen) > 10000 {
			clear(seen)
			first = true
			continue
		}
		first = false
		flusher.Flush()
		select {
		case <-r.Context().Done():
			return
		case <-keepalive.C:
			w.Write([]byte(": keepalive\n\n"))
			flusher.Flush()
		case <-tick.C:
		}
	}
}
