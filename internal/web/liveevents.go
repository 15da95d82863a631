package web

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/signalhq/signal/internal/signal"
)

// liveFilters are the Live Events filters, named as the API names them.
var liveFilters = []string{"integration_id", "pipeline_id", "status", "reason", "type", "event", "q"}

var (
	liveStatuses = []string{string(signal.StatusPending), string(signal.StatusDelivered), string(signal.StatusFiltered), string(signal.StatusFailed), string(signal.StatusPaused)}
	liveReasons  = []string{
		string(signal.ReasonNoIdentifier), string(signal.ReasonEventNotEnabled), string(signal.ReasonConsentDenied), string(signal.ReasonIntegrationDisabled),
		string(signal.ReasonVendorRejected), string(signal.ReasonAuthFailed), string(signal.ReasonRetriesExhausted), string(signal.ReasonRetrying),
		string(signal.ReasonRateLimited), string(signal.ReasonContactErased), string(signal.ReasonExpired), string(signal.ReasonDuplicate), string(signal.ReasonDryRun), string(signal.ReasonNoIntegration),
		string(signal.ReasonIntegrationDeleted), string(signal.ReasonUnsupportedType), string(signal.ReasonPayloadError),
	}
	liveTypes = []string{"track", "page", "identify", "group", "alias", "screen"}
)

type option struct{ Value, Label string }

type liveEventsPage struct {
	Filter       map[string]string
	Integrations []option
	Pipelines    []option
	Statuses     []string
	Reasons      []option
	Types        []string
	Counts       liveCounts
	CountsErr    string
	Rows         []liveEvent
	ListErr      string
	Names        map[string]string
	NamesJSON    string
	Query        string
	Older        template.URL
	Paged        bool
}

type statusCount struct {
	Status string
	Count  int
}

// liveCounts is GET /v1/admin/live-events/counts: the rows per status among
// the newest Window that match; Limited says more match.
type liveCounts struct {
	Pending   int  `json:"pending"`
	Delivered int  `json:"delivered"`
	Filtered  int  `json:"filtered"`
	Failed    int  `json:"failed"`
	Paused    int  `json:"paused"`
	Limited   bool `json:"limited"`
	Window    int  `json:"window"`
}

func (c liveCounts) of(status string) int {
	switch status {
	case "pending":
		return c.Pending
	case "delivered":
		return c.Delivered
	case "filtered":
		return c.Filtered
	case "failed":
		return c.Failed
	case "paused":
		return c.Paused
	}
	return 0
}

// StatusCounts lists each status with its count, in display order.
func (p liveEventsPage) StatusCounts() []statusCount {
	var out []statusCount
	for _, s := range p.Statuses {
		out = append(out, statusCount{Status: s, Count: p.Counts.of(s)})
	}
	return out
}

