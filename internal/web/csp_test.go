package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestCSP renders every page (and the pages answering forms) and checks
// they keep to the Content-Security-Policy: the header is sent, and there is
// no inline script, no style element or attribute, no event-handler
// attribute and no javascript: URL, which the policy would block.
func TestCSP(t *testing.T) {
	t.Parallel()
	type req struct {
		role, method, path string
		form               url.Values
	}
	var reqs []req
	for _, pc := range adminPages {
		reqs = append(reqs, req{"admin", "GET", pc.path, nil}, req{"viewer", "GET", pc.path, nil})
	}
	reqs = append(reqs,
		req{"", "GET", "/login", nil},
		req{"admin", "GET", "/no-such-page", nil},
		req{"admin", "POST", "/library/omnisend/install", url.Values{"name": {""}}},
		req{"admin", "POST", "/integrations/int_1/test", url.Values{"email": {"a@example.com"}}},
		req{"admin", "POST", "/integrations/int_1/blueprint", url.Values{"action": {"preview"}, "sample": {`{"type":"track"}`}}},
		req{"admin", "POST", "/pipelines", url.Values{"name": {"New"}}},
	)
	for _, rq := range reqs {
		t.Run(rq.role+" "+rq.method+" "+rq.path, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.api.respond["POST /v1/admin/integration-catalog/omnisend/install"] = fakeAnswer{400, `{"error":{"code":"INVALID","field":"config.api_key","message":"is required"}}`}
			br := b.browser(t)
			if rq.role != "" {
				br = b.signIn(t, rq.role)
			}
			var p page
			if rq.method == "POST" {
				p = br.post(rq.path, rq.form)
			} else {
				p = br.get(rq.path)
			}
			if p.header.Get("Content-Security-Policy") != csp {
				t.Fatalf("CSP header %q", p.header.Get("Content-Security-Policy"))
			}
			if !strings.Contains(p.body, "<html") {
				t.Fatalf("status %d, not a page: %s", p.status, p.body)
			}
			for _, problem := range cspProblems(p.body) {
				t.Error(problem)
			}
		})
	}
}

// cspProblems lists what in body the policy would block.
func cspProblems(body string) []string {
	var out []string
	add := func(format string, tg tag) { out = append(out, fmt.Sprintf(format, tg.raw)) }
	if strings.Contains(strings.ToLower(body), "<style") {
		out = append(out, "inline <style> element")
	}
	for _, tg := range tags(body) {
		if tg.name == "script" && tg.attrs["src"] == "" {
			add("inline script: %s", tg)
		}
		if tg.name == "script" && !strings.HasPrefix(tg.attrs["src"], "/static/") {
			add("script from elsewhere: %s", tg)
		}
		for a, v := range tg.attrs {
			switch {
			case a == "style":
				add("style attribute: %s", tg)
			case strings.HasPrefix(a, "on"):
				add("event-handler attribute: %s", tg)
			case (a == "href" || a == "src" || a == "action") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), "javascript:"):
				add("javascript: URL: %s", tg)
			}
		}
	}
	return out
}

// The checker itself finds what it must.
func TestCheckCSPFinds(t *testing.T) {
	t.Parallel()
	bad := []string{`<script>alert(1)</script>`, `<p style="color:red">x</p>`, `<button onclick="x()">`, `<a href="javascript:x()">`, `<style>p{}</style>`,
		`<script src="https://cdn.example/x.js"></script>`}
	for _, b := range bad {
		if len(cspProblems(b)) == 0 {
			t.Errorf("not caught: %s", b)
		}
	}
}

func TestStatic(t *testing.T) {
	t.Parallel()
	files := []struct{ path, ctype string }{
		{"/static/app.css", "text/css"}, {"/static/live.js", "javascript"}, {"/static/blueprint.js", "javascript"},
		{"/static/dialog.js", "javascript"}, {"/static/copy.js", "javascript"}, {"/static/time.js", "javascript"},
		{"/static/favicon.svg", "image/svg+xml"}, {"/favicon.ico", "image/svg+xml"},
	}
	for _, f := range files {
		t.Run(f.path, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			br := b.browser(t)
			p := br.get(f.path)
			etag := p.header.Get("ETag")
			if p.status != 200 || etag == "" || !strings.Contains(p.header.Get("Content-Type"), f.ctype) || p.header.Get("Cache-Control") == "" {
				t.Fatalf("status %d ETag %q type %q cache %q", p.status, etag, p.header.Get("Content-Type"), p.header.Get("Cache-Control"))
			}
			p = br.do(http.MethodGet, f.path, nil, map[string]string{"If-None-Match": etag})
			if p.status != http.StatusNotModified || p.body != "" {
				t.Fatalf("revalidation: status %d", p.status)
			}
			p = br.do(http.MethodGet, f.path, nil, map[string]string{"If-None-Match": `"other"`})
			if p.status != 200 {
				t.Fatalf("stale ETag: status %d", p.status)
			}
			page := b.signIn(t, "admin").get("/live-events")
			name := strings.TrimPrefix(f.path, "/static/")
			if strings.HasPrefix(name, "/") {
				return
			}
			if strings.HasSuffix(name, ".js") && name != "blueprint.js" && name != "dialog.js" && !strings.Contains(page.body, f.path+"?v="+strings.Trim(etag, `"`)) {
				t.Errorf("page does not link %s by its version", f.path)
			}
		})
	}
	b := setup(t)
	if p := b.browser(t).get("/static/nope.js"); p.status != 404 {
		t.Errorf("missing file: %d", p.status)
	}
}
