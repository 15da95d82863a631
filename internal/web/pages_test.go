package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// pageCase is one page as a role sees it.
type pageCase struct {
	path  string
	texts []string
}

var adminPages = []pageCase{
	{"/integrations", []string{"<h1>Integrations</h1>", ">Installed</a>", ">Integration Library</a>", "Omnisend", "paused", "Omnisend refused the API key", `class="dot"`}},
	{"/integrations?tab=library", []string{"<h2>Marketing Automation</h2>", "Omnisend", ">alpha</span>", "Setup steps", ">Install</a>",
		"<dialog", "Install Integration</button>", `type="password"`, ">Variant</label>"}},
	{"/library/omnisend/install", []string{"<h1>Install Omnisend</h1>", ">Name</label>", ">Variant</label>", "API key", "Default phone region", "Install Integration</button>"}},
	{"/integrations/int_1", []string{"<h1>Omnisend</h1>", "Why:", "Omnisend refused the API key", "Delivered (last hour)", "<dd>120</dd>",
		"Backlog", "<dd>12</dd>", "Oldest pending", "1m35s", "20 of 400 per minute", "<svg", `class="bar-delivered"`,
		"Send test event</button>", "Replace key</button>", "Disable integration</button>", "Replay failed events</button>", "Replay filtered events</button>",
		`<option value="event_not_enabled">`, "Delete integration…",
		"History backfills", "bf_hist", `<progress max="200" value="150"`, "75%", "(10 filtered)"}},
	{"/integrations/int_1/delete", []string{"<h1>Delete Omnisend?</h1>", "Delete integration</button>", "Cancel"}},
	{"/integrations/int_1/blueprint", []string{"<h1>Blueprint: Omnisend</h1>", "<strong>Order Completed</strong>", "<strong>page</strong>",
		`value="placed order"`, `value="properties.order_id"`, `value="orderID"`, `value="properties.total"`, `<option value="high" selected>`,
		">Enabled</label>", ">Vendor event name</label>", ">Priority</label>", ">Max age</label>", "Add mapping</button>", ">Remove</button>",
		"Add event</button>", "Save blueprint</button>", "Sample event (JSON)", "Preview</button>",
		`<h2 id="h-versions">Versions</h2>`, "editor@example.com", `datetime="2026-11-30T11:00:00Z"`, "Replaced the blueprint", ">current</span>",
		`aria-label="Roll back to version 1">Roll back</button>`, ">Reset to default</a>"}},
	{"/integrations/int_1/blueprint/reset", []string{"<h1>Reset the blueprint of Omnisend?</h1>", "default of the default variant", "Reset to default</button>", "Cancel"}},
	{"/pipelines", []string{"<h1>Pipelines</h1>", "Web shop", "dk_live_abc", "Create pipeline</button>", ">Pipeline name</label>"}},
	{"/pipelines/pip_1", []string{"<h1>Web shop</h1>", `id="pipeline-key">dk_live_abc`, ">Copy</button>", "Datafly.js tag", "curl", "Segment SDK configuration",
		"http://example.com:8080/d.js", "data-pipeline-key=&#34;dk_live_abc&#34;", "Rename pipeline</button>", "Delete pipeline…"}},
	{"/pipelines/pip_1/delete", []string{"<h1>Delete Web shop?</h1>", "Delete pipeline</button>"}},
	{"/live-events", []string{"<h1>Live Events</h1>", ">Integration</label>", ">Pipeline</label>", ">Status</label>", ">Reason</label>", ">Type</label>",
		">Event name</label>", `placeholder="User id, email or order id"`, "Apply filters</button>", `data-count="delivered">5<`,
		"Order Completed", "Omnisend refused the event as malformed.", `Warning: property &#34;value&#34; was a number, now a string`, "Next attempt", `datetime="2026-11-30T10:05:00Z"`,
		">Pause</button>", "Load older</a>", "cursor=c2", `data-stream="/ui/api/live-events/stream"`}},
	{"/live-events?status=failed&q=jane%40example.com", []string{`<option value="failed" selected>`, `value="jane@example.com"`,
		`data-stream="/ui/api/live-events/stream?q=jane%40example.com&amp;status=failed"`}},
	{"/live-events?cursor=c2", []string{"Order Completed", "Older events"}},
	{"/live-events/dlv_1", []string{"<h1>Event: Order Completed</h1>", "Replay this event</button>", `<strong>Warning:</strong> property &#34;value&#34; was a number, now a string`, "Input as received", "Processed", "Payload sent", "Attempts",
		"&#34;consent&#34;: &#34;subscribed&#34;", "&#34;eventName&#34;: &#34;placed order&#34;", "Vendor status</strong> 400", "missing contact",
		"Omnisend refused the event as malformed."}},
	{"/users", []string{"<h1>Users</h1>", "viewer@example.com", "Change role</button>", "Invite user</button>", ">Initial password</label>", "Delete…"}},
	{"/users/usr_viewer/delete", []string{"<h1>Delete viewer@example.com?</h1>", "Delete user</button>"}},
	{"/audit-log", []string{"<h1>Audit log</h1>", "admin@example.com", "integration.install", "installed Omnisend", "Older entries</a>"}},
	{"/settings/alerts", []string{"<h1>Settings: Alerts</h1>", `value="https://hooks.example.com/T1"`, `value="15"`, "A secret is set.", "Save alert settings</button>", `aria-current="page">Settings</a>`}},
}