// CountsWindow is the counts' window as a marketer reads it ("10,000").
func (p liveEventsPage) CountsWindow() string {
	s := strconv.Itoa(p.Counts.Window)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func humanize(code string) string { return strings.ReplaceAll(code, "_", " ") }

// integrationNames lists the integrations for the filter and maps their
// ids to names for the table.
func (s *server) integrationNames(c *pageCtx) ([]option, map[string]string) {
	var ins struct {
		Data []integrationJSON `json:"data"`
	}
	c.get(s, "/v1/admin/integrations?limit=100", &ins)
	names := map[string]string{}
	var opts []option
	for _, in := range ins.Data {
		names[in.ID] = in.Name
		opts = append(opts, option{in.ID, in.Name})
	}
	return opts, names
}

func (s *server) handleLiveEvents(c *pageCtx) {
	c.v.Title, c.v.Nav = "Live Events", "live"
	q := c.r.URL.Query()
	p := liveEventsPage{Filter: map[string]string{}, Statuses: liveStatuses, Types: liveTypes}
	filters := url.Values{}
	for _, f := range liveFilters {
		if v := strings.TrimSpace(q.Get(f)); v != "" {
			p.Filter[f] = v
			filters.Set(f, v)
		}
	}
	for _, r := range liveReasons {
		p.Reasons = append(p.Reasons, option{r, humanize(r)})
	}
	p.Integrations, p.Names = s.integrationNames(c)
	names, _ := json.Marshal(p.Names)
	p.NamesJSON = string(names)
	var pls struct {
		Data []pipelineJSON `json:"data"`
	}
	c.get(s, "/v1/admin/pipelines?limit=100", &pls)
	for _, pl := range pls.Data {
		p.Pipelines = append(p.Pipelines, option{pl.ID, pl.Name})
	}
	p.Query = filters.Encode()

	counts := url.Values{}
	for k, v := range filters {
		if k != "status" {
			counts[k] = v
		}
	}
	if err := c.get(s, "/v1/admin/live-events/counts?"+counts.Encode(), &p.Counts); err != nil {
		p.CountsErr = err.Message
	}

	list := url.Values{}
	for k, v := range filters {
		list[k] = v
	}
	if cur := q.Get("cursor"); cur != "" {
		list.Set("cursor", cur)
		p.Paged = true
	}
	list.Set("limit", "50")
	var page struct {
		Data       []liveEvent `json:"data"`
		NextCursor string      `json:"next_cursor"`
		HasMore    bool        `json:"has_more"`
	}
	if err := c.get(s, "/v1/admin/live-events?"+list.Encode(), &page); err != nil {
		p.ListErr = err.Message
	}
	p.Rows = page.Data
	if page.HasMore && page.NextCursor != "" {
		older := url.Values{}
		for k, v := range filters {
			older[k] = v
		}
		older.Set("cursor", page.NextCursor)
		p.Older = template.URL(older.Encode())
	}
	c.v.Page = p
	s.render(c.w, http.StatusOK, "liveevents", c.v)
}

// liveDetail is GET /live-events/{id}: the row and its stages.
type liveDetail struct {
	liveEvent
	Input     json.RawMessage `json:"input"`
	Processed json.RawMessage `json:"processed"`
	Attempts  json.RawMessage `json:"attempts"`
}

type attempt struct {
	At             string `json:"at"`
	VendorStatus   int    `json:"vendor_status"`
	VendorResponse string `json:"vendor_response"`
	DurationMS     int    `json:"duration_ms"`
	Error          string `json:"error"`
}

type liveEventPage struct {
	E           liveDetail
	Integration string
	Attempts    []attempt
	Count       int
}

func (s *server) handleLiveEvent(c *pageCtx) {
	var d liveDetail
	if err := c.get(s, "/v1/admin/live-events/"+url.PathEscape(c.r.PathValue("id")), &d); err != nil {
		c.v.Nav = "live"
		s.errorPage(c.w, c.v, err.Status, "Event not found", err.Message)
		return
	}
	p := liveEventPage{E: d}
	// attempts is a list in the detail; older APIs send only a count.
	if json.Unmarshal(d.Attempts, &p.Attempts) != nil {
		json.Unmarshal(d.Attempts, &p.Count)
	} else {
		p.Count = len(p.Attempts)
	}
	_, names := s.integrationNames(c)
	p.Integration = names[d.IntegrationID]
	name := d.Event
	if name == "" {
		name = d.Type
	}
	c.v.Title, c.v.Nav, c.v.Page = "Event: "+name, "live", p
	s.render(c.w, http.StatusOK, "liveevent", c.v)
}

// handleReplayLiveEvent replays one event and comes back to its page.
func (s *server) handleReplayLiveEvent(c *pageCtx) {
	id := c.r.PathValue("id")
	res := c.send(s, http.MethodPost, "/v1/admin/live-events/"+url.PathEscape(id)+"/replay", map[string]any{})
	if res.err != nil {
		c.v.Nav = "live"
		s.errorPage(c.w, c.v, res.err.Status, "Event not replayed", res.err.Message)
		return
	}
	redirect(c.w, c.r, "/live-events/"+url.PathEscape(id), "Event queued again.")
}
