package main

// Acceptance checks of the contract's Management API (see
// contract_test.go).

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// wantKeys fails unless the object m has every key.
func wantKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s lacks %q: %v", what, k, m)
		}
	}
}

// wantList checks the list shape {"data":[…],"next_cursor","has_more"}.
func wantList(t *testing.T, what, body string) []any {
	t.Helper()
	m := jsonObject(t, []byte(body))
	wantKeys(t, what, m, "data", "next_cursor", "has_more")
	data, ok := m["data"].([]any)
	if !ok {
		t.Fatalf("%s: data is not an array: %s", what, body)
	}
	return data
}

func TestContractAdminAuth(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	pair := func(code int, body string) map[string]any {
		t.Helper()
		m := jsonObject(t, []byte(body))
		if code != 200 || m["token_type"] != "Bearer" || m["access_token"] == "" || m["refresh_token"] == "" {
			t.Fatalf("token answer %d %s", code, body)
		}
		if e, ok := m["expires_in"].(float64); !ok || e <= 0 {
			t.Fatalf("expires_in %v is not a positive number of seconds", m["expires_in"])
		}
		return m
	}
	p := pair(n.adminCall(t, "POST", "/v1/admin/auth/login", "", `{"email":"admin@localhost","password":"e2e-password"}`))
	r := pair(n.adminCall(t, "POST", "/v1/admin/auth/refresh", "", `{"refresh_token":"`+p["refresh_token"].(string)+`"}`))
	if code, _ := n.adminCall(t, "GET", "/v1/admin/pipelines", r["access_token"].(string), ""); code != 200 {
		t.Fatalf("the refreshed access token is refused: %d", code)
	}
	code, body := n.adminCall(t, "POST", "/v1/admin/auth/login", "", `{"email":"admin@localhost","password":"wrong-password"}`)
	if code != 401 {
		t.Fatalf("login with a wrong password: %d %s", code, body)
	}
	wantError(t, []byte(body), "")

	routes := []string{
		"GET /v1/admin/pipelines", "POST /v1/admin/pipelines", "GET /v1/admin/pipelines/pip_x", "PATCH /v1/admin/pipelines/pip_x",
		"DELETE /v1/admin/pipelines/pip_x", "GET /v1/admin/integration-catalog", "GET /v1/admin/integration-catalog/omnisend",
		"POST /v1/admin/integration-catalog/omnisend/install", "GET /v1/admin/integrations", "GET /v1/admin/integrations/int_x",
		"PATCH /v1/admin/integrations/int_x", "DELETE /v1/admin/integrations/int_x", "GET /v1/admin/integrations/int_x/blueprint",
		"PUT /v1/admin/integrations/int_x/blueprint", "POST /v1/admin/integrations/int_x/test", "POST /v1/admin/integrations/int_x/replay",
		"GET /v1/admin/live-events", "GET /v1/admin/live-events/stream",
		"GET /v1/admin/me", "GET /v1/admin/users", "POST /v1/admin/users", "PATCH /v1/admin/users/usr_x",
		"DELETE /v1/admin/users/usr_x", "GET /v1/admin/audit-log",
	}
	for _, route := range routes {
		for _, tok := range []string{"", "not-a-token"} {
			method, path, _ := strings.Cut(route, " ")
			code, _, got := do(t, method, "http://"+n.admin+path, map[string]string{"Authorization": "Bearer " + tok}, []byte(`{}`))
			if code != 401 {
				t.Errorf("%s with token %q: %d, want 401", route, tok, code)
				continue
			}
			wantError(t, got, "")
		}
	}
}