func TestPagesRender(t *testing.T) {
	t.Parallel()
	for _, pc := range adminPages {
		t.Run(pc.path, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			br := b.signIn(t, "admin")
			p := br.get(pc.path)
			if p.status != http.StatusOK {
				t.Fatalf("status %d: %s", p.status, p.body)
			}
			for _, want := range append(pc.texts, "Skip to content", `aria-label="Main"`, ">Users</a>", ">Audit log</a>", "admin@example.com", "Sign out</button>") {
				if !strings.Contains(p.body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
		})
	}
}

// Each page with no data says what to do next.
func TestEmptyStates(t *testing.T) {
	t.Parallel()
	tests := []struct{ path, route, want string }{
		{"/integrations", "GET /v1/admin/integrations", "No integration yet: <a href=\"/integrations?tab=library\">open the Integration Library</a>"},
		{"/pipelines", "GET /v1/admin/pipelines", "No pipeline yet: create one below"},
		{"/live-events", "GET /v1/admin/live-events", "No events yet. Send one through a pipeline"},
		{"/audit-log", "GET /v1/admin/audit-log", "Nothing changed yet."},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.api.respond[tt.route] = fakeAnswer{200, `{"data":[],"next_cursor":"","has_more":false}`}
			br := b.signIn(t, "admin")
			if p := br.get(tt.path); p.status != 200 || !strings.Contains(p.body, tt.want) {
				t.Fatalf("status %d, lacks %q", p.status, tt.want)
			}
		})
	}
}

// An API error is shown with its message, never as a blank page.
func TestAPIErrorShown(t *testing.T) {
	t.Parallel()
	tests := []struct{ path, route, want string }{
		{"/integrations/int_1", "GET /v1/admin/integrations/int_1/health", "Health is not available: no such route"},
		{"/live-events", "GET /v1/admin/live-events", "unknown query parameter"},
		{"/integrations/int_1", "GET /v1/admin/integrations/int_1", "no integration int_1"},
	}
	for _, tt := range tests {
		t.Run(tt.route, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			msg := strings.TrimPrefix(tt.want, "Health is not available: ")
			b.api.respond[tt.route] = fakeAnswer{404, `{"error":{"code":"NOT_FOUND","message":"` + msg + `"}}`}
			br := b.signIn(t, "admin")
			p := br.get(tt.path)
			if !strings.Contains(p.body, tt.want) || !strings.Contains(p.body, "<h1>") {
				t.Fatalf("status %d, page lacks %q", p.status, tt.want)
			}
		})
	}
}

