package admin

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/integration/omnisend"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

func TestCatalog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var list struct {
		Data []map[string]any `json:"data"`
	}
	if code := b.call(t, "GET", "/v1/admin/integration-catalog", "", &list); code != 200 || len(list.Data) != 1 {
		t.Fatalf("catalog: %d, %d entries", code, len(list.Data))
	}
	var one map[string]any
	if code := b.call(t, "GET", "/v1/admin/integration-catalog/omnisend", "", &one); code != 200 {
		t.Fatalf("catalog entry: %d", code)
	}
	if !reflect.DeepEqual(one, list.Data[0]) {
		t.Fatalf("the entry differs from the list's:\n%v\n%v", one, list.Data[0])
	}
	for k, want := range map[string]any{"key": "omnisend", "name": "Omnisend", "category": "marketing_automation", "status": "alpha",
		"category_label": "Marketing Automation", "delivery_modes": []any{"server_side"}} {
		if !reflect.DeepEqual(one[k], want) {
			t.Errorf("%s = %v, want %v", k, one[k], want)
		}
	}
	fields, _ := one["config_fields"].([]any)
	if len(fields) == 0 {
		t.Fatalf("config_fields %v", one["config_fields"])
	}
	f := fields[0].(map[string]any)
	if f["key"] != "api_key" || f["type"] != "secret" || f["required"] != true || f["label"] == "" || f["help_text"] == "" {
		t.Errorf("api_key field %v", f)
	}
	for _, o := range fields[1:] {
		if o.(map[string]any)["required"] == true {
			t.Errorf("only api_key is required: %v", o)
		}
	}
	variants, _ := one["variants"].([]any)
	if len(variants) != 2 {
		t.Fatalf("variants %v", one["variants"])
	}
	for i, key := range []string{"default", "recommended"} {
		v := variants[i].(map[string]any)
		if v["key"] != key || v["name"] == "" || v["description"] == "" {
			t.Errorf("variant %v, want %q", v, key)
		}
	}
	var e apiError
	if code := b.call(t, "GET", "/v1/admin/integration-catalog/klaviyo", "", &e); code != 404 || e.Error.Code != signal.ENOTFOUND {
		t.Fatalf("unknown entry: %d %+v", code, e.Error)
	}
}

func TestInstall(t *testing.T) {
	t.Parallel()
	n := &recNotifier{}
	b := setupWith(t, Deps{Notifier: n})
	code, body := b.raw(t, "POST", "/v1/admin/integration-catalog/omnisend/install", pageInstallBody)
	if code != 201 {
		t.Fatalf("install: %d %s", code, body)
	}
	var got map[string]any
	json.Unmarshal([]byte(body), &got)
	id, _ := got["id"].(string)
	if !strings.HasPrefix(id, "int_") || len(id) < 12 {
		t.Fatalf("id %q", id)
	}
	want := map[string]any{
		"id": id, "catalog_key": "omnisend", "name": "Omnisend", "variant": "default", "delivery_mode": "server_side",
		"config": map[string]any{"api_key": "****xxxx"}, "enabled": true, "status": "active", "pipeline_ids": []any{},
		"created_at": b.now.Format(time.RFC3339), "updated_at": b.now.Format(time.RFC3339),
	}
	// Omnisend is unreachable here (127.0.0.1:1): the key check proves
	// nothing, so the install goes on with a key_check warning.
	if ws, _ := got["warnings"].([]any); len(ws) != 1 || ws[0].(map[string]any)["code"] != "key_check" {
		t.Fatalf("install warnings %v, want one key_check warning", got["warnings"])
	}
	delete(got, "warnings")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("install answered\n%s\nwant\n%v", body, want)
	}
	if strings.Contains(body, "AjWvksZpTG4JZBdc4") {
		t.Fatal("the answer shows the key")
	}
	in, err := b.db.GetIntegration(context.Background(), store.GetIntegrationParams{ID: id})
	if err != nil {
		t.Fatal(err)
	}
	if in.ConfigString("api_key") != pageAPIKey || !in.Enabled || in.Status != signal.IntegrationActive {
		t.Fatalf("stored %+v", in)
	}
	if !reflect.DeepEqual(in.Blueprint, blueprint.Default()) {
		t.Fatalf("stored blueprint %+v, want the default", in.Blueprint)
	}
	if n.count(id) != 1 {
		t.Fatalf("delivery was told %d times of the new integration", n.count(id))
	}

	// Only config is needed; pipeline_ids and enabled are optional.
	var pip pipelineView
	b.call(t, "POST", "/v1/admin/pipelines", `{"name":"Shop"}`, &pip)
	v := b.install(t, `{"config":{"api_key":"k-0123456789abcdef","default_phone_region":"GB","dry_run":true},"pipeline_ids":["`+pip.ID+`"],"enabled":false}`)
	if v.Name != "Omnisend" || v.Variant != "default" || v.DeliveryMode != "server_side" || v.Enabled ||
		!reflect.DeepEqual(v.PipelineIDs, []string{pip.ID}) || v.Config["api_key"] != "****cdef" ||
		v.Config["default_phone_region"] != "GB" || v.Config["dry_run"] != true {
		t.Fatalf("install with defaults: %+v", v)
	}
}

func TestInstallErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var pip pipelineView
	b.call(t, "POST", "/v1/admin/pipelines", `{"name":"Shop"}`, &pip)
	const install = "/v1/admin/integration-catalog/omnisend/install"
	tests := []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"missing api_key", install, `{"name":"Omnisend","variant":"default","config":{},"delivery_mode":"server_side"}`, 400, "config.api_key"},
		{"no config", install, `{"name":"Omnisend"}`, 400, "config.api_key"},
		{"null api_key", install, `{"config":{"api_key":null}}`, 400, "config.api_key"},
		{"empty api_key", install, installBody(""), 400, "config.api_key"},
		{"whitespace api_key", install, installBody("   "), 400, "config.api_key"},
		{"api_key with a space", install, installBody("secret-part one-part"), 400, "config.api_key"},
		{"api_key not a string", install, `{"config":{"api_key":12345678901234}}`, 400, "config.api_key"},
		{"unknown variant", install, `{"variant":"enterprise","config":{"api_key":"k-0123456789abcdef"}}`, 400, "variant"},
		{"unknown delivery_mode", install, `{"delivery_mode":"client_side","config":{"api_key":"k-0123456789abcdef"}}`, 400, "delivery_mode"},
		{"unknown config key", install, `{"config":{"api_key":"k-0123456789abcdef","api_secret":"x"}}`, 400, "config.api_secret"},
		{"bad default_phone_region", install, `{"config":{"api_key":"k-0123456789abcdef","default_phone_region":"UK"}}`, 400, "config.default_phone_region"},
		{"default_phone_region not a string", install, `{"config":{"api_key":"k-0123456789abcdef","default_phone_region":44}}`, 400, "config.default_phone_region"},
		{"dry_run not a boolean", install, `{"config":{"api_key":"k-0123456789abcdef","dry_run":"yes"}}`, 400, "config.dry_run"},
		{"unknown pipeline", install, `{"config":{"api_key":"k-0123456789abcdef"},"pipeline_ids":["pip_nope"]}`, 400, "pipeline_ids[0]"},
		{"second pipeline unknown", install, `{"config":{"api_key":"k-0123456789abcdef"},"pipeline_ids":["` + pip.ID + `","pip_nope"]}`, 400, "pipeline_ids[1]"},
		{"blank name", install, `{"name":"  ","config":{"api_key":"k-0123456789abcdef"}}`, 400, "name"},
		{"unknown field", install, `{"api_key":"k-0123456789abcdef"}`, 400, "api_key"},
		{"config not an object", install, `{"config":"k-0123456789abcdef"}`, 400, "config"},
		{"unknown catalog key", "/v1/admin/integration-catalog/klaviyo/install", installBody("k-0123456789abcdef"), 404, ""},
		{"malformed JSON", install, `{"name":"Omnisend","config":{"api_key":`, 400, ""},
		{"empty body", install, ``, 400, ""},
	}
	for _, tt := range tests {
		var e apiError
		code, body := b.raw(t, "POST", tt.path, tt.body)
		json.Unmarshal([]byte(body), &e)
		if code != tt.status || e.Error.Field != tt.field || e.Error.Message == "" {
			t.Errorf("%s: %d %s, want %d field %q", tt.name, code, body, tt.status, tt.field)
		}
		if strings.Contains(body, "0123456789abcdef") || strings.Contains(body, "secret-part") {
			t.Errorf("%s: the error quotes the key: %s", tt.name, body)
		}
	}
	var list page[integrationView]
	if b.call(t, "GET", "/v1/admin/integrations", "", &list); len(list.Data) != 0 {
		t.Fatalf("refused installs were stored: %+v", list.Data)
	}
}