func TestContractPipelines(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	tok := n.login(t)
	var ids []string
	for _, name := range []string{"web", "app", "backend"} {
		p := n.createPipeline(t, tok, name)
		wantKeys(t, "created pipeline", p, "id", "name", "pipeline_key", "signing_secret", "created_at")
		id, _ := p["id"].(string)
		key, _ := p["pipeline_key"].(string)
		secret, _ := p["signing_secret"].(string)
		created, _ := p["created_at"].(string)
		if _, err := time.Parse(time.RFC3339, created); !strings.HasPrefix(id, "pip_") || p["name"] != name ||
			!strings.HasPrefix(key, "dk_live_") || len(secret) < 16 || err != nil {
			t.Fatalf("created pipeline %v", p)
		}
		ids = append(ids, id)
	}
	code, body := n.adminCall(t, "POST", "/v1/admin/pipelines", tok, `{"name":""}`)
	if e := wantError(t, []byte(body), "INVALID_PAYLOAD"); code != 400 || e["field"] != "name" {
		t.Errorf("pipeline without a name: %d %s, want 400 field name", code, body)
	}

	// Paged one by one with the cursor, every pipeline once, no secret.
	var seen []string
	for cursor, pages := "", 0; pages < 10; pages++ {
		code, body := n.adminCall(t, "GET", "/v1/admin/pipelines?limit=1&cursor="+cursor, tok, "")
		data := wantList(t, "pipeline list", body)
		if code != 200 || len(data) != 1 {
			t.Fatalf("page %d: %d %s", pages, code, body)
		}
		row := data[0].(map[string]any)
		if _, ok := row["signing_secret"]; ok {
			t.Fatalf("the list shows the signing secret: %s", body)
		}
		seen = append(seen, row["id"].(string))
		m := jsonObject(t, []byte(body))
		if m["has_more"] != true {
			break
		}
		cursor = m["next_cursor"].(string)
	}
	slices.Sort(seen)
	slices.Sort(ids)
	if !reflect.DeepEqual(seen, ids) {
		t.Fatalf("paging with limit=1 gave %v, want %v", seen, ids)
	}

	path := "/v1/admin/pipelines/" + ids[0]
	code, body = n.adminCall(t, "GET", path, tok, "")
	if p := jsonObject(t, []byte(body)); code != 200 || p["id"] != ids[0] || p["signing_secret"] != nil || p["pipeline_key"] == nil {
		t.Fatalf("GET pipeline: %d %s (the signing secret is shown on creation only)", code, body)
	}
	if code, body = n.adminCall(t, "PATCH", path, tok, `{"name":"renamed"}`); code != 200 || jsonObject(t, []byte(body))["name"] != "renamed" {
		t.Fatalf("PATCH pipeline: %d %s", code, body)
	}
	if code = n.call(t, "DELETE", "http://"+n.admin+path, tok, "", nil); code/100 != 2 {
		t.Fatalf("DELETE pipeline: %d", code)
	}
	code, body = n.adminCall(t, "GET", path, tok, "")
	if code != 404 {
		t.Fatalf("GET a deleted pipeline: %d %s", code, body)
	}
	wantError(t, []byte(body), "")
}

