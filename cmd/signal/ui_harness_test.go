package main

// The harness of the Management UI's browser tests (the other
// ui_*_test.go files): a signal process with a fake Omnisend, a headless
// Debian chromium driven with chromedp, and steps made of the actions in
// ui_actions_test.go, which act as a person does. Every step leaves a
// screenshot in the test's artifact directory, and a console error or an
// uncaught exception fails the test.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium, which test.sh installs when missing.
const chromiumPath = "/usr/bin/chromium"

// adminEmail and adminPassword are the first admin that start() configures.
const (
	adminEmail    = "admin@localhost"
	adminPassword = "e2e-password"
)

// stepTimeout bounds one step; a whole test stays well under a minute.
const stepTimeout = 20 * time.Second

// ui is one browser test: its signal node, its fake Omnisend, and one tab of
// a chromium of its own (own user-data-dir, so no cookie is shared between
// tests: cookies ignore the port, and every node listens on 127.0.0.1).
type ui struct {
	t     *testing.T
	n     *node
	omni  *scriptedOmnisend
	base  string // http://<admin listener>
	ctx   context.Context
	dir   string // where the screenshots go
	steps int
	tok   string // the first admin's access token, once asked for

	release func() // lets the fake Omnisend answer heldOmnisendKey's requests
	accept  func() // makes the fake Omnisend accept rejectedOmnisendKey's events

	mu      sync.Mutex
	console []string // console errors and uncaught exceptions not yet reported
	allowed []*regexp.Regexp
}

// badOmnisendKey is a key the fake Omnisend refuses with 401, as Omnisend
// refuses a revoked key; every other key is accepted with 202.
const badOmnisendKey = "bad-key-0000000000000000"

// heldOmnisendKey is a key whose requests the fake Omnisend answers only
// once the test calls release (or after 8 s, under signal's 10 s timeout):
// the test sees its event pending, then watches it turn delivered.
const heldOmnisendKey = "held-key-000000000000000"

// rejectedOmnisendKey is a key whose events the fake Omnisend refuses as
// invalid (400, so they end failed, vendor_rejected) until the test calls
// accept, as after a fix on Omnisend's side; then they are accepted.
const rejectedOmnisendKey = "rejected-key-00000000000"

// setupUI starts signal, its fake Omnisend and a browser for t.
func setupUI(t *testing.T) *ui {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s is missing: run ./test.sh, which installs Debian's chromium (%v)", chromiumPath, err)
	}
	held, accepting := make(chan struct{}), make(chan struct{})
	var releaseOnce, acceptOnce sync.Once
	omni := newScriptedOmnisend(t, func(key string, _ int) omniReply {
		if key == heldOmnisendKey {
			select {
			case <-held:
			case <-time.After(8 * time.Second):
			}
		}
		limits := map[string]string{"X-Rate-Limit-Limit": "400", "X-Rate-Limit-Remaining": "399", "X-Rate-Limit-Reset": "60"}
		if key == badOmnisendKey {
			return omniReply{status: http.StatusUnauthorized, header: limits, body: `{"error":"Invalid API key"}`}
		}
		if key == rejectedOmnisendKey {
			select {
			case <-accepting:
			default:
				return omniReply{status: http.StatusBadRequest, header: limits, body: `{"error":"eventTime is too far in the past"}`}
			}
		}
		return omniReply{status: http.StatusAccepted, header: limits, body: `{}`}
	})
	n := start(t, t.TempDir(), "SIGNAL_OMNISEND_API_URL="+omni.URL, "SIGNAL_ADMIN_PASSWORD="+adminPassword)
	u := &ui{t: t, n: n, omni: omni, base: "http://" + n.admin, dir: artifactDir(t),
		release: func() { releaseOnce.Do(func() { close(held) }) },
		accept:  func() { acceptOnce.Do(func() { close(accepting) }) }}
	t.Logf("screenshots of %s: %s (set SIGNAL_E2E_ARTIFACTS to keep those of passing tests)", t.Name(), u.dir)

	// The whole test, browser start included, is bounded here: a hung
	// browser fails the test instead of the package's timeout.
	root, cancelRoot := context.WithTimeout(context.Background(), 3*time.Minute)
	alloc, cancelAlloc := chromedp.NewExecAllocator(root,
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	ctx, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelRoot()
	})
	// The first Run starts the browser and opens the tab.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	u.ctx = ctx
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && !m.IsException() {
				continue
			}
			u.mu.Lock()
			u.console = append(u.console, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line))
			u.mu.Unlock()
		}
	}()
	return u
}

