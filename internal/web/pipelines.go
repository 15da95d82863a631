package web

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

type pipelinesPage struct {
	Pipelines []pipelineJSON
	Name      string
	NameErr   string
	ListErr   string
}

type pipelinePage struct {
	P         pipelineJSON
	Created   bool
	Rotated   bool
	Snippets  []snippet
	RenameErr string
	// SignedOnly is the signed-only list as edited (one name a line).
	SignedOnly    string
	SignedOnlyErr string
	RotateErr     string
}

type snippet struct {
	ID, Title, Help, Code string
}

func (s *server) handlePipelines(c *pageCtx) {
	c.v.Title, c.v.Nav = "Pipelines", "pipelines"
	p := pipelinesPage{}
	var list struct {
		Data []pipelineJSON `json:"data"`
	}
	if err := c.get(s, "/v1/admin/pipelines?limit=100", &list); err != nil {
		p.ListErr = err.Message
	}
	p.Pipelines = list.Data
	c.v.Page = p
	s.render(c.w, http.StatusOK, "pipelines", c.v)
}

// handleCreatePipeline answers with the new pipeline's page itself rather
// than a redirect: the signing secret is in this answer only, and it is
// kept nowhere (no cookie, no URL).
func (s *server) handleCreatePipeline(c *pageCtx) {
	name := strings.TrimSpace(c.r.PostForm.Get("name"))
	res := c.send(s, http.MethodPost, "/v1/admin/pipelines", map[string]string{"name": name})
	var p pipelineJSON
	if res.err == nil && res.decode(&p) == nil {
		c.v.Flash = "Pipeline created."
		s.showPipeline(c, &pipelinePage{P: p, Created: true}, http.StatusCreated)
		return
	}
	page := pipelinesPage{Name: name}
	if res.err != nil && res.err.Field == "name" {
		page.NameErr = res.err.Message
	} else if res.err != nil {
		c.v.FlashErr = res.err.Message
	}
	var list struct {
		Data []pipelineJSON `json:"data"`
	}
	c.get(s, "/v1/admin/pipelines?limit=100", &list)
	page.Pipelines = list.Data
	c.v.Title, c.v.Nav, c.v.Page = "Pipelines", "pipelines", page
	status := http.StatusBadGateway
	if res.err != nil {
		status = res.err.Status
	}
	s.render(c.w, status, "pipelines", c.v)
}

func pipelinePath(c *pageCtx) string {
	return "/v1/admin/pipelines/" + url.PathEscape(c.r.PathValue("id"))
}

func (s *server) loadPipeline(c *pageCtx) (*pipelinePage, bool) {
	p := &pipelinePage{}
	if err := c.get(s, pipelinePath(c), &p.P); err != nil {
		s.errorPage(c.w, c.v, err.Status, "Pipeline not found", err.Message)
		return nil, false
	}
	return p, true
}

func (s *server) handlePipeline(c *pageCtx) {
	if p, ok := s.loadPipeline(c); ok {
		s.showPipeline(c, p, http.StatusOK)
	}
}

func (s *server) showPipeline(c *pageCtx, p *pipelinePage, status int) {
	if p.SignedOnly == "" && p.SignedOnlyErr == "" {
		p.SignedOnly = strings.Join(p.P.SignedOnlyEvents, "\n")
	}
	p.Snippets = snippets(s.gatewayURL(c.r), p.P.Key)
	c.v.Title, c.v.Nav, c.v.Page = p.P.Name, "pipelines", p
	s.render(c.w, status, "pipeline", c.v)
}

