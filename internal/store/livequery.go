package store

import (
	"strconv"
	"strings"

	"github.com/signalhq/signal/internal/signal"
)

// Live Events queries, shared by both backends: they read events e LEFT
// JOIN deliveries d LEFT JOIN integrations i, and differ only in how an
// argument is written and how true is spelled.

// LiveDialect is what differs between backends.
type LiveDialect struct {
	// Arg adds an argument and returns its placeholder.
	Arg func(v any) string
	// True is the boolean true literal of integrations.enabled.
	True string
}

// LiveFrom is the FROM clause every Live Events query reads.
const LiveFrom = ` FROM events e LEFT JOIN deliveries d ON d.event_seq = e.seq LEFT JOIN integrations i ON i.id = d.integration_id`

// LiveShownStatus is the SQL of the status a row shows (see ShowLiveEvent).
func LiveShownStatus(dl LiveDialect) string {
	return `CASE WHEN d.id IS NULL THEN 'pending'
		WHEN d.status = 'pending' AND (i.status = 'paused' OR i.enabled <> ` + dl.True + `) THEN 'paused'
		ELSE d.status END`
}

// LiveWhere returns the conditions of p's filters (the status and cursor
// too when withPage), each to be joined with AND. Every filter has an index
// to seek with (migration 007), so a rare match does not walk the log.
func LiveWhere(p ListLiveEventsParams, dl LiveDialect, withPage bool) ([]string, error) {
	var where []string
	if withPage && p.Cursor != "" {
		seq, did, err := ParseLiveCursor(p.Cursor)
		if err != nil {
			return nil, err
		}
		// Each placeholder its own argument: SQLite's are positional.
		if liveByDelivery(p) {
			where = append(where, `(d.event_seq < `+dl.Arg(seq)+` OR (d.event_seq = `+dl.Arg(seq)+` AND d.id < `+dl.Arg(did)+`))`)
		} else {
			where = append(where, `(e.seq < `+dl.Arg(seq)+` OR (e.seq = `+dl.Arg(seq)+` AND COALESCE(d.id, 0) < `+dl.Arg(did)+`))`)
		}
	}
	if p.PipelineID != "" {
		where = append(where, `e.pipeline_id = `+dl.Arg(p.PipelineID))
	}
	if p.Type != "" {
		where = append(where, `e.type = `+dl.Arg(p.Type))
	}
	if p.Event != "" {
		where = append(where, `e.event = `+dl.Arg(p.Event))
	}
	if p.IntegrationID != "" {
		where = append(where, `d.integration_id = `+dl.Arg(p.IntegrationID))
	}
	if p.Reason != "" {
		// A reason code is written as a literal, with the partial index's
		// own term, so that the planner knows it may use the index of rows
		// with a reason.
		if isCode(p.Reason) {
			where = append(where, `d.reason = '`+p.Reason+`' AND d.reason <> ''`)
		} else {
			where = append(where, `d.reason = `+dl.Arg(p.Reason))
		}
	}
	if len(p.SearchKeys) > 0 {
		ph := make([]string, len(p.SearchKeys))
		for i, k := range p.SearchKeys {
			ph[i] = dl.Arg(k)
		}
		where = append(where, `e.seq IN (SELECT event_seq FROM event_search WHERE key IN (`+strings.Join(ph, ", ")+`))`)
	}
	if !withPage {
		return where, nil
	}
	switch p.Status {
	case "":
	case signal.StatusPending:
		where = append(where, `(d.id IS NULL OR (d.status = 'pending' AND COALESCE(i.status, 'active') = 'active' AND COALESCE(i.enabled, `+dl.True+`) = `+dl.True+`))`)
	case signal.StatusPaused:
		where = append(where, `(d.status = 'pending' AND (i.status = 'paused' OR i.enabled <> `+dl.True+`))`)
	case signal.StatusFailed:
		where = append(where, `d.status = 'failed'`) // the partial index's own term
	default:
		where = append(where, `d.status = `+dl.Arg(p.Status))
	}
	return where, nil
}

// isCode says whether s is a code safe to write as an SQL literal.
func isCode(s string) bool {
	for _, c := range s {
		if (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return s != ""
}

// liveByDelivery says whether p's filters only match rows with a delivery:
// then the rows are read in the order of a deliveries index (integration,
// reason or status, then event_seq and id) and the scan stops at the page's
// end, instead of sorting every matching row.
func liveByDelivery(p ListLiveEventsParams) bool {
	return p.IntegrationID != "" || p.Reason != "" || (p.Status != "" && p.Status != signal.StatusPending)
}

// LiveOrder is the ORDER BY of a Live Events page: newest event first,
// then highest delivery id, in terms the filters' index can deliver.
func LiveOrder(p ListLiveEventsParams) string {
	if liveByDelivery(p) {
		return ` ORDER BY d.event_seq DESC, d.id DESC`
	}
	return ` ORDER BY e.seq DESC, COALESCE(d.id, 0) DESC`
}

// LiveIDWhere is the condition selecting the row a Live Events id names.
func LiveIDWhere(id string, dl LiveDialect) (string, error) {
	kind, num, _ := strings.Cut(id, "_")
	n, err := strconv.ParseInt(num, 10, 64)
	switch {
	case err != nil || n <= 0:
	case kind == "dlv":
		return `d.id = ` + dl.Arg(n), nil
	case kind == "evt":
		return `e.seq = ` + dl.Arg(n) + ` AND d.id IS NULL`, nil
	}
	return "", signal.Errorf(signal.ENOTFOUND, "live event %q not found", id)
}

// AddLiveCount adds n rows of a shown status to c.
func AddLiveCount(c *LiveCounts, status string, n int) {
	switch status {
	case signal.StatusPending:
		c.Pending += n
	case signal.StatusDelivered:
		c.Delivered += n
	case signal.StatusFiltered:
		c.Filtered += n
	case signal.StatusFailed:
		c.Failed += n
	case signal.StatusPaused:
		c.Paused += n
	}
}

// AddOutcome adds n finished deliveries of status to o.
func AddOutcome(o *Outcomes, status string, n int) {
	switch status {
	case signal.StatusDelivered:
		o.Delivered += n
	case signal.StatusFiltered:
		o.Filtered += n
	case signal.StatusFailed:
		o.Failed += n
	}
}

// HealthMinutes returns the 60 minutes of a health report ending with
// now's, oldest first, and the millisecond the first starts at.
func HealthMinutes(nowMS int64) ([]MinuteOutcomes, int64) {
	last := nowMS - nowMS%60000
	first := last - 59*60000
	out := make([]MinuteOutcomes, 60)
	for i := range out {
		out[i].At = fromUnixMS(first + int64(i)*60000)
	}
	return out, first
}

// MayExceedAttempts says whether d, just attempted, may hold more than
// MaxAttemptsKept attempts, so that trimming is needed: a first attempt
// that ended the delivery (the common case) needs none.
func MayExceedAttempts(d *signal.Delivery) bool {
	return d.Status == signal.StatusPending || d.Attempts > 1
}
