package web

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// Every form of the integration, pipeline and users pages calls the API
// with the right request and answers with a message.
func TestActions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		role       string
		path       string
		form       url.Values
		wantStatus int
		wantLoc    string
		wantWrite  string
		wantBody   map[string]any
		wantTexts  []string // on the answer, or on the page redirected to
	}{
		{name: "send test event", role: "editor", path: "/integrations/int_1/test", form: url.Values{"email": {"jane@example.com"}}, wantStatus: 200,
			wantWrite: "POST /v1/admin/integrations/int_1/test", wantBody: map[string]any{"email": "jane@example.com"},
			wantTexts: []string{"Status:</strong> <span class=\"badge status-delivered\">delivered", "Vendor status:</strong> 202", "{&#34;eventID&#34;:&#34;e1&#34;}"}},
		{name: "replace key", role: "editor", path: "/integrations/int_1/key", form: url.Values{"api_key": {"new-key"}}, wantStatus: 303, wantLoc: "/integrations/int_1",
			wantWrite: "PATCH /v1/admin/integrations/int_1", wantBody: map[string]any{"config": map[string]any{"api_key": "new-key"}}, wantTexts: []string{"API key replaced."}},
		{name: "disable", role: "editor", path: "/integrations/int_1/enabled", form: url.Values{"enabled": {"false"}}, wantStatus: 303, wantLoc: "/integrations/int_1",
			wantWrite: "PATCH /v1/admin/integrations/int_1", wantBody: map[string]any{"enabled": false}, wantTexts: []string{"Integration disabled."}},
		{name: "replay", role: "editor", path: "/integrations/int_1/replay", wantStatus: 303, wantLoc: "/integrations/int_1",
			wantWrite: "POST /v1/admin/integrations/int_1/replay", wantBody: map[string]any{"status": "failed"}, wantTexts: []string{"3 failed events queued again."}},
		{name: "replay filtered", role: "editor", path: "/integrations/int_1/replay-filtered", form: url.Values{"reason": {"dry_run"}}, wantStatus: 303, wantLoc: "/integrations/int_1",
			wantWrite: "POST /v1/admin/integrations/int_1/replay", wantBody: map[string]any{"status": "filtered", "reason": "dry_run"}, wantTexts: []string{"3 filtered events queued again."}},
		{name: "replay filtered, any setting", role: "editor", path: "/integrations/int_1/replay-filtered", form: url.Values{"reason": {""}}, wantStatus: 303, wantLoc: "/integrations/int_1",
			wantWrite: "POST /v1/admin/integrations/int_1/replay", wantBody: map[string]any{"status": "filtered", "reason": nil}, wantTexts: []string{"3 filtered events queued again."}},
		{name: "replay one event", role: "editor", path: "/live-events/dlv_1/replay", wantStatus: 303, wantLoc: "/live-events/dlv_1",
			wantWrite: "POST /v1/admin/live-events/dlv_1/replay", wantTexts: []string{"Event queued again.", "Replay this event</button>"}},
		{name: "roll back the blueprint", role: "editor", path: "/integrations/int_1/blueprint/rollback", form: url.Values{"version": {"1"}}, wantStatus: 303,
			wantLoc: "/integrations/int_1/blueprint", wantWrite: "POST /v1/admin/integrations/int_1/blueprint/versions/1/rollback",
			wantTexts: []string{"Rolled back to version 1 (saved as version 3).", `<h2 id="h-versions">Versions</h2>`, "editor@example.com", "Replaced the blueprint",
				`aria-label="Roll back to version 1">Roll back</button>`, ">Reset to default</a>"}},
		{name: "reset the blueprint", role: "editor", path: "/integrations/int_1/blueprint/reset", wantStatus: 303,
			wantLoc: "/integrations/int_1/blueprint", wantWrite: "POST /v1/admin/integrations/int_1/blueprint/reset",
			wantTexts: []string{"Blueprint reset to the default (saved as version 3)."}},
		{name: "delete integration", role: "editor", path: "/integrations/int_1/delete", wantStatus: 303, wantLoc: "/integrations",
			wantWrite: "DELETE /v1/admin/integrations/int_1", wantTexts: []string{"Integration deleted."}},
		{name: "create pipeline shows the secret once", role: "editor", path: "/pipelines", form: url.Values{"name": {"New"}}, wantStatus: 201,
			wantWrite: "POST /v1/admin/pipelines", wantBody: map[string]any{"name": "New"},
			wantTexts: []string{"Signing secret (shown once)", `id="signing-secret">whsec_once<`, "dk_live_new", "Pipeline created."}},
		{name: "rename pipeline", role: "editor", path: "/pipelines/pip_1/rename", form: url.Values{"name": {"Shop"}}, wantStatus: 303, wantLoc: "/pipelines/pip_1",
			wantWrite: "PATCH /v1/admin/pipelines/pip_1", wantBody: map[string]any{"name": "Shop"}, wantTexts: []string{"Pipeline renamed."}},
		{name: "signed-only events", role: "editor", path: "/pipelines/pip_1/signed-only", form: url.Values{"events": {"Order Completed\r\n\r\n Signed Up \n"}}, wantStatus: 303, wantLoc: "/pipelines/pip_1",
			wantWrite: "PATCH /v1/admin/pipelines/pip_1", wantBody: map[string]any{"signed_only_events": []any{"Order Completed", "Signed Up"}}, wantTexts: []string{"Signed-only events saved."}},
		{name: "rotate shows the new secret once", role: "editor", path: "/pipelines/pip_1/rotate", form: url.Values{"overlap": {"3600"}}, wantStatus: 200,
			wantWrite: "POST /v1/admin/pipelines/pip_1/rotate", wantBody: map[string]any{"overlap_seconds": 3600.0},
			wantTexts: []string{"Signing secret (shown once)", `id="signing-secret">whsec_rotated_once<`, "dk_live_rotated", `id="previous-key-until"`}},
		{name: "save alerts keeping the secret", role: "admin", path: "/settings/alerts", form: url.Values{"webhook_url": {" https://hooks.example.com/T1 "}, "backlog_minutes": {"10"}, "secret": {""}},
			wantStatus: 303, wantLoc: "/settings/alerts", wantWrite: "PUT /v1/admin/alerts",
			wantBody: map[string]any{"webhook_url": "https://hooks.example.com/T1", "backlog_age_seconds": 600.0, "secret": nil}, wantTexts: []string{"Alert settings saved.", "A secret is set."}},
		{name: "save alerts removing the secret", role: "admin", path: "/settings/alerts", form: url.Values{"webhook_url": {"https://hooks.example.com/T1"}, "backlog_minutes": {"15"}, "remove_secret": {"on"}},
			wantStatus: 303, wantLoc: "/settings/alerts", wantWrite: "PUT /v1/admin/alerts", wantBody: map[string]any{"secret": ""}},
		{name: "delete pipeline", role: "editor", path: "/pipelines/pip_1/delete", wantStatus: 303, wantLoc: "/pipelines",
			wantWrite: "DELETE /v1/admin/pipelines/pip_1", wantTexts: []string{"Pipeline deleted."}},
		{name: "invite user", role: "admin", path: "/users", form: url.Values{"email": {"new@example.com"}, "role": {"editor"}, "password": {"initial-pw"}}, wantStatus: 303, wantLoc: "/users",
			wantWrite: "POST /v1/admin/users", wantBody: map[string]any{"email": "new@example.com", "role": "editor", "password": "initial-pw"}, wantTexts: []string{"User invited."}},
		{name: "change role", role: "admin", path: "/users/usr_viewer/role", form: url.Values{"role": {"editor"}}, wantStatus: 303, wantLoc: "/users",
			wantWrite: "PATCH /v1/admin/users/usr_viewer", wantBody: map[string]any{"role": "editor"}, wantTexts: []string{"Role changed."}},
		{name: "delete user", role: "admin", path: "/users/usr_viewer/delete", wantStatus: 303, wantLoc: "/users",
			wantWrite: "DELETE /v1/admin/users/usr_viewer", wantTexts: []string{"User deleted."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			br := b.signIn(t, tt.role)
			p := br.post(tt.path, tt.form)
			if p.status != tt.wantStatus || p.header.Get("Location") != tt.wantLoc {
				t.Fatalf("status %d Location %q: %s", p.status, p.header.Get("Location"), p.body)
			}
			w := b.api.writeLog()
			if len(w) != 1 || w[0].Method+" "+w[0].Path != tt.wantWrite {
				t.Fatalf("API writes %v, want %s", w, tt.wantWrite)
			}
			for k, v := range tt.wantBody {
				if !equalJSON(w[0].Body[k], v) {
					t.Errorf("body[%s] = %v, want %v", k, w[0].Body[k], v)
				}
			}
			if tt.wantLoc != "" {
				p = br.get(tt.wantLoc)
			}
			for _, want := range tt.wantTexts {
				if !strings.Contains(p.body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
		})
	}
}

// The signing secret is on the creation answer only.
func TestSigningSecretNotShownAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.signIn(t, "admin")
	if p := br.get("/pipelines/pip_1"); strings.Contains(p.body, "Signing secret") || strings.Contains(p.body, "signing-secret") {
		t.Fatal("pipeline page shows a signing secret section")
	}
}