func TestContractCatalogAndIntegrations(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	tok := n.login(t)

	code, body := n.adminCall(t, "GET", "/v1/admin/integration-catalog", tok, "")
	if data := wantList(t, "catalog", body); code != 200 || !strings.Contains(body, `"key":"omnisend"`) || !strings.Contains(body, "Marketing Automation") || len(data) == 0 {
		t.Fatalf("catalog: %d %s", code, body)
	}
	code, body = n.adminCall(t, "GET", "/v1/admin/integration-catalog/omnisend", tok, "")
	var entry struct {
		Key, Name, Category, Status string
		ConfigFields                []map[string]any `json:"config_fields"`
		Variants                    []map[string]any
		DeliveryModes               []string `json:"delivery_modes"`
	}
	json.Unmarshal([]byte(body), &entry)
	if code != 200 || entry.Key != "omnisend" || entry.Name != "Omnisend" || entry.Category != "marketing_automation" || entry.Status != "alpha" ||
		!reflect.DeepEqual(entry.DeliveryModes, []string{"server_side"}) {
		t.Fatalf("catalog entry: %d %s", code, body)
	}
	if len(entry.ConfigFields) == 0 {
		t.Fatalf("no config_fields: %s", body)
	}
	f := entry.ConfigFields[0]
	wantKeys(t, "config field api_key", f, "key", "label", "type", "required", "help_text")
	const help = "Your Omnisend API key with Events write permission. Sent as the X-API-KEY header on every request." // the page's words
	if f["key"] != "api_key" || f["type"] != "secret" || f["required"] != true || f["label"] == "" || f["help_text"] != help {
		t.Errorf("first config field %v, want api_key, secret, required, with label and help_text", f)
	}
	if len(entry.Variants) == 0 || entry.Variants[0]["key"] != "default" || entry.Variants[0]["name"] == "" || entry.Variants[0]["description"] == "" {
		t.Errorf("variants %v, want default with name and description", entry.Variants)
	}
	if code, body = n.adminCall(t, "GET", "/v1/admin/integration-catalog/nope", tok, ""); code != 404 {
		t.Errorf("unknown catalog entry: %d %s", code, body)
	}

	// Install with the integration page's body.
	code, body = n.adminCall(t, "POST", "/v1/admin/integration-catalog/omnisend/install", tok, pageInstallBody)
	in := jsonObject(t, []byte(body))
	wantKeys(t, "install answer", in, "id", "catalog_key", "name", "variant", "delivery_mode", "config", "enabled", "status", "pipeline_ids", "created_at")
	id, _ := in["id"].(string)
	if code != 201 || !strings.HasPrefix(id, "int_") || in["catalog_key"] != "omnisend" || in["name"] != "Omnisend" || in["variant"] != "default" ||
		in["delivery_mode"] != "server_side" || in["enabled"] != true || in["status"] != "active" || !strings.Contains(body, `"pipeline_ids":[]`) {
		t.Fatalf("install: %d %s", code, body)
	}
	if k, _ := in["config"].(map[string]any)["api_key"].(string); !strings.HasSuffix(k, "xxxx") || strings.Contains(k, "AjWv") || strings.Contains(k, "4xxxxx") {
		t.Errorf("install shows api_key %q, want its last 4 only", k)
	}

	refused := []struct {
		name, key, body string
		status          int
		field           string
	}{
		{"config without api_key", "omnisend", `{"name":"O","variant":"default","config":{},"delivery_mode":"server_side"}`, 400, "config.api_key"},
		{"no config", "omnisend", `{"name":"O","variant":"default","delivery_mode":"server_side"}`, 400, "config.api_key"},
		{"unknown catalog key", "nope", pageInstallBody, 404, ""},
		{"unknown variant", "omnisend", strings.Replace(pageInstallBody, `"default"`, `"b2b"`, 1), 400, "variant"},
		{"unknown delivery mode", "omnisend", strings.Replace(pageInstallBody, `"server_side"`, `"client_side"`, 1), 400, "delivery_mode"},
	}
	for _, r := range refused {
		code, body := n.adminCall(t, "POST", "/v1/admin/integration-catalog/"+r.key+"/install", tok, r.body)
		if code != r.status {
			t.Errorf("install, %s: %d %s, want %d", r.name, code, body, r.status)
			continue
		}
		if e := wantError(t, []byte(body), ""); r.field != "" && e["field"] != r.field {
			t.Errorf("install, %s: field %v, want %q", r.name, e["field"], r.field)
		}
	}

	// GET / list / PATCH / DELETE.
	path := "/v1/admin/integrations/" + id
	code, body = n.adminCall(t, "GET", "/v1/admin/integrations", tok, "")
	if data := wantList(t, "integrations", body); code != 200 || len(data) != 1 || data[0].(map[string]any)["id"] != id {
		t.Fatalf("integrations: %d %s", code, body)
	}
	if code, body = n.adminCall(t, "GET", path, tok, ""); code != 200 || jsonObject(t, []byte(body))["id"] != id {
		t.Fatalf("GET integration: %d %s", code, body)
	}
	code, body = n.adminCall(t, "PATCH", path, tok, `{"enabled":false,"name":"Omnisend EU"}`)
	if m := jsonObject(t, []byte(body)); code != 200 || m["enabled"] != false || m["name"] != "Omnisend EU" {
		t.Fatalf("PATCH integration: %d %s", code, body)
	}
	code, body = n.adminCall(t, "PATCH", path, tok, `{"config":{"api_key":"NewKey-0123456789abcd"}}`)
	if k, _ := jsonObject(t, []byte(body))["config"].(map[string]any)["api_key"].(string); code != 200 || !strings.HasSuffix(k, "abcd") || strings.Contains(k, "NewKey") {
		t.Fatalf("PATCH config.api_key: %d %s", code, body)
	}

	// Blueprint.
	code, body = n.adminCall(t, "GET", path+"/blueprint", tok, "")
	var bp struct {
		Version  int
		Defaults struct{ Action string }
		Events   map[string]map[string]any
	}
	json.Unmarshal([]byte(body), &bp)
	want := map[string]string{"page": "page viewed", "Signed Up": "signed up", "Product Viewed": "product viewed",
		"Product Added": "added to cart", "Checkout Started": "started checkout", "Order Completed": "placed order"}
	if code != 200 || bp.Version != 2 || bp.Defaults.Action != "drop" || len(bp.Events) != len(want) {
		t.Fatalf("blueprint: %d %s", code, body)
	}
	for ev, name := range want {
		e := bp.Events[ev]
		if _, ok := e["mappings"].([]any); e["vendor_event_name"] != name || e["enabled"] != true || !ok {
			t.Errorf("blueprint event %q: %v, want vendor_event_name %q, enabled, mappings", ev, e, name)
		}
	}
	badBlueprints := []struct{ body, path string }{
		{`{"version":3,"defaults":{"action":"drop"},"events":{}}`, "version"},
		{`{"version":2,"defaults":{"action":"maybe"},"events":{}}`, "defaults.action"},
		{`{"version":2,"defaults":{"action":"drop"},"events":{"X":{"vendor_event_name":"","enabled":true}}}`, "events.X.vendor_event_name"},
		{`{"version":2,"defaults":{"action":"drop"},"events":{"X":{"vendor_event_name":"x","enabled":true,"mappings":[{"source":"properties.a","target":""}]}}}`, "events.X.mappings[0].target"},
	}
	for _, b := range badBlueprints {
		code, got := n.adminCall(t, "PUT", path+"/blueprint", tok, b.body)
		e := wantError(t, []byte(got), "")
		if code != 400 || (e["field"] != b.path && !strings.Contains(e["message"].(string), b.path)) {
			t.Errorf("PUT blueprint %s: %d %s, want 400 naming %s", b.body, code, got, b.path)
		}
	}
	if code, got := n.adminCall(t, "PUT", path+"/blueprint", tok, body); code != 200 {
		t.Errorf("PUT the blueprint GET gave: %d %s", code, got)
	}

	if code = n.call(t, "DELETE", "http://"+n.admin+path, tok, "", nil); code/100 != 2 {
		t.Fatalf("DELETE integration: %d", code)
	}
	if code, body = n.adminCall(t, "GET", path, tok, ""); code != 404 {
		t.Fatalf("GET a deleted integration: %d %s", code, body)
	}
}

