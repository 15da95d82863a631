package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type testBundle struct {
	api *fakeAPI
	h   http.Handler
	clk *clock
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 30, 10, 30, 0, 0, time.UTC)}
	api := newFakeAPI(clk.now)
	h := New(Config{GatewayPort: "8080"}, Deps{API: api, Now: clk.now})
	return &testBundle{api: api, h: h, clk: clk}
}

// browser keeps cookies between requests, as a browser would.
type browser struct {
	t       *testing.T
	h       http.Handler
	cookies map[string]string
}

type page struct {
	status int
	header http.Header
	body   string
}

func (b *testBundle) browser(t *testing.T) *browser {
	return &browser{t: t, h: b.h, cookies: map[string]string{}}
}

func (br *browser) do(method, path string, form url.Values, header map[string]string) page {
	br.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	h := map[string]string{}
	if form != nil {
		h["Content-Type"] = "application/x-www-form-urlencoded"
	}
	for k, v := range header {
		h[k] = v
	}
	return br.send(method, path, body, h)
}

// doBody sends a body of contentType (a multipart form).
func (br *browser) doBody(method, path string, body io.Reader, contentType string) page {
	br.t.Helper()
	return br.send(method, path, body, map[string]string{"Content-Type": contentType})
}

func (br *browser) send(method, path string, body io.Reader, header map[string]string) page {
	br.t.Helper()
	req := httptest.NewRequest(method, path, body)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	for k, v := range br.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	rec := httptest.NewRecorder()
	br.h.ServeHTTP(rec, req)
	res := rec.Result()
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(br.cookies, c.Name)
		} else {
			br.cookies[c.Name] = c.Value
		}
	}
	b, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (br *browser) get(path string) page { return br.do(http.MethodGet, path, nil, nil) }

// post sends a form with the session's CSRF token.
func (br *browser) post(path string, form url.Values) page {
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", br.csrf())
	return br.do(http.MethodPost, path, form, nil)
}

func (br *browser) csrf() string {
	s := readSessionValue(br.cookies[sessionCookie])
	if s == nil {
		return ""
	}
	return s.CSRF
}

func readSessionValue(v string) *session {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: v})
	return readSession(req)
}

// signIn signs in as role@example.com through the sign-in form.
func (b *testBundle) signIn(t *testing.T, role string) *browser {
	t.Helper()
	br := b.browser(t)
	br.get("/login")
	p := br.post("/login", url.Values{"email": {role + "@example.com"}, "password": {"pw-" + role}, "next": {"/integrations"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("sign in as %s: status %d, body %s", role, p.status, p.body)
	}
	return br
}

var tagRE = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*/?>`)
var attrRE = regexp.MustCompile(`([^\s"'>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?`)

type tag struct {
	name  string
	attrs map[string]string
	raw   string
}

// tags lists the start tags of an HTML page with their attributes.
func tags(body string) []tag {
	var out []tag
	for _, m := range tagRE.FindAllStringSubmatch(body, -1) {
		tg := tag{name: strings.ToLower(m[1]), attrs: map[string]string{}, raw: m[0]}
		for _, a := range attrRE.FindAllStringSubmatch(m[2], -1) {
			tg.attrs[strings.ToLower(a[1])] = strings.Trim(a[2], `"'`)
		}
		out = append(out, tg)
	}
	return out
}