func TestIntegrationsAreMasked(t *testing.T) {
	t.Parallel()
	b := setup(t)
	long := b.install(t, installBody("LongKey-7fK2pQ9zW4xY"))
	short := b.install(t, installBody("short-key1"))
	masked := map[string]string{long.ID: "****W4xY", short.ID: "****"}
	var list page[integrationView]
	code, body := b.raw(t, "GET", "/v1/admin/integrations", "")
	json.Unmarshal([]byte(body), &list)
	if code != 200 || len(list.Data) != 2 {
		t.Fatalf("list: %d %s", code, body)
	}
	for _, v := range list.Data {
		if v.Config["api_key"] != masked[v.ID] {
			t.Errorf("list shows %s's api_key as %v, want %s", v.ID, v.Config["api_key"], masked[v.ID])
		}
		code, one := b.raw(t, "GET", "/v1/admin/integrations/"+v.ID, "")
		var got integrationView
		json.Unmarshal([]byte(one), &got)
		if code != 200 || got.Config["api_key"] != masked[v.ID] {
			t.Errorf("get %s: %d %s", v.ID, code, one)
		}
		body += one
	}
	for _, k := range []string{"LongKey-7fK2", "short-key1"} {
		if strings.Contains(body, k) {
			t.Fatalf("an answer shows the key %s: %s", k, body)
		}
	}
	var pg page[integrationView]
	if b.call(t, "GET", "/v1/admin/integrations?limit=1", "", &pg); len(pg.Data) != 1 || !pg.HasMore || pg.NextCursor == "" {
		t.Fatalf("first page %+v", pg)
	}
	if b.call(t, "GET", "/v1/admin/integrations?limit=1&cursor="+pg.NextCursor, "", &pg); len(pg.Data) != 1 || pg.HasMore {
		t.Fatalf("second page %+v", pg)
	}
}

