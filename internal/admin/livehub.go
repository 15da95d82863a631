package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/token"
)

// liveHub shares one poll of the store per distinct filter set among every
// connected Live Events stream: eight people watching the same view cost
// one query per interval, not eight. A poll starts with its first client
// and stops with its last.
type liveHub struct {
	store liveLister
	every time.Duration
	log   *slog.Logger

	mu    sync.Mutex
	polls map[string]*livePoll
	// tick makes a poll's clock (a ticker in production, driven by hand
	// in tests).
	tick func(d time.Duration) (<-chan time.Time, func())
}

type liveLister interface {
	ListLiveEvents(ctx context.Context, p store.ListLiveEventsParams) ([]*signal.LiveEvent, string, error)
}

// Bounds: distinct filter sets polled at once (each is a query per
// interval), clients per poll, and batches a slow client may fall behind
// before it is dropped (its EventSource reconnects).
const (
	maxLivePolls      = 64
	maxLiveClients    = 256
	liveClientBacklog = 16
	liveWatchRows     = 100
	liveSeenMax       = 10000
)

type livePoll struct {
	params store.ListLiveEventsParams
	cancel context.CancelFunc
	subs   map[*liveSub]struct{}
}

// liveSub is one connected stream: it receives the rows each poll found
// new or changed, oldest change first. gone is closed when it fell too far
// behind.
type liveSub struct {
	rows chan []*signal.LiveEvent
	gone chan struct{}
}

func newLiveHub(st liveLister, every time.Duration, log *slog.Logger) *liveHub {
	return &liveHub{store: st, every: every, log: log, polls: map[string]*livePoll{},
		tick: func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}}
}

// filterKey names a filter set; equal filters share a poll.
func filterKey(p store.ListLiveEventsParams) string {
	return strings.Join(append([]string{p.IntegrationID, p.PipelineID, string(p.Status), p.Type, p.Event, string(p.Reason)}, p.SearchKeys...), "\x00")
}

// subscribe joins (or starts) the poll of p's filters.
func (h *liveHub) subscribe(p store.ListLiveEventsParams) (*liveSub, func(), error) {
	p.Cursor, p.Limit = "", liveWatchRows
	key := filterKey(p)
	h.mu.Lock()
	defer h.mu.Unlock()
	lp := h.polls[key]
	if lp == nil {
		if len(h.polls) >= maxLivePolls {
			return nil, nil, signal.Errorf(signal.ECONFLICT, "too many different live event views are open at once (%d); close one or share its filters", maxLivePolls)
		}
		ctx, cancel := context.WithCancel(context.Background())
		lp = &livePoll{params: p, cancel: cancel, subs: map[*liveSub]struct{}{}}
		h.polls[key] = lp
		go h.run(ctx, lp, h.tick)
	}
	if len(lp.subs) >= maxLiveClients {
		return nil, nil, signal.Errorf(signal.ECONFLICT, "too many clients watch these live events (%d)", maxLiveClients)
	}
	sub := &liveSub{rows: make(chan []*signal.LiveEvent, liveClientBacklog), gone: make(chan struct{})}
	lp.subs[sub] = struct{}{}
	return sub, func() { h.leave(key, lp, sub) }, nil
}

func (h *liveHub) leave(key string, lp *livePoll, sub *liveSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(lp.subs, sub)
	if len(lp.subs) == 0 && h.polls[key] == lp {
		delete(h.polls, key)
		lp.cancel()
	}
}

// run polls the newest rows of one filter set and sends every client the
// rows that are new or changed since the previous poll. The first poll only
// learns what is there: streams send changes from the moment they connect.
func (h *liveHub) run(ctx context.Context, lp *livePoll, clock func(time.Duration) (<-chan time.Time, func())) {
	tick, stop := clock(h.every)
	defer stop()
	seen := map[string]time.Time{}
	first := true
	for {
		evs, _, err := h.store.ListLiveEvents(ctx, lp.params)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			h.log.Error("admin: live events poll", "err", err)
		default:
			var changed []*signal.LiveEvent
			for i := len(evs) - 1; i >= 0; i-- {
				le := evs[i]
				key := le.ID + "|" + string(le.Status)
				if last, ok := seen[key]; ok && !le.UpdatedAt.After(last) {
					continue
				}
				seen[key] = le.UpdatedAt
				changed = append(changed, le)
			}
			if !first && len(changed) > 0 {
				h.broadcast(lp, changed)
			}
			first = false
			if len(seen) > liveSeenMax {
				clear(seen)
				first = true
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
	}
}

// broadcast hands rows to every client; one too far behind is dropped
// rather than holding the others.
func (h *liveHub) broadcast(lp *livePoll, rows []*signal.LiveEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range lp.subs {
		select {
		case sub.rows <- rows:
		default:
			delete(lp.subs, sub)
			close(sub.gone)
		}
	}
}

// handleStreamLiveEvents sends one server-sent event per live event that is
// new or changed, oldest change first, for the newest rows matching the
// filters (the view a person has open). Polling the store, shared through
// the hub, works the same when several nodes share a database.
func (s *Server) handleStreamLiveEvents(w http.ResponseWriter, r *http.Request) {
	p, err := s.liveParams(r, liveStreamParams)
	if err != nil {
		writeErr(w, err)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, signal.EINTERNAL, "streaming is not supported by this connection", "")
		return
	}
	sub, leave, err := s.live.subscribe(p)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", signal.ErrorMessage(err), "")
		return
	}
	defer leave()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": connected\n\n")
	flusher.Flush()
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	// The stream outlives the request's checks: it ends once its user is
	// deleted or its session signed out (seen within UserCheckTTL; the
	// cache makes each check cheap).
	recheck := time.NewTicker(s.cfg.StreamPoll)
	defer recheck.Stop()
	claims := r.Context().Value(ctxKey{}).(*token.Claims)
	for {
		select {
		case <-r.Context().Done():
			return
		case <-sub.gone:
			return
		case <-recheck.C:
			_, err := s.user(r.Context(), claims.Subject)
			if err == nil {
				err = s.checkSession(r.Context(), claims.SessionID)
			}
			if signal.ErrorCode(err) == signal.EUNAUTHORIZED {
				return
			}
			continue
		case <-keepalive.C:
			fmt.Fprint(w, ": keepalive\n\n")
		case rows := <-sub.rows:
			for _, le := range rows {
				b, err := json.Marshal(le)
				if err != nil {
					s.log.Error("admin: live events stream", "err", err)
					return
				}
				if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
					return
				}
			}
		}
		flusher.Flush()
	}
}
