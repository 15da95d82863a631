package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The blueprint's version history on the editor page: every save is kept,
// with who saved it; "Roll back" saves an old version again as the newest,
// "Reset to default" the variant's default (after a confirm step).

type versionJSON struct {
	Version int `json:"version"`
	Author  struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	} `json:"author"`
	Summary   string `json:"summary"`
	CreatedAt string `json:"created_at"`
}

// loadVersions fills the page's Versions, newest first; a failure is said
// on the page, not over it (the editor still works).
func (s *server) loadVersions(c *pageCtx, bp *blueprintPage) {
	var list struct {
		Data []versionJSON `json:"data"`
	}
	if err := c.get(s, integrationPath(c)+"/blueprint/versions?limit=20", &list); err != nil {
		bp.VersionsErr = "The versions could not be loaded: " + err.Message
		return
	}
	bp.Versions = list.Data
}

// warningsText joins the warnings of a save's answer for its flash.
func warningsText(res result) string {
	var ans struct {
		Warnings []struct {
			Message string `json:"message"`
		} `json:"warnings"`
	}
	if res.decode(&ans) != nil || len(ans.Warnings) == 0 {
		return ""
	}
	var msgs []string
	for _, w := range ans.Warnings {
		msgs = append(msgs, w.Message)
	}
	return " Warning: " + strings.Join(msgs, " ")
}

func blueprintURL(c *pageCtx) string {
	return "/integrations/" + url.PathEscape(c.r.PathValue("id")) + "/blueprint"
}

func (s *server) handleRollbackBlueprint(c *pageCtx) {
	n, err := strconv.Atoi(c.r.PostForm.Get("version"))
	if err != nil || n < 1 {
		s.errorPage(c.w, c.v, http.StatusBadRequest, "No such version", "Choose a version from the list to roll back to.")
		return
	}
	res := c.send(s, http.MethodPost, integrationPath(c)+"/blueprint/versions/"+strconv.Itoa(n)+"/rollback", nil)
	if res.err != nil {
		s.errorPage(c.w, c.v, res.err.Status, "Not rolled back", res.err.Message)
		return
	}
	var v versionJSON
	res.decode(&v)
	redirect(c.w, c.r, blueprintURL(c), "Rolled back to version "+strconv.Itoa(n)+" (saved as version "+strconv.Itoa(v.Version)+").")
}

func (s *server) handleResetBlueprintPage(c *pageCtx) {
	p, ok := s.loadIntegration(c)
	if !ok {
		return
	}
	c.v.Title = "Reset the blueprint of " + p.In.Name + "?"
	c.v.Page = confirmPage{
		Heading: c.v.Title, Action: blueprintURL(c) + "/reset", Button: "Reset to default", Cancel: blueprintURL(c),
		Text: "The blueprint becomes the default of the " + p.In.Variant + " variant, for events processed from now on. " +
			"The current blueprint stays in the versions list: you can roll back to it.",
	}
	s.render(c.w, http.StatusOK, "confirm", c.v)
}

func (s *server) handleResetBlueprint(c *pageCtx) {
	res := c.send(s, http.MethodPost, integrationPath(c)+"/blueprint/reset", nil)
	if res.err != nil {
		s.errorPage(c.w, c.v, res.err.Status, "Not reset", res.err.Message)
		return
	}
	var v versionJSON
	res.decode(&v)
	redirect(c.w, c.r, blueprintURL(c), "Blueprint reset to the default (saved as version "+strconv.Itoa(v.Version)+").")
}
