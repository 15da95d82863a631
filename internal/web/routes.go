package web

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

func (s *server) routes() {
	s.mux.Handle("GET /static/", s.static)
	s.mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = "/static/favicon.svg"
		s.static.ServeHTTP(w, r)
	})
	s.mux.HandleFunc("GET /login", s.handleLoginPage)
	s.mux.HandleFunc("POST /login", s.handleLogin)
	s.mux.HandleFunc("POST /logout", s.handleLogout)
	s.mux.HandleFunc("/ui/api/", s.handleProxy)
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/integrations", http.StatusSeeOther)
	})

	s.mux.HandleFunc("GET /integrations", s.page("", s.handleIntegrations))
	s.mux.HandleFunc("GET /library/{key}/install", s.page("", s.handleInstallPage))
	s.mux.HandleFunc("POST /library/{key}/install", s.page("", s.handleInstall))
	s.mux.HandleFunc("GET /integrations/{id}", s.page("", s.handleIntegration))
	s.mux.HandleFunc("POST /integrations/{id}/key", s.page("", s.handleReplaceKey))
	s.mux.HandleFunc("POST /integrations/{id}/enabled", s.page("", s.handleSetEnabled))
	s.mux.HandleFunc("POST /integrations/{id}/test", s.page("", s.handleSendTest))
	s.mux.HandleFunc("POST /integrations/{id}/replay", s.page("", s.handleReplay))
	s.mux.HandleFunc("POST /integrations/{id}/replay-filtered", s.page("", s.handleReplayFiltered))
	s.mux.HandleFunc("POST /integrations/{id}/backfill", s.upload(cmp.Or(s.cfg.BackfillUploadMax, backfillUploadMax), s.handleBackfillUpload))
	s.mux.HandleFunc("GET /integrations/{id}/delete", s.page("", s.handleDeleteIntegrationPage))
	s.mux.HandleFunc("POST /integrations/{id}/delete", s.page("", s.handleDeleteIntegration))
	s.mux.HandleFunc("GET /integrations/{id}/blueprint", s.page("", s.handleBlueprint))
	s.mux.HandleFunc("POST /integrations/{id}/blueprint", s.page("", s.handleSaveBlueprint))
	s.mux.HandleFunc("POST /integrations/{id}/blueprint/rollback", s.page("", s.handleRollbackBlueprint))
	s.mux.HandleFunc("GET /integrations/{id}/blueprint/reset", s.page("", s.handleResetBlueprintPage))
	s.mux.HandleFunc("POST /integrations/{id}/blueprint/reset", s.page("", s.handleResetBlueprint))

	s.mux.HandleFunc("GET /pipelines", s.page("", s.handlePipelines))
	s.mux.HandleFunc("POST /pipelines", s.page("", s.handleCreatePipeline))
	s.mux.HandleFunc("GET /pipelines/{id}", s.page("", s.handlePipeline))
	s.mux.HandleFunc("POST /pipelines/{id}/rename", s.page("", s.handleRenamePipeline))
	s.mux.HandleFunc("POST /pipelines/{id}/signed-only", s.page("", s.handleSignedOnly))
	s.mux.HandleFunc("POST /pipelines/{id}/rotate", s.page("", s.handleRotate))
	s.mux.HandleFunc("GET /pipelines/{id}/delete", s.page("", s.handleDeletePipelinePage))
	s.mux.HandleFunc("POST /pipelines/{id}/delete", s.page("", s.handleDeletePipeline))

	s.mux.HandleFunc("GET /live-events", s.page("", s.handleLiveEvents))
	s.mux.HandleFunc("GET /live-events/{id}", s.page("", s.handleLiveEvent))
	s.mux.HandleFunc("POST /live-events/{id}/replay", s.page("", s.handleReplayLiveEvent))

	s.mux.HandleFunc("GET /users", s.page("admin", s.handleUsers))
	s.mux.HandleFunc("POST /users", s.page("admin", s.handleInviteUser))
	s.mux.HandleFunc("POST /users/{id}/role", s.page("admin", s.handleChangeRole))
	s.mux.HandleFunc("GET /users/{id}/delete", s.page("admin", s.handleDeleteUserPage))
	s.mux.HandleFunc("POST /users/{id}/delete", s.page("admin", s.handleDeleteUser))
	s.mux.HandleFunc("GET /audit-log", s.page("admin", s.handleAuditLog))
	s.mux.HandleFunc("GET /settings", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/settings/alerts", http.StatusSeeOther)
	})
	s.mux.HandleFunc("GET /settings/alerts", s.page("admin", s.handleAlerts))
	s.mux.HandleFunc("POST /settings/alerts", s.page("admin", s.handleSaveAlerts))

	s.mux.HandleFunc("/", s.page("", func(c *pageCtx) {
		s.errorPage(c.w, c.v, http.StatusNotFound, "Page not found", "There is no page at this address. Use the menu to find your way.")
	}))
}