func TestViewerSeesNoWriteControls(t *testing.T) {
	t.Parallel()
	writeTexts := []string{"Install</a>", "Install Integration", "Send test event</button>", "Replace key", "Disable integration", "Enable integration",
		"Replay failed events</button>", "Replay filtered events</button>", "Replay this event</button>", "Delete integration", "Save blueprint", "Add event</button>", "Add mapping", "Preview</button>",
		"Create pipeline</button>", "Rename pipeline", "Delete pipeline", ">Users</a>", ">Audit log</a>", ">Settings</a>", "Rotate key</button>", "Save signed-only events", "Roll back</button>", "Reset to default</a>", "Reset to default</button>"}
	for _, pc := range adminPages {
		if strings.HasPrefix(pc.path, "/users") || strings.HasPrefix(pc.path, "/audit-log") || strings.HasPrefix(pc.path, "/settings") {
			continue
		}
		t.Run(pc.path, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			br := b.signIn(t, "viewer")
			p := br.get(pc.path)
			if p.status != http.StatusOK {
				t.Fatalf("status %d", p.status)
			}
			for _, bad := range writeTexts {
				if strings.Contains(p.body, bad) {
					t.Errorf("viewer sees %q", bad)
				}
			}
			for _, tg := range tags(p.body) {
				if tg.name == "form" && strings.EqualFold(tg.attrs["method"], "post") && tg.attrs["action"] != "/logout" {
					t.Errorf("viewer gets a write form: %s", tg.raw)
				}
			}
			if !strings.Contains(p.body, `role-viewer">viewer</span>`) {
				t.Error("role not shown")
			}
		})
	}
}

func TestViewerRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.signIn(t, "viewer")
	for _, path := range []string{"/users", "/audit-log", "/settings/alerts"} {
		if p := br.get(path); p.status != 403 || !strings.Contains(p.body, "Admins only") {
			t.Errorf("%s: status %d", path, p.status)
		}
	}
	// Forced anyway, a write shows the API's refusal as a message.
	p := br.post("/integrations/int_1/replay", nil)
	if p.status != 403 || !strings.Contains(p.body, "your role (viewer) may not do this") || !strings.Contains(p.body, "flash-error") {
		t.Fatalf("status %d: %s", p.status, p.body)
	}
}

