package web

import (
	"net/http"
	"strconv"
	"strings"
)

type alertsJSON struct {
	WebhookURL        string `json:"webhook_url"`
	SecretSet         bool   `json:"secret_set"`
	BacklogAgeSeconds int    `json:"backlog_age_seconds"`
}

type alertsPage struct {
	A       alertsJSON
	Minutes string
	Errors  map[string]string
}

func (s *server) showAlerts(c *pageCtx, p alertsPage, status int) {
	if p.Errors == nil {
		p.Errors = map[string]string{}
	}
	if p.Minutes == "" {
		p.Minutes = strconv.Itoa(p.A.BacklogAgeSeconds / 60)
	}
	c.v.Title, c.v.Nav, c.v.Page = "Alerts", "settings", p
	s.render(c.w, status, "alerts", c.v)
}

func (s *server) handleAlerts(c *pageCtx) {
	var a alertsJSON
	if err := c.get(s, "/v1/admin/alerts", &a); err != nil {
		s.errorPage(c.w, c.v, err.Status, "Alerts unavailable", err.Message)
		return
	}
	s.showAlerts(c, alertsPage{A: a}, http.StatusOK)
}

// handleSaveAlerts saves the settings. The secret field is sent only when
// filled or when "remove" is ticked: the page never has the secret to show.
func (s *server) handleSaveAlerts(c *pageCtx) {
	f := c.r.PostForm
	url := strings.TrimSpace(f.Get("webhook_url"))
	minutes := strings.TrimSpace(f.Get("backlog_minutes"))
	body := map[string]any{"webhook_url": url}
	errs := map[string]string{}
	if m, err := strconv.Atoi(minutes); err != nil {
		errs["backlog_age_seconds"] = "Enter a whole number of minutes."
	} else {
		body["backlog_age_seconds"] = m * 60
	}
	if secret := f.Get("secret"); secret != "" {
		body["secret"] = secret
	} else if f.Get("remove_secret") == "on" {
		body["secret"] = ""
	}
	var old alertsJSON
	c.get(s, "/v1/admin/alerts", &old)
	if len(errs) == 0 {
		res := c.send(s, http.MethodPut, "/v1/admin/alerts", body)
		if res.err == nil {
			redirect(c.w, c.r, "/settings/alerts", "Alert settings saved.")
			return
		}
		field := res.err.Field
		if field == "" {
			field = "form"
		}
		errs[field] = res.err.Message
	}
	status := http.StatusBadRequest
	s.showAlerts(c, alertsPage{A: alertsJSON{WebhookURL: url, SecretSet: old.SecretSet}, Minutes: minutes, Errors: errs}, status)
}
