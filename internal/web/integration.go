package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

type outcomes struct {
	Delivered int `json:"delivered"`
	Filtered  int `json:"filtered"`
	Failed    int `json:"failed"`
}

type minute struct {
	At string `json:"at"`
	outcomes
}

type health struct {
	Status               string   `json:"status"`
	StatusReason         string   `json:"status_reason"`
	StatusText           string   `json:"status_text"`
	LastHour             outcomes `json:"last_hour"`
	LastDay              outcomes `json:"last_day"`
	Backlog              int      `json:"backlog"`
	OldestPendingSeconds float64  `json:"oldest_pending_seconds"`
	RateLimit            struct {
		Limit          int `json:"limit"`
		Remaining      int `json:"remaining"`
		WindowSeconds  int `json:"window_seconds"`
		UsedLastMinute int `json:"used_last_minute"`
	} `json:"rate_limit"`
	PerMinute []minute `json:"per_minute"`
}

// OldestPending says how long the oldest waiting event has waited.
func (h *health) OldestPending() string {
	if h.Backlog == 0 {
		return "none waiting"
	}
	return (time.Duration(h.OldestPendingSeconds) * time.Second).String()
}

// RateUse is "used / limit per minute".
func (h *health) RateUse() string {
	if h.RateLimit.Limit == 0 {
		return fmt.Sprintf("%d in the last minute", h.RateLimit.UsedLastMinute)
	}
	return fmt.Sprintf("%d of %d per minute", h.RateLimit.UsedLastMinute, h.RateLimit.Limit)
}

// bar is one rectangle of the outcomes chart, in SVG user units.
type bar struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

const chartW, chartH = 600.0, 120.0

// Bars stacks each minute's outcomes, scaled to the busiest minute.
func (h *health) Bars() []bar {
	n := len(h.PerMinute)
	if n == 0 {
		return nil
	}
	peak := 0
	for _, m := range h.PerMinute {
		peak = max(peak, m.Delivered+m.Filtered+m.Failed)
	}
	if peak == 0 {
		return nil
	}
	step := chartW / float64(n)
	var bars []bar
	for i, m := range h.PerMinute {
		y := chartH
		title := m.At
		for _, part := range []struct {
			n     int
			class string
		}{{m.Delivered, "bar-delivered"}, {m.Filtered, "bar-filtered"}, {m.Failed, "bar-failed"}} {
			if part.n == 0 {
				continue
			}
			ht := float64(part.n) / float64(peak) * (chartH - 4)
			y -= ht
			bars = append(bars, bar{X: float64(i)*step + 1, Y: y, W: step - 2, H: ht, Class: part.class,
				Title: fmt.Sprintf("%s: %d %s", title, part.n, strings.TrimPrefix(part.class, "bar-"))})
		}
	}
	return bars
}

type integrationPage struct {
	In        integrationJSON
	Health    *health
	HealthErr string
	// Backfills are the integration's histories sent in batches, newest
	// first (BackfillErr when they cannot be read).
	Backfills   []backfillJSON
	BackfillErr string
	Test        *testResult
	TestEmail   string
	KeyErr      string
}

type testResult struct {
	Status         string `json:"status"`
	VendorStatus   int    `json:"vendor_status"`
	VendorResponse string `json:"vendor_response"`
}

func integrationPath(c *pageCtx) string {
	return "/v1/admin/integrations/" + url.PathEscape(c.r.PathValue("id"))
}

// loadIntegration reads the integration of the path, or shows the error.
func (s *server) loadIntegration(c *pageCtx) (*integrationPage, bool) {
	p := &integrationPage{}
	if err := c.get(s, integrationPath(c), &p.In); err != nil {
		s.errorPage(c.w, c.v, err.Status, "Integration not found", err.Message)
		return nil, false
	}
	c.v.Title, c.v.Nav = p.In.Name, "integrations"
	return p, true
}

func (s *server) showIntegration(c *pageCtx, p *integrationPage, status int) {
	var h health
	if err := c.get(s, integrationPath(c)+"/health", &h); err != nil {
		p.HealthErr = err.Message
	} else {
		p.Health = &h
	}
	var bfs struct {
		Data []backfillJSON `json:"data"`
	}
	if err := c.get(s, integrationPath(c)+"/backfill?limit=10", &bfs); err != nil {
		p.BackfillErr = err.Message
	} else {
		p.Backfills = bfs.Data
	}
	c.v.Page = p
	s.render(c.w, status, "integration", c.v)
}

