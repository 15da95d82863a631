package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		form       url.Values
		noCSRF     bool
		wantStatus int
		wantLoc    string
		wantText   string
	}{
		{name: "right password goes to next", form: url.Values{"email": {"admin@example.com"}, "password": {"pw-admin"}, "next": {"/pipelines"}},
			wantStatus: 303, wantLoc: "/pipelines"},
		{name: "next off-site is ignored", form: url.Values{"email": {"admin@example.com"}, "password": {"pw-admin"}, "next": {"//evil.example/x"}},
			wantStatus: 303, wantLoc: "/integrations"},
		{name: "wrong password", form: url.Values{"email": {"admin@example.com"}, "password": {"nope"}},
			wantStatus: 401, wantText: "Email or password is wrong."},
		{name: "no CSRF token", form: url.Values{"email": {"admin@example.com"}, "password": {"pw-admin"}}, noCSRF: true,
			wantStatus: 403, wantText: "Request refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			br := b.browser(t)
			lp := br.get("/login")
			for _, want := range []string{"Sign in to Signal", `<label for="email">Email</label>`, `<label for="password">Password</label>`, "Sign in</button>"} {
				if !strings.Contains(lp.body, want) {
					t.Fatalf("login page lacks %q", want)
				}
			}
			var p page
			if tt.noCSRF {
				p = br.do(http.MethodPost, "/login", tt.form, nil)
			} else {
				p = br.post("/login", tt.form)
			}
			if p.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", p.status, tt.wantStatus, p.body)
			}
			if loc := p.header.Get("Location"); loc != tt.wantLoc {
				t.Errorf("Location %q, want %q", loc, tt.wantLoc)
			}
			if !strings.Contains(p.body, tt.wantText) {
				t.Errorf("body lacks %q", tt.wantText)
			}
			signedIn := readSessionValue(br.cookies[sessionCookie]).Access != ""
			if signedIn != (tt.wantStatus == 303) {
				t.Errorf("signed in = %v", signedIn)
			}
		})
	}
}

func TestSessionCookie(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser(t)
	br.get("/login")
	before := br.csrf()
	p := br.post("/login", url.Values{"email": {"editor@example.com"}, "password": {"pw-editor"}})
	c := p.header.Values("Set-Cookie")
	if len(c) == 0 || !strings.Contains(c[0], "HttpOnly") || !strings.Contains(c[0], "SameSite=Strict") || !strings.Contains(c[0], "Path=/") {
		t.Fatalf("session cookie attributes: %v", c)
	}
	if strings.Contains(c[0], "Secure") {
		t.Errorf("plain HTTP cookie marked Secure: %s", c[0])
	}
	if br.csrf() == before {
		t.Error("CSRF token not renewed at sign-in")
	}
	// Behind a TLS proxy the cookie is Secure.
	p = br.do(http.MethodGet, "/login", nil, map[string]string{"X-Forwarded-Proto": "https"})
	br.cookies = map[string]string{}
	p = br.do(http.MethodGet, "/login", nil, map[string]string{"X-Forwarded-Proto": "https"})
	if c := p.header.Get("Set-Cookie"); !strings.Contains(c, "Secure") {
		t.Errorf("cookie over https not Secure: %s", c)
	}
}

func TestSessionRefresh(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		expire      time.Duration
		dropRefresh bool
		wantStatus  int
		wantLoc     string
	}{
		{name: "fresh token", expire: 0, wantStatus: 200},
		{name: "expired access token is refreshed", expire: 20 * time.Minute, wantStatus: 200},
		{name: "ended refresh token signs out", expire: 20 * time.Minute, dropRefresh: true, wantStatus: 303, wantLoc: "/login?next=%2Fpipelines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			br := b.signIn(t, "admin")
			old := readSessionValue(br.cookies[sessionCookie])
			b.clk.advance(tt.expire)
			if tt.dropRefresh {
				b.api.mu.Lock()
				b.api.refresh = map[string]string{}
				b.api.mu.Unlock()
			}
			p := br.get("/pipelines")
			if p.status != tt.wantStatus || p.header.Get("Location") != tt.wantLoc {
				t.Fatalf("status %d Location %q, want %d %q", p.status, p.header.Get("Location"), tt.wantStatus, tt.wantLoc)
			}
			now := readSessionValue(br.cookies[sessionCookie])
			switch {
			case tt.dropRefresh && now != nil:
				t.Error("session cookie kept after the session ended")
			case !tt.dropRefresh && tt.expire > 0 && (now == nil || now.Access == old.Access || now.CSRF != old.CSRF):
				t.Error("tokens not renewed (or CSRF token changed) by the refresh")
			case tt.expire == 0 && now.Access != old.Access:
				t.Error("a fresh token was refreshed")
			}
		})
	}
}