// pageCtx is one signed-in page request.
type pageCtx struct {
	w    http.ResponseWriter
	r    *http.Request
	sess *session
	v    *view
}

// get reads an API path into out.
func (c *pageCtx) get(s *server, path string, out any) *apiError {
	return s.get(c.w, c.r, c.sess, path, out)
}

// send calls the API with a JSON body.
func (c *pageCtx) send(s *server, method, path string, body any) result {
	return s.call(c.w, c.r, c.sess, method, path, body)
}

// page wraps a handler for signed-in users: it sends visitors to sign in,
// refuses a form post without the session's CSRF token, loads the user
// (GET /me) and, with need "admin", refuses other roles.
func (s *server) page(need string, h func(*pageCtx)) http.HandlerFunc {
	return s.pageWith(need, 0, h)
}

// upload is page for a form that posts a file (multipart) of at most max
// bytes; only such routes take more than a small form.
func (s *server) upload(max int64, h func(*pageCtx)) http.HandlerFunc {
	return s.pageWith("", max, h)
}

func (s *server) pageWith(need string, uploadMax int64, h func(*pageCtx)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := readSession(r)
		if sess == nil || sess.Access == "" {
			next := r.URL.RequestURI()
			if r.Method != http.MethodGet {
				next = "/"
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		v := &view{CSRF: sess.CSRF}
		if r.Method == http.MethodPost {
			var err error
			if uploadMax > 0 && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
				// Up to 8 MiB held in memory, the rest in a temporary
				// file removed when the request ends.
				// A file may take longer than the listener's read deadline
				// (meant for small forms) to arrive; a stalled one still ends.
				_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(5 * time.Minute))
				r.Body = http.MaxBytesReader(w, r.Body, uploadMax)
				err = r.ParseMultipartForm(8 << 20)
			} else {
				r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
				err = r.ParseForm()
			}
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				s.errorPage(w, v, http.StatusRequestEntityTooLarge, "File too large",
					fmt.Sprintf("The file is over %d MiB. Split the history into several files and upload them one by one.", tooBig.Limit>>20))
				return
			}
			if err != nil || !sess.validCSRF(r.PostForm.Get("csrf")) {
				s.errorPage(w, v, http.StatusForbidden, "Request refused",
					"This form has expired or did not come from this site. Go back, reload the page and try again.")
				return
			}
		}
		var m me
		if err := s.get(w, r, sess, "/v1/admin/me", &m); err != nil {
			if err.Status == http.StatusUnauthorized {
				clearSession(w, r)
				setFlash(w, r, "Your session has ended. Sign in again.")
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.errorPage(w, v, http.StatusBadGateway, "Something went wrong", err.Message)
			return
		}
		v.Me = &m
		v.Flash = takeFlash(w, r)
		var ins struct {
			Data []integrationJSON `json:"data"`
		}
		if s.get(w, r, sess, "/v1/admin/integrations?limit=100", &ins) == nil {
			for _, in := range ins.Data {
				if in.troubled() {
					v.Alert = true
				}
			}
		}
		if need == "admin" && m.Role != "admin" {
			s.errorPage(w, v, http.StatusForbidden, "Admins only", "Only admins can see this page. Ask an admin if you need access.")
			return
		}
		h(&pageCtx{w: w, r: r, sess: sess, v: v})
	}
}
