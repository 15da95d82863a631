package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// me is GET /v1/admin/me.
type me struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Role  string `json:"role"`
}

// view is what every page template gets; Page holds the page's own data.
type view struct {
	Title    string
	Nav      string
	Me       *me
	CSRF     string
	Flash    string
	FlashErr string
	// Alert is set when an installed integration is paused or failing:
	// the sidebar shows a dot beside Integrations.
	Alert bool
	Page  any
}

// CanWrite is true for admins and editors: a viewer sees no write controls.
func (v *view) CanWrite() bool { return v.Me != nil && (v.Me.Role == "admin" || v.Me.Role == "editor") }

// IsAdmin is true for admins (users and audit log).
func (v *view) IsAdmin() bool { return v.Me != nil && v.Me.Role == "admin" }

var funcs = template.FuncMap{
	// when renders a time the browser's time.js turns into local time.
	"when": func(t any) template.HTML {
		var tm time.Time
		switch v := t.(type) {
		case time.Time:
			tm = v
		case string:
			p, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return template.HTML(template.HTMLEscapeString(v))
			}
			tm = p
		}
		if tm.IsZero() {
			return "—"
		}
		tm = tm.UTC()
		return template.HTML(fmt.Sprintf(`<time datetime="%s">%s UTC</time>`, tm.Format(time.RFC3339), tm.Format("2006-01-02 15:04:05")))
	},
	// pretty indents JSON for the stage panels.
	"pretty": func(raw json.RawMessage) string {
		if len(raw) == 0 || string(raw) == "null" {
			return ""
		}
		var b bytes.Buffer
		if json.Indent(&b, raw, "", "  ") != nil {
			return string(raw)
		}
		return b.String()
	},
	"query": func(kv ...string) template.URL {
		q := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] != "" {
				q.Set(kv[i], kv[i+1])
			}
		}
		return template.URL(q.Encode())
	},
	"join":  strings.Join,
	"add":   func(a, b int) int { return a + b },
	"asset": func(name string) string { return "/static/" + name + "?v=" + assetVersion(name) },
}

// mustParsePages parses each page over the layout into its own set.
func mustParsePages() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || base == "partials" {
			continue
		}
		pages[base] = template.Must(template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n))
	}
	return pages
}

// render writes page with status; a template failure is logged and shown
// as a short error, never a half page.
func (s *server) render(w http.ResponseWriter, status int, page string, v *view) {
	var b bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&b, "layout", v); err != nil {
		s.log.Error("web: render page", "page", page, "err", err)
		http.Error(w, "This page could not be shown. The error is in the server log.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// errorPage shows msg with a heading and a way back.
func (s *server) errorPage(w http.ResponseWriter, v *view, status int, title, msg string) {
	v.Title = title
	v.Page = struct{ Message string }{msg}
	s.render(w, status, "error", v)
}

const flashCookie = "signal_flash"

// setFlash keeps a message for the page the browser is redirected to.
func setFlash(w http.ResponseWriter, r *http.Request, msg string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(msg), Path: "/", MaxAge: 60,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secureRequest(r)})
}

func takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secureRequest(r)})
	msg, _ := url.QueryUnescape(c.Value)
	return msg
}

// redirect answers a form post with 303 to path and a flash message. A
// form sent by dialog.js (X-Signal-Fetch) gets 204 with X-Location
// instead: fetch would follow a redirect itself and use up the message.
func redirect(w http.ResponseWriter, r *http.Request, path, flash string) {
	if flash != "" {
		setFlash(w, r, flash)
	}
	if r.Header.Get("X-Signal-Fetch") != "" {
		w.Header().Set("X-Location", path)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}