// TestContractLiveEvents: every field, newest first, each filter, paging,
// and the stream.
func TestContractLiveEvents(t *testing.T) {
	t.Parallel()
	omni := newFakeOmnisend(t)
	n := start(t, t.TempDir(), "SIGNAL_OMNISEND_API_URL="+omni.URL)
	tok := n.login(t)
	mainPl := n.createPipeline(t, tok, "main")
	key := mainPl["pipeline_key"].(string)
	other := n.createPipeline(t, tok, "other")
	id := n.install(t, tok, pageInstallBody)

	// The stream, opened before the events.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+n.admin+"/v1/admin/live-events/stream", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()

	n.send(t, "/v1/t", key, `{"userId":"le-1","messageId":"le-a","event":"Signed Up","context":{"traits":{"email":"le@example.com"}}}`)
	n.send(t, "/v1/p", key, `{"userId":"le-1","messageId":"le-b","properties":{"url":"https://shop.example/"}}`)
	n.send(t, "/v1/t", key, `{"userId":"le-1","messageId":"le-c","event":"Cart Viewed"}`)
	n.waitLive(t, tok, "integration_id="+id, "le-a", "delivered")
	n.waitLive(t, tok, "integration_id="+id, "le-b", "delivered")
	n.waitLive(t, tok, "integration_id="+id, "le-c", "filtered")

	fields := []string{"id", "message_id", "received_at", "pipeline_id", "type", "event", "integration_id", "status", "reason",
		"vendor_event_name", "attempts", "vendor_status", "vendor_response", "payload", "updated_at"}
	list := func(query string) []string {
		t.Helper()
		code, body := n.adminCall(t, "GET", "/v1/admin/live-events?"+query, tok, "")
		if code != 200 {
			t.Fatalf("live events ?%s: %d %s", query, code, body)
		}
		var got []string
		for _, d := range wantList(t, "live events", body) {
			row := d.(map[string]any)
			wantKeys(t, "live event", row, fields...)
			got = append(got, row["message_id"].(string))
		}
		return got
	}
	filters := map[string][]string{
		"integration_id=" + id:                      {"le-c", "le-b", "le-a"}, // newest first
		"integration_id=" + id + "&status=filtered": {"le-c"},
		"integration_id=" + id + "&type=page":       {"le-b"},
		"integration_id=" + id + "&event=Signed+Up": {"le-a"},
		"pipeline_id=" + other["id"].(string):       nil,
		"pipeline_id=" + mainPl["id"].(string):      {"le-c", "le-b", "le-a"},
	}
	for q, want := range filters {
		if got := list(q); !reflect.DeepEqual(got, want) {
			t.Errorf("live events ?%s: %v, want %v", q, got, want)
		}
	}
	code, body := n.adminCall(t, "GET", "/v1/admin/live-events?integration_id="+id+"&limit=2", tok, "")
	first := jsonObject(t, []byte(body))
	if code != 200 || first["has_more"] != true {
		t.Fatalf("limit=2 of 3: %d %s", code, body)
	}
	if got := list("integration_id=" + id + "&limit=2&cursor=" + first["next_cursor"].(string)); !reflect.DeepEqual(got, []string{"le-a"}) {
		t.Errorf("second page: %v, want [le-a]", got)
	}
	row := n.liveRow(t, tok, "integration_id="+id, "le-a", "delivered")
	if row["type"] != "track" || row["event"] != "Signed Up" || row["integration_id"] != id || row["vendor_event_name"] != "signed up" ||
		row["attempts"] != 1.0 || row["vendor_status"] != 202.0 || row["payload"].(map[string]any)["eventName"] != "signed up" {
		t.Errorf("delivered live event %v", row)
	}
	if row := n.liveRow(t, tok, "integration_id="+id, "le-c", "filtered"); row["reason"] != "event_not_enabled" {
		t.Errorf("Cart Viewed: reason %v, want event_not_enabled", row["reason"])
	}

	// The stream sent a data line of the same shape for the delivery.
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended")
			}
			data, ok := strings.CutPrefix(l, "data: ")
			if !ok {
				continue
			}
			var ev map[string]any
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				t.Fatalf("stream line is not one JSON object: %q", l)
			}
			wantKeys(t, "streamed live event", ev, fields...)
			if ev["message_id"] == "le-a" && ev["status"] == "delivered" {
				return
			}
		case <-timeout:
			t.Fatal("the stream never sent le-a delivered")
		}
	}
}