func TestUpdateIntegration(t *testing.T) {
	t.Parallel()
	n := &recNotifier{}
	b := setupWith(t, Deps{Notifier: n})
	v := b.install(t, pageInstallBody)
	path := "/v1/admin/integrations/" + v.ID
	stored := func() *signal.Integration {
		in, err := b.db.GetIntegration(context.Background(), store.GetIntegrationParams{ID: v.ID})
		if err != nil {
			t.Fatal(err)
		}
		return in
	}

	code, body := b.raw(t, "PATCH", path, `{"config":{"api_key":"NewKey-Qm8vT3rL5sD1"}}`)
	var got integrationView
	json.Unmarshal([]byte(body), &got)
	if code != 200 || got.Config["api_key"] != "****5sD1" {
		t.Fatalf("replace key: %d %s", code, body)
	}
	if strings.Contains(body, "NewKey-Qm8v") || strings.Contains(body, "AjWvksZpTG4J") {
		t.Fatalf("the answer shows a key: %s", body)
	}
	if k := stored().ConfigString("api_key"); k != "NewKey-Qm8vT3rL5sD1" {
		t.Fatalf("stored key %q", k)
	}

	// Other config keys merge with the stored key; null removes one.
	if code, body = b.raw(t, "PATCH", path, `{"config":{"default_phone_region":"GB"}}`); code != 200 {
		t.Fatalf("patch region: %d %s", code, body)
	}
	if in := stored(); in.ConfigString("api_key") != "NewKey-Qm8vT3rL5sD1" || in.ConfigString("default_phone_region") != "GB" {
		t.Fatalf("stored config after a partial patch: %v", maskedKeys(in.Config))
	}
	if code, _ = b.raw(t, "PATCH", path, `{"config":{"default_phone_region":null}}`); code != 200 {
		t.Fatalf("remove region: %d", code)
	}
	if _, ok := stored().Config["default_phone_region"]; ok {
		t.Fatal("null did not remove default_phone_region")
	}

	if got = b.patch(t, path, `{"enabled":false}`); got.Enabled || stored().Enabled {
		t.Fatalf("disable: %+v", got)
	}
	if got = b.patch(t, path, `{"name":" CRM ","enabled":true}`); !got.Enabled || got.Name != "CRM" {
		t.Fatalf("rename and enable: %+v", got)
	}

	// A paused integration stays paused until its config changes.
	in := stored()
	in.Status, in.StatusReason = signal.IntegrationPaused, signal.ReasonAuthFailed
	if err := b.db.UpdateIntegration(context.Background(), store.UpdateIntegrationParams{Integration: in}); err != nil {
		t.Fatal(err)
	}
	if got = b.get(t, path); got.Status != "paused" || got.StatusReason != "auth_failed" || got.StatusText == "" {
		t.Fatalf("paused integration shows %+v", got)
	}
	if got = b.patch(t, path, `{"enabled":true}`); got.Status != "paused" {
		t.Fatalf("enabling resumed a paused integration: %+v", got)
	}
	if got = b.patch(t, path, `{"config":{"api_key":"Fixed-Key-9aB8cD7e"}}`); got.Status != "active" || got.StatusReason != "" {
		t.Fatalf("a replaced key did not resume: %+v", got)
	}
	if in := stored(); in.Status != signal.IntegrationActive || in.StatusReason != "" || in.ConfigString("api_key") != "Fixed-Key-9aB8cD7e" {
		t.Fatalf("stored %s/%s", in.Status, in.StatusReason)
	}
	if c := n.count(v.ID); c < 7 {
		t.Fatalf("delivery was told of %d changes, want one per patch", c)
	}

	var pip pipelineView
	b.call(t, "POST", "/v1/admin/pipelines", `{"name":"Shop"}`, &pip)
	if got = b.patch(t, path, `{"pipeline_ids":["`+pip.ID+`"]}`); !reflect.DeepEqual(got.PipelineIDs, []string{pip.ID}) {
		t.Fatalf("pipeline_ids: %+v", got.PipelineIDs)
	}
	if got = b.patch(t, path, `{"pipeline_ids":[]}`); got.PipelineIDs == nil || len(got.PipelineIDs) != 0 {
		t.Fatalf("pipeline_ids cleared: %+v", got.PipelineIDs)
	}

	errs := []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"unknown id", "/v1/admin/integrations/int_nope", `{"enabled":false}`, 404, ""},
		{"empty api_key", path, `{"config":{"api_key":""}}`, 400, "config.api_key"},
		{"api_key removed", path, `{"config":{"api_key":null}}`, 400, "config.api_key"},
		{"unknown config key", path, `{"config":{"region":"GB"}}`, 400, "config.region"},
		{"bad region", path, `{"config":{"default_phone_region":"Britain"}}`, 400, "config.default_phone_region"},
		{"bad api_version", path, `{"config":{"api_version":"v4"}}`, 400, "config.api_version"},
		{"unknown pipeline", path, `{"pipeline_ids":["pip_nope"]}`, 400, "pipeline_ids[0]"},
		{"blank name", path, `{"name":""}`, 400, "name"},
		{"enabled not a boolean", path, `{"enabled":"no"}`, 400, "enabled"},
		{"unknown field", path, `{"status":"active"}`, 400, "status"},
		{"malformed", path, `{"enabled":`, 400, ""},
	}
	for _, e := range errs {
		var ae apiError
		if code := b.call(t, "PATCH", e.path, e.body, &ae); code != e.status || ae.Error.Field != e.field || ae.Error.Message == "" {
			t.Errorf("%s: %d %+v, want %d field %q", e.name, code, ae.Error, e.status, e.field)
		}
	}
	if in := stored(); in.ConfigString("api_key") != "Fixed-Key-9aB8cD7e" || in.Name != "CRM" {
		t.Fatalf("a refused patch changed the integration: %s", in.Name)
	}
}