func TestInstall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		answer     *fakeAnswer
		form       url.Values
		wantStatus int
		wantTexts  []string
		wantBody   map[string]any
	}{
		{name: "installed", form: url.Values{"name": {"Omnisend"}, "variant": {"default"}, "config.api_key": {"k-123"}},
			wantStatus: 303, wantBody: map[string]any{"name": "Omnisend", "variant": "default", "delivery_mode": "server_side", "config": map[string]any{"api_key": "k-123"}}},
		{name: "field error beside its field", answer: &fakeAnswer{400, `{"error":{"code":"INVALID","field":"config.api_key","message":"is required: paste your Omnisend API key"}}`},
			form: url.Values{"name": {"Omnisend"}, "variant": {"default"}}, wantStatus: 400,
			wantTexts: []string{`aria-invalid="true" aria-describedby="err-omnisend-api_key"`, `<p class="field-error" id="err-omnisend-api_key">API key is required: paste your Omnisend API key</p>`}},
		{name: "duplicate key asks to confirm", answer: &fakeAnswer{409, `{"error":{"code":"CONFLICT","field":"config.api_key","message":"Omnisend already uses this key: every event would be sent twice"}}`},
			form: url.Values{"name": {"Omnisend 2"}, "variant": {"default"}, "config.api_key": {"k-123"}}, wantStatus: 409,
			wantTexts: []string{"every event would be sent twice", ">Install anyway</label>", `name="confirm_duplicate"`, `value="Omnisend 2"`}},
		{name: "confirmed duplicate", form: url.Values{"name": {"Omnisend 2"}, "variant": {"default"}, "config.api_key": {"k-123"}, "confirm_duplicate": {"on"}},
			wantStatus: 303, wantBody: map[string]any{"confirm_duplicate": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			if tt.answer != nil {
				b.api.respond["POST /v1/admin/integration-catalog/omnisend/install"] = *tt.answer
			}
			br := b.signIn(t, "editor")
			p := br.post("/library/omnisend/install", tt.form)
			if p.status != tt.wantStatus {
				t.Fatalf("status %d: %s", p.status, p.body)
			}
			for _, want := range tt.wantTexts {
				if !strings.Contains(p.body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if tt.wantStatus == 303 {
				if loc := p.header.Get("Location"); loc != "/integrations/int_1" {
					t.Errorf("Location %q", loc)
				}
				w := b.api.writeLog()
				if len(w) != 1 {
					t.Fatalf("writes %v", w)
				}
				for k, v := range tt.wantBody {
					if got := w[0].Body[k]; !equalJSON(got, v) {
						t.Errorf("body[%s] = %v, want %v", k, got, v)
					}
				}
				if p := br.get("/integrations/int_1"); !strings.Contains(p.body, "Omnisend installed.") {
					t.Error("no success message")
				}
			}
		})
	}
}

func equalJSON(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		for k, v := range bm {
			if !equalJSON(am[k], v) {
				return false
			}
		}
		return true
	}
	as, aok2 := a.([]any)
	bs, bok2 := b.([]any)
	if aok2 || bok2 {
		if len(as) != len(bs) || !aok2 || !bok2 {
			return false
		}
		for i := range as {
			if !equalJSON(as[i], bs[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// dialog.js sends the install form in the background: success names the
// next page (the message kept for it), an error answers with the form.
func TestInstallFromDialog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.signIn(t, "editor")
	form := url.Values{"csrf": {br.csrf()}, "name": {"Omnisend"}, "variant": {"default"}, "config.api_key": {"k-1"}}
	p := br.do(http.MethodPost, "/library/omnisend/install", form, map[string]string{"X-Signal-Fetch": "1"})
	if p.status != http.StatusNoContent || p.header.Get("X-Location") != "/integrations/int_1" {
		t.Fatalf("status %d X-Location %q", p.status, p.header.Get("X-Location"))
	}
	if p := br.get("/integrations/int_1"); !strings.Contains(p.body, "Omnisend installed.") {
		t.Error("the message was not kept for the next page")
	}
	b.api.respond["POST /v1/admin/integration-catalog/omnisend/install"] = fakeAnswer{400, `{"error":{"code":"INVALID","field":"name","message":"name is too long"}}`}
	p = br.do(http.MethodPost, "/library/omnisend/install", form, map[string]string{"X-Signal-Fetch": "1"})
	if p.status != 400 || !strings.Contains(p.body, `<form method="post" action="/library/omnisend/install" class="install-form"`) ||
		!strings.Contains(p.body, `<p class="field-error" id="err-omnisend-name">name is too long</p>`) {
		t.Fatalf("status %d: %s", p.status, p.body)
	}
}

// TestLiveCountsWindow: when more events match than the counts' window,
// Live Events says what the counts cover; otherwise the note is hidden
// (live.js shows it when a later count is limited).
func TestLiveCountsWindow(t *testing.T) {
	t.Parallel()
	const note = `<p id="live-counts-window" class="muted"%s>Counted over the newest 10,000 rows that match; older rows are listed but not counted.</p>`
	for _, tt := range []struct {
		name, counts, want string
	}{
		{"limited", `{"pending":0,"delivered":10000,"filtered":0,"failed":0,"paused":0,"limited":true,"window":10000}`, fmt.Sprintf(note, "")},
		{"all counted", `{"pending":0,"delivered":12,"filtered":0,"failed":0,"paused":0,"limited":false,"window":10000}`, fmt.Sprintf(note, " hidden")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.api.respond["GET /v1/admin/live-events/counts"] = fakeAnswer{200, tt.counts}
			p := b.signIn(t, "viewer").get("/live-events")
			if p.status != 200 || !strings.Contains(p.body, tt.want) {
				t.Fatalf("status %d; page lacks %s:\n%s", p.status, tt.want, p.body)
			}
		})
	}
}
