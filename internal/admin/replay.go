package admin

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/signalhq/signal/internal/pipeline"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// replayPage is how many deliveries a replay rebuilds per store read.
const replayPage = 500

// handleReplay is POST /integrations/{id}/replay. {"status":"failed"} (the
// default) requeues failed deliveries as they were built; {"status":
// "filtered","reason":"dry_run"} (or "reasons":[…], default every reason a
// setting causes) rebuilds filtered ones through the current blueprint and
// settings, in place: same row, same event id (the vendor's dedupe key),
// so the duplicate window never blocks it and each is sent once.
func (s *Server) handleReplay(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Status  signal.DeliveryStatus `json:"status"`
		Since   string                `json:"since"`
		Reason  signal.Reason         `json:"reason"`
		Reasons []signal.Reason       `json:"reasons"`
	}
	if err := decode(r, &in); err != nil {
		writeErr(w, err)
		return
	}
	if in.Status == "" {
		in.Status = signal.StatusFailed
	}
	if in.Status != signal.StatusFailed && in.Status != signal.StatusFiltered {
		writeError(w, http.StatusBadRequest, signal.EINVALID, "status must be \"failed\" or \"filtered\": only those events can be replayed", "status")
		return
	}
	var since time.Time
	if in.Since != "" {
		t, err := time.Parse(time.RFC3339Nano, in.Since)
		if err != nil {
			writeError(w, http.StatusBadRequest, signal.EINVALID, "since must be an RFC 3339 date-time, e.g. 2026-11-27T00:00:00Z", "since")
			return
		}
		since = t
	}
	id := r.PathValue("id")
	it, err := s.store.GetIntegration(r.Context(), store.GetIntegrationParams{ID: id})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if in.Status == signal.StatusFailed {
		if in.Reason != "" || len(in.Reasons) > 0 {
			writeError(w, http.StatusBadRequest, signal.EINVALID, "reason applies to status \"filtered\" only: failed events are replayed whatever their reason", "reason")
			return
		}
		n, err := s.store.RequeueDeliveries(r.Context(), store.RequeueDeliveriesParams{IntegrationID: id, Status: in.Status, Since: since, Now: s.now().UTC()})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.changed(id)
		s.audit(r, auditIntegrationReplay, "integration", id, "Replayed "+strconv.Itoa(n)+" failed events")
		writeJSON(w, http.StatusOK, map[string]int{"requeued": n})
		return
	}

	reasons, field := in.Reasons, "reasons"
	if in.Reason != "" {
		reasons, field = append(reasons, in.Reason), "reason"
	}
	if len(reasons) == 0 {
		reasons = pipeline.ReplayReasons
	}
	for _, rs := range reasons {
		if !slices.Contains(pipeline.ReplayReasons, rs) {
			writeError(w, http.StatusBadRequest, signal.EINVALID, "reason "+strconv.Quote(string(rs))+
				" cannot be replayed: only events filtered by a setting can ("+joinReasons(pipeline.ReplayReasons)+"); the others would be filtered again", field)
			return
		}
	}
	res, err := s.rebuild(r, it, store.ReplayableParams{IntegrationID: id, Status: signal.StatusFiltered, Reasons: reasons, Since: since})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.changed(id)
	s.audit(r, auditIntegrationReplay, "integration", id, "Replayed "+strconv.Itoa(res.Requeued)+" filtered events ("+joinReasons(reasons)+")")
	writeJSON(w, http.StatusOK, res)
}

// replayResult is a replay's answer: how many rebuilt events went back to
// the queue, and how many the current settings still filter.
type replayResult struct {
	Requeued      int `json:"requeued"`
	StillFiltered int `json:"still_filtered"`
}

// rebuild rebuilds every delivery p selects through the integration as it
// stands now, page by page, and writes back those whose outcome changed.
func (s *Server) rebuild(r *http.Request, it *signal.Integration, p store.ReplayableParams) (replayResult, error) {
	var res replayResult
	vendor, ok := s.catalog.Vendor(it.CatalogKey)
	if !ok {
		return res, signal.Errorf(signal.ECONFLICT, "this integration's vendor is not available on this server")
	}
	p.Limit = replayPage
	for {
		rows, err := s.store.ReplayableDeliveries(r.Context(), p)
		if err != nil {
			return res, err
		}
		now := s.now().UTC()
		var (
			out []*signal.Delivery
			was = map[int64]store.DeliveryState{}
		)
		for _, row := range rows {
			if !it.ReceivesPipeline(row.Event.PipelineID) {
				// The integration no longer takes this pipeline: the
				// processor would not build a delivery for it now.
				res.StillFiltered++
				continue
			}
			d, err := pipeline.Rebuild(s.hasher, vendor, it, row.Delivery, &row.Event, row.Processed, now)
			if err != nil {
				return res, err
			}
			if d.Status == row.Delivery.Status && d.Reason == row.Delivery.Reason {
				res.StillFiltered++
				continue
			}
			out = append(out, d)
			was[d.ID] = store.DeliveryState{Status: row.Delivery.Status, Reason: row.Delivery.Reason}
		}
		if len(out) > 0 {
			n, err := s.store.ReplaceDeliveries(r.Context(), store.ReplaceDeliveriesParams{Deliveries: out, Was: was, Now: now})
			if err != nil {
				return res, err
			}
			res.Requeued += n
		}
		if p.DeliveryID != 0 || len(rows) < p.Limit {
			return res, nil
		}
		p.AfterID = rows[len(rows)-1].Delivery.ID
	}
}

func joinReasons(rs []signal.Reason) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return strings.Join(out, ", ")
}

// handleReplayLiveEvent is POST /live-events/{id}/replay: one failed or
// filtered event rebuilt through its integration's current blueprint and
// sent again under the same event id. A delivered or waiting one is a
// conflict: replaying it would send it twice.
func (s *Server) handleReplayLiveEvent(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	num, ok := strings.CutPrefix(id, "dlv_")
	dlv, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || dlv <= 0 {
		if strings.HasPrefix(id, "evt_") {
			writeError(w, http.StatusConflict, signal.ECONFLICT, "this event has not been processed yet: there is nothing to replay", "")
			return
		}
		writeError(w, http.StatusNotFound, signal.ENOTFOUND, "live event "+strconv.Quote(id)+" not found", "")
		return
	}
	rows, err := s.store.ReplayableDeliveries(r.Context(), store.ReplayableParams{DeliveryID: dlv})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(rows) == 0 || rows[0].Delivery.IntegrationID == "" {
		writeError(w, http.StatusNotFound, signal.ENOTFOUND, "live event "+strconv.Quote(id)+" not found, or it reached no integration", "")
		return
	}
	d := rows[0].Delivery
	if d.Status != signal.StatusFailed && d.Status != signal.StatusFiltered {
		writeError(w, http.StatusConflict, signal.ECONFLICT, "this event is "+string(d.Status)+": only a failed or filtered event can be replayed (a delivered one would be sent twice)", "")
		return
	}
	it, err := s.store.GetIntegration(r.Context(), store.GetIntegrationParams{ID: d.IntegrationID})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.rebuild(r, it, store.ReplayableParams{DeliveryID: dlv})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.changed(d.IntegrationID)
	s.audit(r, auditIntegrationReplay, "integration", d.IntegrationID, "Replayed event "+id)
	det, err := s.store.GetLiveEvent(r.Context(), store.GetLiveEventParams{ID: id})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"requeued": res.Requeued, "event": det.LiveEvent})
}
