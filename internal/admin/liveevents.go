package admin

import (
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/signalhq/signal/internal/pipeline"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

var liveStatuses = map[signal.DeliveryStatus]bool{
	signal.StatusPending: true, signal.StatusDelivered: true, signal.StatusFiltered: true,
	signal.StatusFailed: true, signal.StatusPaused: true,
}

// The query parameters each Live Events route reads; any other is refused
// (a misspelt filter must not silently show everything).
var (
	liveFilterParams = []string{"integration_id", "pipeline_id", "type", "event", "reason", "q"}
	liveListParams   = append([]string{"status", "cursor", "limit"}, liveFilterParams...)
	liveStreamParams = append([]string{"status", "access_token"}, liveFilterParams...)
	liveCountParams  = liveFilterParams
)

// checkParams refuses a query parameter not in allowed, naming it.
func checkParams(r *http.Request, allowed []string) error {
	q := r.URL.Query()
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !slices.Contains(allowed, k) {
			return signal.FieldErrorf(signal.EINVALID, k, "unknown query parameter %q: this route takes %s", k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// liveParams reads the Live Events filters of r, allowing the parameters
// of allowed.
func (s *Server) liveParams(r *http.Request, allowed []string) (store.ListLiveEventsParams, error) {
	if err := checkParams(r, allowed); err != nil {
		return store.ListLiveEventsParams{}, err
	}
	q := r.URL.Query()
	cursor, limit, err := pageParams(r)
	if err != nil {
		return store.ListLiveEventsParams{}, err
	}
	p := store.ListLiveEventsParams{
		IntegrationID: q.Get("integration_id"),
		PipelineID:    q.Get("pipeline_id"),
		Status:        signal.DeliveryStatus(q.Get("status")),
		Type:          q.Get("type"),
		Event:         q.Get("event"),
		Reason:        signal.Reason(q.Get("reason")),
		Cursor:        cursor,
		Limit:         limit,
	}
	if p.Status != "" && !liveStatuses[p.Status] {
		return p, signal.FieldErrorf(signal.EINVALID, "status", "status must be one of pending, delivered, filtered, failed, paused")
	}
	if p.Reason != "" && signal.ReasonText(p.Reason) == "" {
		return p, signal.FieldErrorf(signal.EINVALID, "reason", "reason %q is not a reason code Live Events shows", p.Reason)
	}
	if search := strings.TrimSpace(q.Get("q")); search != "" {
		if len(search) > 512 {
			return p, signal.FieldErrorf(signal.EINVALID, "q", "q is longer than any user id, email or order id (512 characters at most)")
		}
		if s.hasher == nil {
			return p, signal.FieldErrorf(signal.EINVALID, "q", "search is not available on this server")
		}
		// Ids are stored only as keyed hashes: hash q as each kind of id.
		p.SearchKeys = pipeline.SearchHashes(s.hasher, search)
	}
	return p, nil
}

func (s *Server) handleListLiveEvents(w http.ResponseWriter, r *http.Request) {
	p, err := s.liveParams(r, liveListParams)
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

// liveCountWindow is how many of the newest matching rows the Live Events
// counts cover: the page asks for them when it opens and once a second
// while it streams, and the log holds SIGNAL_RETENTION_DAYS of events, so
// a count of every row would grow with the store's traffic (about 1.5 µs a
// row on SQLite: 50 s for a month of a busy store's events).
const liveCountWindow = 10_000

// liveCountsView is GET /live-events/counts: the counts of the newest
// Window rows; limited says more rows match.
type liveCountsView struct {
	store.LiveCounts
	Window int `json:"window"`
}

func (s *Server) handleCountLiveEvents(w http.ResponseWriter, r *http.Request) {
	p, err := s.liveParams(r, liveCountParams)
	if err != nil {
		writeErr(w, err)
		return
	}
	p.Limit = liveCountWindow
	c, err := s.store.CountLiveEvents(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, liveCountsView{LiveCounts: c, Window: liveCountWindow})
}

func (s *Server) handleGetLiveEvent(w http.ResponseWriter, r *http.Request) {
	if err := checkParams(r, nil); err != nil {
		writeErr(w, err)
		return
	}
	det, err := s.store.GetLiveEvent(r.Context(), store.GetLiveEventParams{ID: r.PathValue("id")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, det)
}