// Two requests finding the access token expired at once both succeed,
// though the refresh token is single-use.
func TestConcurrentRefresh(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.signIn(t, "admin")
	b.clk.advance(time.Hour)
	cookie := br.cookies[sessionCookie]
	for range 2 {
		br.cookies[sessionCookie] = cookie
		if p := br.get("/integrations"); p.status != 200 {
			t.Fatalf("status %d", p.status)
		}
	}
	// Soon after, the used refresh token is worth nothing.
	b.clk.advance(refreshGrace + time.Second)
	br.cookies[sessionCookie] = cookie
	if p := br.get("/integrations"); p.status != 303 {
		t.Fatalf("a used refresh token still works: status %d", p.status)
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.signIn(t, "admin")
	if p := br.do(http.MethodPost, "/logout", url.Values{}, nil); p.status != 403 || br.cookies[sessionCookie] == "" {
		t.Fatalf("sign-out without CSRF token: status %d", p.status)
	}
	refresh := readSessionCookie(t, br.cookies[sessionCookie]).Refresh
	p := br.post("/logout", nil)
	b.api.mu.Lock()
	_, alive := b.api.refresh[refresh]
	b.api.mu.Unlock()
	if alive {
		t.Error("sign-out left the refresh token valid at the API")
	}
	if p.status != 303 || p.header.Get("Location") != "/login" {
		t.Fatalf("status %d Location %q", p.status, p.header.Get("Location"))
	}
	if _, ok := br.cookies[sessionCookie]; ok {
		t.Error("session cookie not cleared")
	}
	if p := br.get("/integrations"); p.status != 303 || !strings.HasPrefix(p.header.Get("Location"), "/login") {
		t.Errorf("after sign-out a page answers %d %q", p.status, p.header.Get("Location"))
	}
	if p := br.get("/login"); !strings.Contains(p.body, "You are signed out.") {
		t.Error("no signed-out message")
	}
}

func TestCSRFRefused(t *testing.T) {
	t.Parallel()
	posts := []string{
		"/library/omnisend/install", "/integrations/int_1/key", "/integrations/int_1/enabled", "/integrations/int_1/test",
		"/integrations/int_1/replay", "/integrations/int_1/delete", "/integrations/int_1/blueprint", "/pipelines",
		"/pipelines/pip_1/rename", "/pipelines/pip_1/delete", "/users", "/users/usr_viewer/role", "/users/usr_viewer/delete",
	}
	for _, path := range posts {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			br := b.signIn(t, "admin")
			for _, token := range []string{"", "wrong"} {
				p := br.do(http.MethodPost, path, url.Values{"csrf": {token}, "name": {"x"}}, nil)
				if p.status != http.StatusForbidden || !strings.Contains(p.body, "Request refused") {
					t.Fatalf("csrf %q: status %d", token, p.status)
				}
			}
			if w := b.api.writeLog(); len(w) != 0 {
				t.Fatalf("the API was called: %v", w)
			}
		})
	}
}

func TestProxy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		method     string
		path       string
		header     map[string]string
		signedOut  bool
		wantStatus int
		wantBody   string
	}{
		{name: "get", method: "GET", path: "/ui/api/live-events/counts", wantStatus: 200, wantBody: `"delivered":5`},
		{name: "stream", method: "GET", path: "/ui/api/live-events/stream?status=failed", wantStatus: 200, wantBody: "data: {"},
		{name: "write without token", method: "POST", path: "/ui/api/integrations/int_1/replay", wantStatus: 403, wantBody: "X-CSRF-Token"},
		{name: "write with token", method: "POST", path: "/ui/api/integrations/int_1/replay", header: map[string]string{"X-CSRF-Token": "<csrf>"}, wantStatus: 200, wantBody: `"requeued":3`},
		{name: "signed out", method: "GET", path: "/ui/api/live-events/counts", signedOut: true, wantStatus: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			br := b.signIn(t, "admin")
			if tt.signedOut {
				br.cookies = map[string]string{}
			}
			h := map[string]string{}
			for k, v := range tt.header {
				h[k] = strings.ReplaceAll(v, "<csrf>", br.csrf())
			}
			var form url.Values
			if tt.method == "POST" {
				form = url.Values{}
			}
			p := br.do(tt.method, tt.path, form, h)
			if p.status != tt.wantStatus || !strings.Contains(p.body, tt.wantBody) {
				t.Fatalf("status %d body %s", p.status, p.body)
			}
		})
	}
}

// readSessionCookie decodes a session cookie's value as the browser keeps it.
func readSessionCookie(t *testing.T, value string) *session {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: value})
	s := readSession(r)
	if s == nil {
		t.Fatal("the session cookie does not decode")
	}
	return s
}

// TestSafeNext: a post-login redirect stays on this site, whatever a link
// puts in next (browsers drop tabs and newlines from a URL, and read a
// backslash as a slash).
func TestSafeNext(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ next, want string }{
		{"/pipelines", "/pipelines"},
		{"/live-events?status=failed&q=a%40b", "/live-events?status=failed&q=a%40b"},
		{"", "/integrations"},
		{"https://evil.example/", "/integrations"},
		{"//evil.example", "/integrations"},
		{"/\\evil.example", "/integrations"},
		{"/\t/evil.example", "/integrations"},
		{"/\n/evil.example", "/integrations"},
		{"/%09/evil.example", "/%09/evil.example"}, // escaped: a path on this site
		{"/ /evil.example", "/integrations"},
		{"/a\\b", "/integrations"},
		{"/\x7f/evil.example", "/integrations"},
	} {
		if got := safeNext(tt.next); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.next, got, tt.want)
		}
	}
}
