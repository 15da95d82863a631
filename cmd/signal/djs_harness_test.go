package main

// The harness of Datafly.js's browser tests (djs_test.go): the UI harness's
// signal node, fake Omnisend and chromium (ui_harness_test.go), plus a shop
// site on another origin than the gateway, and a proxy in front of the
// gateway that records what the script sends and can be switched off or
// made to answer 429.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// proxyMode is what the proxy does with the next requests.
type proxyMode int

const (
	proxyUp      proxyMode = iota // forwards to the gateway
	proxyDown                     // drops every connection, as a gateway that is down
	proxyLimited                  // answers the next POST 429 with Retry-After, then forwards
)

// proxyRetrySec is the Retry-After of proxyLimited's 429.
const proxyRetrySec = 2

// sentBatch is one POST /v1/batch the proxy saw.
type sentBatch struct {
	at        time.Time
	status    int // 0: dropped (proxyDown)
	auth      string
	ctype     string
	writeKey  string
	messages  []map[string]any
	forwarded bool // reached the gateway
}

// gwProxy stands between the browser and the gateway.
type gwProxy struct {
	*httptest.Server
	url string // http://localhost:<port>: another origin than the site's 127.0.0.1

	mu      sync.Mutex
	mode    proxyMode
	batches []sentBatch
}

func newGatewayProxy(t *testing.T, gateway string) *gwProxy {
	t.Helper()
	p := &gwProxy{}
	client := &http.Client{Timeout: 10 * time.Second}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		batch := r.Method == http.MethodPost && r.URL.Path == "/v1/batch"
		p.mu.Lock()
		mode := p.mode
		if mode == proxyLimited && batch {
			p.mode = proxyUp
		}
		p.mu.Unlock()
		rec := sentBatch{at: time.Now(), auth: r.Header.Get("Authorization"), ctype: r.Header.Get("Content-Type")}
		if batch {
			var b struct {
				WriteKey string           `json:"writeKey"`
				Batch    []map[string]any `json:"batch"`
			}
			json.Unmarshal(body, &b)
			rec.writeKey, rec.messages = b.WriteKey, b.Batch
		}
		record := func(status int) {
			if batch {
				rec.status = status
				p.mu.Lock()
				p.batches = append(p.batches, rec)
				p.mu.Unlock()
			}
		}
		switch {
		case mode == proxyDown:
			record(0)
			panic(http.ErrAbortHandler) // the connection is dropped, no answer
		case mode == proxyLimited && batch:
			record(http.StatusTooManyRequests)
			if o := r.Header.Get("Origin"); o != "" {
				w.Header().Set("Access-Control-Allow-Origin", o)
				w.Header().Set("Access-Control-Allow-Credentials", "true")
				w.Header().Set("Access-Control-Expose-Headers", "Retry-After")
			}
			w.Header().Set("Retry-After", fmt.Sprint(proxyRetrySec))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":{"code":"RATE_LIMITED","message":"slow down"}}`)
			return
		}
		req, _ := http.NewRequest(r.Method, "http://"+gateway+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := client.Do(req)
		if err != nil {
			record(0)
			panic(http.ErrAbortHandler)
		}
		defer resp.Body.Close()
		rec.forwarded = true
		record(resp.StatusCode)
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	p.url = strings.Replace(p.Server.URL, "127.0.0.1", "localhost", 1)
	t.Cleanup(p.Close)
	return p
}

func (p *gwProxy) setMode(m proxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
}

// sent returns a copy of the batches seen so far.
func (p *gwProxy) sent() []sentBatch {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]sentBatch(nil), p.batches...)
}

// stored returns the messages the gateway accepted (answered 200), in the
// order they were sent.
func (p *gwProxy) stored() []map[string]any {
	var out []map[string]any
	for _, b := range p.sent() {
		if b.forwarded && b.status == http.StatusOK {
			out = append(out, b.messages...)
		}
	}
	return out
}

// shop is the site that embeds Datafly.js: every path serves the same page
// (a single-page app), whose head a test chooses, under a strict CSP (no
// eval, no inline style, scripts only with its nonce or from the gateway).
type shop struct {
	*httptest.Server
	mu   sync.Mutex
	head string // HTML before the d.js script tag (scripts need nonce="djs")
	tag  string // attributes of the d.js script tag
}

func newShop(t *testing.T, gateway string) *shop {
	t.Helper()
	s := &shop{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		s.mu.Lock()
		head, tag := s.head, s.tag
		s.mu.Unlock()
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-djs' "+gateway+"; connect-src "+gateway+"; style-src 'none'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop %s</title>%s
<script async nonce="djs" src="%s/d.js" %s></script></head><body><h1>Shop</h1></body></html>`, html.EscapeString(r.URL.Path), head, gateway, tag)
	}))
	t.Cleanup(s.Close)
	return s
}

// page sets what the next page load holds: head (before the script) and
// the script tag's attributes.
func (s *shop) page(head, tag string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.head, s.tag = head, tag
}

// djs is one Datafly.js browser test.
type djs struct {
	*ui
	key   string // the pipeline key
	proxy *gwProxy
	shop  *shop
}

func setupDJS(t *testing.T) *djs {
	t.Helper()
	u := setupUI(t)
	p := newGatewayProxy(t, u.n.gateway)
	return &djs{ui: u, key: u.pipelineAPI("shop"), proxy: p, shop: newShop(t, p.url)}
}

// keyTag is the script tag's pipeline key attribute.
func (d *djs) keyTag() string { return `data-pipeline-key="` + d.key + `"` }

// load opens path on the shop with head and the script tag's attributes
// (the pipeline key unless tag names one), then waits for Datafly.js.
func (d *djs) load(path, head, tag, global string) {
	d.t.Helper()
	if !strings.Contains(tag, "data-pipeline-key") {
		tag = d.keyTag() + " " + tag
	}
	d.shop.page(head, tag)
	d.step("open "+path, chromedp.Navigate(d.shop.URL+path),
		waitJS("Datafly.js to load", `window.`+global+` && window.`+global+`.__signal`))
}

// waitStored waits until the gateway accepted messages that satisfy ok,
// for up to limit, and returns every accepted message.
func (d *djs) waitStored(what string, limit time.Duration, ok func([]map[string]any) bool) []map[string]any {
	d.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		got := d.proxy.stored()
		if ok(got) {
			return got
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("timed out waiting for %s; the gateway accepted:\n%s", what, summary(got))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// summary is one line per message: type, event or path, messageId.
func summary(msgs []map[string]any) string {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "  %v %v%v %v\n", m["type"], m["event"], dig(m, "properties", "path"), m["messageId"])
	}
	return b.String()
}

// dig reads a nested member of a decoded JSON object ("" when absent).
func dig(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		o, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = o[p]
	}
	if v == nil {
		return ""
	}
	return v
}

// count is how many messages match.
func count(msgs []map[string]any, match func(map[string]any) bool) int {
	n := 0
	for _, m := range msgs {
		if match(m) {
			n++
		}
	}
	return n
}

func isTrack(event string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["type"] == "track" && m["event"] == event }
}

func isPage(path string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["type"] == "page" && dig(m, "properties", "path") == path }
}

// noTraitsStored fails the test when any localStorage value of the shop
// holds one of values (identify traits).
func (d *djs) noTraitsStored(values ...string) {
	d.t.Helper()
	all := eval[string](d.ui, `JSON.stringify(Object.assign({}, localStorage))`)
	for _, v := range values {
		if strings.Contains(all, v) {
			d.t.Errorf("localStorage holds the trait %q: %s", v, all)
		}
	}
}