// gatewayURL is the gateway's base URL as the browser can reach it.
func (s *server) gatewayURL(r *http.Request) string {
	if s.cfg.GatewayURL != "" {
		return strings.TrimRight(s.cfg.GatewayURL, "/")
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	scheme := "http"
	if secureRequest(r) {
		scheme = "https"
	}
	if s.cfg.GatewayPort == "" {
		return scheme + "://" + host
	}
	return scheme + "://" + host + ":" + s.cfg.GatewayPort
}

func snippets(gw, key string) []snippet {
	return []snippet{
		{ID: "snippet-datafly", Title: "Datafly.js tag", Help: "Paste into every page of your site, before </head>.",
			Code: "<script>window.datafly = window.datafly || {q: []};</script>\n" +
				`<script async src="` + gw + `/d.js" data-pipeline-key="` + key + `"></script>`},
		{ID: "snippet-curl", Title: "curl", Help: "Send one event from a terminal to check the pipeline.",
			Code: "curl -X POST " + gw + "/v1/track \\\n  -u '" + key + ":' \\\n  -H 'Content-Type: application/json' \\\n" +
				`  -d '{"userId":"user_123","event":"Order Completed","context":{"traits":{"email":"jane@example.com"}},"properties":{"order_id":"ORD-1001","revenue":59.9,"currency":"EUR"}}'`},
		{ID: "snippet-segment", Title: "Segment SDK configuration", Help: "Apps using a Segment server-side library point it here (Node.js shown).",
			Code: "import { Analytics } from '@segment/analytics-node'\n\nconst analytics = new Analytics({\n  writeKey: '" + key + "',\n  host: '" + gw + "',\n})"},
	}
}

func (s *server) handleRenamePipeline(c *pageCtx) {
	name := strings.TrimSpace(c.r.PostForm.Get("name"))
	res := c.send(s, http.MethodPatch, pipelinePath(c), map[string]string{"name": name})
	if res.err == nil {
		redirect(c.w, c.r, "/pipelines/"+url.PathEscape(c.r.PathValue("id")), "Pipeline renamed.")
		return
	}
	p, ok := s.loadPipeline(c)
	if !ok {
		return
	}
	p.RenameErr = res.err.Message
	s.showPipeline(c, p, res.err.Status)
}

func (s *server) handleDeletePipelinePage(c *pageCtx) {
	p, ok := s.loadPipeline(c)
	if !ok {
		return
	}
	c.v.Title, c.v.Nav = "Delete "+p.P.Name+"?", "pipelines"
	c.v.Page = confirmPage{
		Heading: c.v.Title, Action: "/pipelines/" + url.PathEscape(p.P.ID) + "/delete", Button: "Delete pipeline",
		Cancel: "/pipelines/" + url.PathEscape(p.P.ID),
		Text:   "Its pipeline key stops working at once: sites and apps still sending with it get 401. This cannot be undone.",
	}
	s.render(c.w, http.StatusOK, "confirm", c.v)
}

func (s *server) handleDeletePipeline(c *pageCtx) {
	res := c.send(s, http.MethodDelete, pipelinePath(c), nil)
	if res.err != nil {
		c.v.FlashErr = res.err.Message
		if p, ok := s.loadPipeline(c); ok {
			s.showPipeline(c, p, res.err.Status)
		}
		return
	}
	redirect(c.w, c.r, "/pipelines", "Pipeline deleted.")
}

// handleSignedOnly saves the events accepted only when signed, one name a
// line.
func (s *server) handleSignedOnly(c *pageCtx) {
	raw := c.r.PostForm.Get("events")
	names := []string{}
	for _, line := range strings.Split(raw, "\n") {
		if n := strings.TrimSpace(line); n != "" {
			names = append(names, n)
		}
	}
	res := c.send(s, http.MethodPatch, pipelinePath(c), map[string][]string{"signed_only_events": names})
	if res.err == nil {
		redirect(c.w, c.r, "/pipelines/"+url.PathEscape(c.r.PathValue("id")), "Signed-only events saved.")
		return
	}
	p, ok := s.loadPipeline(c)
	if !ok {
		return
	}
	p.SignedOnly, p.SignedOnlyErr = raw, res.err.Message
	s.showPipeline(c, p, res.err.Status)
}

// rotateOverlaps are the overlaps the page offers, in seconds.
var rotateOverlaps = map[string]int{"0": 0, "3600": 3600, "86400": 86400, "604800": 604800}

// handleRotate answers with the pipeline page itself, like creation: the
// new signing secret is in this answer only.
func (s *server) handleRotate(c *pageCtx) {
	overlap, ok := rotateOverlaps[c.r.PostForm.Get("overlap")]
	if !ok {
		overlap = 86400
	}
	res := c.send(s, http.MethodPost, pipelinePath(c)+"/rotate", map[string]int{"overlap_seconds": overlap})
	var p pipelineJSON
	if res.err == nil && res.decode(&p) == nil {
		c.v.Flash = "New pipeline key and signing secret created."
		s.showPipeline(c, &pipelinePage{P: p, Rotated: true}, http.StatusOK)
		return
	}
	page, ok := s.loadPipeline(c)
	if !ok {
		return
	}
	page.RotateErr = "The key could not be rotated."
	if res.err != nil {
		page.RotateErr = res.err.Message
	}
	status := http.StatusBadGateway
	if res.err != nil {
		status = res.err.Status
	}
	s.showPipeline(c, page, status)
}