func TestDeleteIntegration(t *testing.T) {
	t.Parallel()
	b := setup(t)
	v := b.install(t, pageInstallBody)
	keep := b.install(t, installBody("keep-0123456789"))
	path := "/v1/admin/integrations/" + v.ID
	if code := b.call(t, "DELETE", path, "", nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	for _, r := range []struct{ method, path, body string }{
		{"GET", path, ""}, {"DELETE", path, ""}, {"PATCH", path, `{"enabled":true}`},
		{"GET", path + "/blueprint", ""}, {"PUT", path + "/blueprint", `{"version":2,"events":{}}`},
		{"POST", path + "/replay", `{"status":"failed"}`},
	} {
		var e apiError
		if code := b.call(t, r.method, r.path, r.body, &e); code != 404 || e.Error.Code != signal.ENOTFOUND {
			t.Errorf("%s %s after delete: %d %+v", r.method, r.path, code, e.Error)
		}
	}
	var list page[integrationView]
	if b.call(t, "GET", "/v1/admin/integrations", "", &list); len(list.Data) != 1 || list.Data[0].ID != keep.ID {
		t.Fatalf("list after delete: %+v", list.Data)
	}
}

func TestPatchWithMaskedKeyKeepsIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var in integrationView
	if code := b.call(t, "POST", "/v1/admin/integration-catalog/omnisend/install", `{"config":{"api_key":"real-key-1234567890"}}`, &in); code != 201 {
		t.Fatalf("install: %d", code)
	}
	masked := in.Config["api_key"].(string)
	if code := b.call(t, "PATCH", "/v1/admin/integrations/"+in.ID, `{"name":"Renamed","config":{"api_key":"`+masked+`"}}`, nil); code != 200 {
		t.Fatalf("patch: %d", code)
	}
	stored, err := b.db.GetIntegration(context.Background(), store.GetIntegrationParams{ID: in.ID})
	if err != nil {
		t.Fatal(err)
	}
	if stored.ConfigString("api_key") != "real-key-1234567890" || stored.Name != "Renamed" {
		t.Fatalf("stored key %q name %q: the masked value replaced the key", stored.ConfigString("api_key"), stored.Name)
	}
}

// TestInstallRecommended: the recommended variant installs its own
// blueprint (Omnisend's recommended events).
func TestInstallRecommended(t *testing.T) {
	t.Parallel()
	b := setupWith(t, Deps{})
	body := strings.Replace(pageInstallBody, `"variant": "default"`, `"variant": "recommended"`, 1)
	code, answer := b.raw(t, "POST", "/v1/admin/integration-catalog/omnisend/install", body)
	if code != 201 {
		t.Fatalf("install: %d %s", code, answer)
	}
	var got struct{ ID, Variant string }
	json.Unmarshal([]byte(answer), &got)
	in, err := b.db.GetIntegration(context.Background(), store.GetIntegrationParams{ID: got.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got.Variant != "recommended" || !reflect.DeepEqual(in.Blueprint, omnisend.Recommended()) {
		t.Fatalf("variant %q, stored blueprint %+v, want the recommended one", got.Variant, in.Blueprint)
	}
}