// artifactDir is t's screenshot directory: under $SIGNAL_E2E_ARTIFACTS when
// set (CI or a person keeps every screenshot there), else a fresh temporary
// directory, kept when the test fails (its path is in the failure) and
// removed when it passes, so runs do not pile up in /tmp.
func artifactDir(t *testing.T) string {
	t.Helper()
	name := regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name(), "_")
	if root := os.Getenv("SIGNAL_E2E_ARTIFACTS"); root != "" {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	dir, err := os.MkdirTemp("", "signal-e2e-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	})
	return dir
}

// allowConsole accepts console errors matching re: a test that makes the
// server refuse something on purpose (a 403, a 401) expects the browser to
// log the refused request.
func (u *ui) allowConsole(re string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.allowed = append(u.allowed, regexp.MustCompile(re))
}

// consoleErrors takes the console errors seen since the last call, less the
// allowed ones.
func (u *ui) consoleErrors() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	var errs []string
	for _, e := range u.console {
		ok := false
		for _, re := range u.allowed {
			ok = ok || re.MatchString(e)
		}
		if !ok {
			errs = append(errs, e)
		}
	}
	u.console = nil
	return errs
}

// step runs what a person does in one step, then saves a screenshot named
// after it. On failure the screenshot shows the page as it was, the message
// says what the page showed, and the test stops.
func (u *ui) step(name string, actions ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	u.run(name, u.t.Fatalf, actions...)
}

// check is step that lets the test go on after a failure (the tour of
// every page reports every page that fails); it reports whether it passed.
func (u *ui) check(name string, actions ...chromedp.Action[chromedp.Void]) bool {
	u.t.Helper()
	return u.run(name, u.t.Errorf, actions...)
}

func (u *ui) run(name string, fail func(string, ...any), actions ...chromedp.Action[chromedp.Void]) bool {
	u.t.Helper()
	u.steps++
	ctx, cancel := context.WithTimeout(u.ctx, stepTimeout)
	err := chromedp.Do(ctx, actions...)
	cancel()
	if err != nil {
		shot := u.screenshot(name + "-FAILED")
		console := ""
		if errs := u.consoleErrors(); len(errs) > 0 {
			console = "\n  console: " + strings.Join(errs, "\n  console: ")
		}
		fail("step %d %q: %v\n  page: %s\n  screenshot: %s%s\n  visible text: %.1500s", u.steps, name, err, u.location(), shot, console, u.visibleText())
		return false
	}
	shot := u.screenshot(name)
	// Console messages arrive asynchronously: give the last ones a moment.
	time.Sleep(50 * time.Millisecond)
	if errs := u.consoleErrors(); len(errs) > 0 {
		fail("step %d %q: the browser console shows errors:\n  %s\n  screenshot: %s", u.steps, name, strings.Join(errs, "\n  "), shot)
		return false
	}
	return true
}

// screenshot saves the whole page as NN-name.png and returns its path.
func (u *ui) screenshot(name string) string {
	ctx, cancel := context.WithTimeout(u.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "(no screenshot: " + err.Error() + ")"
	}
	file := filepath.Join(u.dir, fmt.Sprintf("%02d-%s.png", u.steps, regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(name, "-")))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		return "(no screenshot: " + err.Error() + ")"
	}
	return file
}

func (u *ui) location() string {
	ctx, cancel := context.WithTimeout(u.ctx, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "(unknown: " + err.Error() + ")"
	}
	return loc
}

func (u *ui) visibleText() string {
	ctx, cancel := context.WithTimeout(u.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return "(unknown: " + err.Error() + ")"
	}
	return strings.Join(strings.Fields(s), " ")
}

// eval runs a JavaScript expression in the page, awaits it if it is a
// promise, and decodes its value.
func eval[T any](u *ui, expr string) T {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		u.t.Fatalf("evaluate %s: %v\n  page: %s", expr, err, u.location())
	}
	return v
}

// --- The API, as the seeding and checking side ---------------------------

// token is an access token of the first admin, for seeding and checking.
func (u *ui) token() string {
	u.t.Helper()
	if u.tok == "" {
		u.tok = u.n.login(u.t)
	}
	return u.tok
}

// installAPI installs Omnisend through the API (tests of other journeys
// than Quick Setup start from an installed integration) and returns its id.
func (u *ui) installAPI(apiKey string) string {
	u.t.Helper()
	return u.n.install(u.t, u.token(), fmt.Sprintf(`{"name":"Omnisend","variant":"default","config":{"api_key":%s},"delivery_mode":"server_side"}`, jq(apiKey)))
}

// pipelineAPI creates a pipeline through the API and returns its key.
func (u *ui) pipelineAPI(name string) string {
	u.t.Helper()
	return u.n.createPipeline(u.t, u.token(), name)["pipeline_key"].(string)
}

// gatewaySend posts one event to the gateway with net/http, as a site would.
func (u *ui) gatewaySend(pipelineKey, path, body string) {
	u.t.Helper()
	u.n.send(u.t, path, pipelineKey, body)
}
