package web

import (
	"net/http"
	"net/url"
	"strings"
)

type loginPage struct {
	Email string
	Next  string
	Error string
}

// safeNext keeps a post-login redirect on this site: a path of its own,
// with no backslash or control character or space anywhere (browsers drop
// tabs and newlines from a URL, so "/\t/evil.example" is "//evil.example"),
// and no scheme or host.
func safeNext(next string) string {
	const home = "/integrations"
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsRune(next, '\\') {
		return home
	}
	for i := 0; i < len(next); i++ {
		if next[i] <= ' ' || next[i] == 0x7f {
			return home
		}
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return home
	}
	return next
}

func (s *server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	sess := readSession(r)
	if sess == nil {
		sess = &session{CSRF: randomToken()}
		writeSession(w, r, sess)
	}
	v := &view{Title: "Sign in", CSRF: sess.CSRF, Flash: takeFlash(w, r)}
	v.Page = loginPage{Next: safeNext(r.URL.Query().Get("next"))}
	s.render(w, http.StatusOK, "login", v)
}

func (s *server) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	sess := readSession(r)
	if err := r.ParseForm(); err != nil || !sess.validCSRF(r.PostForm.Get("csrf")) {
		if sess == nil {
			sess = &session{CSRF: randomToken()}
			writeSession(w, r, sess)
		}
		v := &view{Title: "Request refused", CSRF: sess.CSRF}
		s.errorPage(w, v, http.StatusForbidden, "Request refused",
			"The sign-in form expired or did not come from this site. Open the sign-in page again and retry.")
		return
	}
	email, next := strings.TrimSpace(r.PostForm.Get("email")), safeNext(r.PostForm.Get("next"))
	res := s.do(r, "", http.MethodPost, "/v1/admin/auth/login", map[string]string{"email": email, "password": r.PostForm.Get("password")})
	var pair tokenPair
	if res.err == nil && res.decode(&pair) == nil && pair.AccessToken != "" {
		// A new CSRF token on sign-in, so one planted before it is useless.
		writeSession(w, r, &session{Access: pair.AccessToken, Refresh: pair.RefreshToken, CSRF: randomToken()})
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	msg := "Email or password is wrong."
	if res.err != nil && res.err.Status != http.StatusUnauthorized {
		msg = res.err.Message
	}
	v := &view{Title: "Sign in", CSRF: sess.CSRF, Page: loginPage{Email: email, Next: next, Error: msg}}
	s.render(w, res.status, "login", v)
}

func (s *server) handleLogout(w http.ResponseWriter, r *http.Request) {
	sess := readSession(r)
	if err := r.ParseForm(); err != nil || !sess.validCSRF(r.PostForm.Get("csrf")) {
		s.errorPage(w, &view{}, http.StatusForbidden, "Request refused", "Sign-out must come from the Sign out button of this site.")
		return
	}
	if sess.Refresh != "" {
		// Revoke the refresh token, so a copy of the cookie cannot be
		// brought back to life; the short-lived access token expires by
		// itself.
		s.do(r, "", "POST", "/v1/admin/auth/logout", map[string]string{"refresh_token": sess.Refresh})
	}
	clearSession(w, r)
	redirect(w, r, "/login", "You are signed out.")
}