func TestBlueprintSave(t *testing.T) {
	t.Parallel()
	base := url.Values{
		"version": {"2"}, "defaults_action": {"drop"},
		"ev.0.name": {"Order Completed"}, "ev.0.enabled": {"on"}, "ev.0.vendor": {"placed order"}, "ev.0.priority": {"high"}, "ev.0.max_age": {"6h"},
		"ev.0.m.0.source": {"properties.order_id"}, "ev.0.m.0.target": {"orderID"}, "ev.0.m.0.else": {""},
		"ev.0.m.1.source": {""}, "ev.0.m.1.target": {""}, "ev.0.m.1.else": {""},
		"ev.0.m.2.source": {"properties.revenue"}, "ev.0.m.2.target": {"bad target"}, "ev.0.m.2.else": {"properties.total, properties.value"},
		"ev.1.name": {"page"}, "ev.1.vendor": {"page viewed"}, "ev.1.priority": {"normal"},
	}
	with := func(kv ...string) url.Values {
		f := url.Values{}
		for k, v := range base {
			f[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	tests := []struct {
		name       string
		form       url.Values
		answer     *fakeAnswer
		wantStatus int
		wantTexts  []string
		wantSaved  string
	}{
		{name: "saved", form: with("action", "save"), wantStatus: 303,
			wantSaved: `{"version":2,"defaults":{"action":"drop"},"events":{"Order Completed":{"vendor_event_name":"placed order","enabled":true,` +
				`"mappings":[{"source":"properties.order_id","target":"orderID"},{"source":"properties.revenue","else":["properties.total","properties.value"],"target":"bad target"}],` +
				`"priority":"high","max_age":"6h"},"page":{"vendor_event_name":"page viewed","enabled":false,"priority":"normal"}}}`},
		{name: "error on its row", form: with("action", "save"), wantStatus: 400,
			answer: &fakeAnswer{400, `{"error":{"code":"INVALID","field":"events.Order Completed.mappings[1].target","message":"may hold only letters, digits and _"}}`},
			wantTexts: []string{"Not saved: fix the event marked below.", `<fieldset class="bp-event has-error" data-index="0">`,
				"mappings[1].target: may hold only letters, digits and _", `value="bad target"`,
				`value="bad target" placeholder="orderID" aria-invalid="true"`, `<tr class="bp-map-error"><td colspan="4"><p class="field-error">target: may hold`}},
		{name: "error in brackets form", form: with("action", "save"), wantStatus: 400,
			answer:    &fakeAnswer{400, `{"error":{"code":"INVALID","field":"events[\"page\"].vendor_event_name","message":"is required when the event is enabled"}}`},
			wantTexts: []string{`<fieldset class="bp-event has-error" data-index="1">`, "vendor_event_name: is required when the event is enabled"}},
		{name: "add event without JS", form: with("action", "add", "new_event", "Order Refunded"), wantStatus: 200,
			wantTexts: []string{"<strong>Order Refunded</strong>", `name="ev.2.name" value="Order Refunded"`, `value="bad target"`, "Save the blueprint to keep it."}},
		{name: "add mapping row without JS", form: with("action", "addmap:1"), wantStatus: 200,
			wantTexts: []string{`name="ev.1.m.0.source" value=""`}},
		{name: "remove mapping row without JS", form: with("action", "remove:0:0"), wantStatus: 200,
			wantTexts: []string{`name="ev.0.m.0.source" value=""`, `name="ev.0.m.1.source" value="properties.revenue"`}},
		{name: "preview without JS", form: with("action", "preview", "sample", `{"type":"track","event":"Order Completed"}`), wantStatus: 200,
			wantTexts: []string{`<span id="preview-status">pending</span>`, `<span id="preview-vendor">placed order</span>`, "&#34;orderID&#34;: &#34;ORD-1001&#34;"}},
		{name: "preview of bad JSON", form: with("action", "preview", "sample", `{"type":`), wantStatus: 400,
			wantTexts: []string{"The sample event is not valid JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			if tt.answer != nil {
				b.api.respond["PUT /v1/admin/integrations/int_1/blueprint"] = *tt.answer
			}
			br := b.signIn(t, "editor")
			p := br.post("/integrations/int_1/blueprint", tt.form)
			if p.status != tt.wantStatus {
				t.Fatalf("status %d: %s", p.status, p.body)
			}
			for _, want := range tt.wantTexts {
				if !strings.Contains(p.body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if tt.wantSaved != "" {
				w := b.api.writeLog()
				if len(w) != 1 || w[0].Method != "PUT" {
					t.Fatalf("writes %v", w)
				}
				got, _ := json.Marshal(w[0].Body)
				var want map[string]any
				json.Unmarshal([]byte(tt.wantSaved), &want)
				wantB, _ := json.Marshal(want)
				if string(got) != string(wantB) {
					t.Errorf("saved\n%s\nwant\n%s", got, wantB)
				}
			}
		})
	}
}

// blueprint.js asks for the preview as JSON, with the unsaved blueprint.
func TestBlueprintPreviewJSON(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.signIn(t, "editor")
	form := url.Values{"csrf": {br.csrf()}, "action": {"preview"}, "version": {"2"}, "defaults_action": {"drop"},
		"ev.0.name": {"Order Completed"}, "ev.0.enabled": {"on"}, "ev.0.vendor": {"placed order"},
		"sample": {`{"type":"track","event":"Order Completed"}`}}
	p := br.do("POST", "/integrations/int_1/blueprint", form, map[string]string{"Accept": "application/json"})
	var out map[string]any
	if err := json.Unmarshal([]byte(p.body), &out); err != nil || p.status != 200 {
		t.Fatalf("status %d body %s", p.status, p.body)
	}
	if out["vendor_event_name"] != "placed order" || !strings.Contains(out["payload"].(string), `"orderID": "ORD-1001"`) {
		t.Errorf("answer %v", out)
	}
	w := b.api.writeLog()
	if len(w) != 1 || w[0].Path != "/v1/admin/integrations/int_1/blueprint/preview" {
		t.Fatalf("writes %v", w)
	}
	ev := w[0].Body["blueprint"].(map[string]any)["events"].(map[string]any)["Order Completed"].(map[string]any)
	if w[0].Body["event"].(map[string]any)["event"] != "Order Completed" || ev["vendor_event_name"] != "placed order" {
		t.Errorf("preview request %v", w[0].Body)
	}
}

// The chart is drawn with SVG attributes and classes only.
func TestHealthChart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.signIn(t, "viewer").get("/integrations/int_1")
	rects := 0
	for _, tg := range tags(p.body) {
		if tg.name == "rect" {
			rects++
			for _, a := range []string{"x", "y", "width", "height", "class"} {
				if tg.attrs[a] == "" {
					t.Fatalf("rect without %s: %s", a, tg.raw)
				}
			}
		}
	}
	if rects < 60 {
		t.Errorf("%d bars", rects)
	}
	if !strings.Contains(p.body, "<title>2026-11-30T09:06:00Z: 6 delivered</title>") {
		t.Error("bar titles missing")
	}
}