func (s *server) handleIntegration(c *pageCtx) {
	if p, ok := s.loadIntegration(c); ok {
		s.showIntegration(c, p, http.StatusOK)
	}
}

// after answers a form post: back to the integration page with the flash,
// or the page again with the API's error.
func (s *server) after(c *pageCtx, res result, okMsg string) {
	if res.err == nil {
		redirect(c.w, c.r, "/integrations/"+url.PathEscape(c.r.PathValue("id")), okMsg)
		return
	}
	p, ok := s.loadIntegration(c)
	if !ok {
		return
	}
	c.v.FlashErr = res.err.Message
	s.showIntegration(c, p, res.err.Status)
}

func (s *server) handleReplaceKey(c *pageCtx) {
	key := c.r.PostForm.Get("api_key")
	res := c.send(s, http.MethodPatch, integrationPath(c), map[string]any{"config": map[string]any{"api_key": key}})
	s.after(c, res, "API key replaced.")
}

func (s *server) handleSetEnabled(c *pageCtx) {
	on := c.r.PostForm.Get("enabled") == "true"
	msg := "Integration disabled."
	if on {
		msg = "Integration enabled."
	}
	s.after(c, c.send(s, http.MethodPatch, integrationPath(c), map[string]any{"enabled": on}), msg)
}

func (s *server) handleReplay(c *pageCtx) {
	res := c.send(s, http.MethodPost, integrationPath(c)+"/replay", map[string]any{"status": "failed"})
	var out struct {
		Requeued int `json:"requeued"`
	}
	msg := ""
	if res.err == nil && res.decode(&out) == nil {
		msg = fmt.Sprintf("%d failed events queued again.", out.Requeued)
	}
	s.after(c, res, msg)
}

// replayReasons are the choices of "Replay filtered events" (empty: every
// reason a setting causes, the API's default).
var replayReasons = map[string]bool{"": true, "dry_run": true, "event_not_enabled": true, "integration_disabled": true}

func (s *server) handleReplayFiltered(c *pageCtx) {
	body := map[string]any{"status": "filtered"}
	reason := c.r.PostForm.Get("reason")
	if !replayReasons[reason] {
		reason = "" // not one of the form's choices: the API's default
	}
	if reason != "" {
		body["reason"] = reason
	}
	res := c.send(s, http.MethodPost, integrationPath(c)+"/replay", body)
	var out struct {
		Requeued      int `json:"requeued"`
		StillFiltered int `json:"still_filtered"`
	}
	msg := ""
	if res.err == nil && res.decode(&out) == nil {
		msg = fmt.Sprintf("%d filtered events queued again.", out.Requeued)
		if out.StillFiltered > 0 {
			msg += fmt.Sprintf(" %d are still filtered by the current settings.", out.StillFiltered)
		}
	}
	s.after(c, res, msg)
}

// handleSendTest shows the vendor's answer on the page itself.
func (s *server) handleSendTest(c *pageCtx) {
	email := strings.TrimSpace(c.r.PostForm.Get("email"))
	res := c.send(s, http.MethodPost, integrationPath(c)+"/test", map[string]any{"email": email})
	p, ok := s.loadIntegration(c)
	if !ok {
		return
	}
	p.TestEmail = email
	status := http.StatusOK
	if res.err != nil {
		c.v.FlashErr, status = res.err.Message, res.err.Status
	} else {
		var tr testResult
		if err := res.decode(&tr); err != nil {
			c.v.FlashErr = err.Error()
		} else {
			p.Test = &tr
		}
	}
	s.showIntegration(c, p, status)
}

func (s *server) handleDeleteIntegrationPage(c *pageCtx) {
	p, ok := s.loadIntegration(c)
	if !ok {
		return
	}
	c.v.Title = "Delete " + p.In.Name + "?"
	c.v.Page = confirmPage{
		Heading: c.v.Title, Action: "/integrations/" + url.PathEscape(p.In.ID) + "/delete", Button: "Delete integration",
		Cancel: "/integrations/" + url.PathEscape(p.In.ID),
		Text:   "Events stop going to this integration at once; events still waiting for it are not sent. This cannot be undone.",
	}
	s.render(c.w, http.StatusOK, "confirm", c.v)
}

func (s *server) handleDeleteIntegration(c *pageCtx) {
	res := c.send(s, http.MethodDelete, integrationPath(c), nil)
	if res.err != nil {
		s.after(c, res, "")
		return
	}
	redirect(c.w, c.r, "/integrations", "Integration deleted.")
}

// confirmPage asks before something that cannot be undone.
type confirmPage struct {
	Heading, Text, Action, Button, Cancel string
}
