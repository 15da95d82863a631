package admin

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/signalhq/signal/internal/backfill"
	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// BackfillNotifier is told a backfill was created, so this node's sender
// starts it at once (other nodes find it within their scan).
type BackfillNotifier interface {
	BackfillCreated(id string)
}

// backfillReadTimeout is how long a backfill's body may take to arrive
// (64 MiB at about 2 Mbit/s); a stalled upload still ends.
const backfillReadTimeout = 5 * time.Minute

// backfillView is a backfill as the API shows it. failed counts every item
// that did not reach the vendor's account; filtered says how many of them
// Signal's own rules held back (consent, blueprint, no identifier).
type backfillView struct {
	ID            string    `json:"id"`
	IntegrationID string    `json:"integration_id"`
	Status        string    `json:"status"`
	Accepted      int       `json:"accepted"`
	Delivered     int       `json:"delivered"`
	Failed        int       `json:"failed"`
	Filtered      int       `json:"filtered"`
	Pending       int       `json:"pending"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func viewBackfill(b *store.Backfill) backfillView {
	return backfillView{ID: b.ID, IntegrationID: b.IntegrationID, Status: b.Status, Accepted: b.Accepted, Delivered: b.Delivered,
		Failed: b.Failed, Filtered: b.Filtered, Pending: b.Pending, CreatedAt: b.CreatedAt.UTC(), UpdatedAt: b.UpdatedAt.UTC()}
}

// handleCreateBackfill is POST /integrations/{id}/backfill: historical
// events as NDJSON (gzip allowed), one Segment message a line. Bad lines are
// refused alone and listed; the others are stored with the backfill before
// the 202, and sent through the vendor's batch endpoint.
func (s *Server) handleCreateBackfill(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	it, err := s.store.GetIntegration(r.Context(), store.GetIntegrationParams{ID: id})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if v, ok := s.catalog.Vendor(it.CatalogKey); !ok || !isBatchSender(v) {
		writeError(w, http.StatusBadRequest, signal.EINVALID, "this integration's vendor has no batch endpoint, so it cannot take a backfill", "")
		return
	}
	// One upload at a time: each holds up to 64 MiB decoded while it is
	// read and stored, and its store writes compete with live events'.
	select {
	case s.backfillIntake <- struct{}{}:
		defer func() { <-s.backfillIntake }()
	default:
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusTooManyRequests, "BACKFILL_BUSY", "another backfill is being uploaded to this server; send this one when it has been accepted", "")
		return
	}
	// A history may take longer to upload than the listener's read
	// deadline, meant for small bodies: this route's body gets its own. A
	// network deadline is wall-clock time, not the server's clock (tests
	// set that in the past: the connection then timed out under the next
	// request on it, which failed with "context canceled").
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(backfillReadTimeout))
	// The compressed body is bounded too (gzip is bounded after
	// decompression by Decode).
	lim := backfill.DefaultLimits
	body := &bodyCap{r: http.MaxBytesReader(w, r.Body, lim.MaxBytes)}
	items, rejected, err := backfill.Decode(body, lim)
	switch {
	case errors.Is(err, backfill.ErrTooLarge) || body.over:
		writeError(w, http.StatusRequestEntityTooLarge, signal.EINVALID, "the backfill is over its limit ("+strconv.FormatInt(lim.MaxBytes>>20, 10)+
			" MiB decompressed, "+strconv.Itoa(lim.MaxLines)+" lines): send the history in several backfills", "")
		return
	case err != nil:
		writeErr(w, err)
		return
	}
	if rejected == nil {
		rejected = []backfill.Rejection{}
	}
	if len(items) == 0 {
		writeError(w, http.StatusBadRequest, signal.EINVALID, "the body holds no line that can be backfilled: send NDJSON, one Segment message (track, identify or page, with its timestamp) a line", "")
		return
	}
	st := make([]store.BackfillItem, len(items))
	for i, item := range items {
		st[i] = store.BackfillItem{Line: item.Line, Message: item.Message}
	}
	bf := newID("bf_", 20)
	if err := s.store.CreateBackfill(r.Context(), store.CreateBackfillParams{ID: bf, IntegrationID: id, Items: st, Now: s.now().UTC()}); err != nil {
		s.fail(w, r, err)
		return
	}
	if n, ok := s.notifier.(BackfillNotifier); ok {
		n.BackfillCreated(bf)
	}
	s.audit(r, auditIntegrationBackfill, "integration", id, "Backfill "+bf+" of "+strconv.Itoa(len(items))+" events ("+strconv.Itoa(len(rejected))+" lines refused)")
	writeJSON(w, http.StatusAccepted, map[string]any{"id": bf, "accepted": len(items), "rejected": rejected})
}

// bodyCap notes whether the body went over http.MaxBytesReader's limit
// (Decode reports only that it could not read on).
type bodyCap struct {
	r    io.Reader
	over bool
}

func (b *bodyCap) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		b.over = true
	}
	return n, err
}

func isBatchSender(v integration.Vendor) bool {
	_, ok := v.(integration.BatchSender)
	return ok
}

// handleGetBackfill is GET /integrations/{id}/backfill/{bf_id}.
func (s *Server) handleGetBackfill(w http.ResponseWriter, r *http.Request) {
	b, err := s.store.GetBackfill(r.Context(), store.GetBackfillParams{ID: r.PathValue("bf_id"), IntegrationID: r.PathValue("id")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewBackfill(b))
}

// handleListBackfills is GET /integrations/{id}/backfill: the integration's
// backfills, newest first (20 a page; limit up to 100), paged by cursor.
func (s *Server) handleListBackfills(w http.ResponseWriter, r *http.Request) {
	cursor, limit, err := pageParams(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	if r.URL.Query().Get("limit") == "" {
		limit = 20
	}
	id := r.PathValue("id")
	if _, err := s.store.GetIntegration(r.Context(), store.GetIntegrationParams{ID: id}); err != nil {
		s.fail(w, r, err)
		return
	}
	bs, err := s.store.ListBackfills(r.Context(), store.ListBackfillsParams{IntegrationID: id, After: cursor, Limit: limit + 1})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pageOf(bs, limit, func(b *store.Backfill) string { return b.ID }, viewBackfill))
}
