package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// integrationAnswer is what the Management API says of an integration.
type integrationAnswer struct {
	ID           string         `json:"id"`
	Config       map[string]any `json:"config"`
	Status       string         `json:"status"`
	StatusReason string         `json:"status_reason"`
	StatusText   string         `json:"status_text"`
	Warnings     []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"warnings"`
	Error struct {
		Field string `json:"field"`
	} `json:"error"`
}

// TestOmnisendKeyCheck: the install asks Omnisend once whether the key is
// accepted. A 401 refuses the install naming config.api_key (and installs
// nothing); an accepted key installs without warnings; an Omnisend that
// cannot answer still installs, with a key_check warning.
func TestOmnisendKeyCheck(t *testing.T) {
	t.Parallel()
	const refusedKey = "RevokedOmnisendKey0123456"
	omni := newFakeOmnisend(t)
	omni.refused[refusedKey] = true
	n := start(t, t.TempDir(), "SIGNAL_OMNISEND_API_URL="+omni.URL)
	tok := n.login(t)
	install := "http://" + n.admin + "/v1/admin/integration-catalog/omnisend/install"

	var refused integrationAnswer
	if code := n.call(t, "POST", install, tok, `{"name":"Omnisend","config":{"api_key":"`+refusedKey+`"}}`, &refused); code != http.StatusBadRequest || refused.Error.Field != "config.api_key" {
		t.Fatalf("install with a refused key: %d %+v, want 400 naming config.api_key", code, refused)
	}
	var list struct {
		Data []integrationAnswer `json:"data"`
	}
	n.call(t, "GET", "http://"+n.admin+"/v1/admin/integrations", tok, "", &list)
	if len(list.Data) != 0 {
		t.Fatalf("a refused install left %d integrations", len(list.Data))
	}
	var dated integrationAnswer
	if code := n.call(t, "POST", install, tok, `{"name":"Dated","config":{"api_key":"`+refusedKey+`","api_version":"2026-03-15"}}`, &dated); code != http.StatusBadRequest || dated.Error.Field != "config.api_key" {
		t.Fatalf("install with a refused key on a dated version: %d %+v, want 400 naming config.api_key", code, dated)
	}

	var ok integrationAnswer
	if code := n.call(t, "POST", install, tok, pageInstallBody, &ok); code != http.StatusCreated || len(ok.Warnings) != 0 {
		t.Fatalf("install with an accepted key: %d, warnings %+v; want 201 without warnings", code, ok.Warnings)
	}
	if strings.Contains(n.stderr.String(), refusedKey) {
		t.Fatal("the refused key was logged")
	}

	// No answer from Omnisend proves nothing about the key: installed, with a warning.
	down := start(t, t.TempDir(), "SIGNAL_OMNISEND_API_URL=http://127.0.0.1:1")
	dtok := down.login(t)
	var warned integrationAnswer
	if code := down.call(t, "POST", "http://"+down.admin+"/v1/admin/integration-catalog/omnisend/install", dtok, pageInstallBody, &warned); code != http.StatusCreated ||
		len(warned.Warnings) != 1 || warned.Warnings[0].Code != "key_check" || warned.Warnings[0].Message == "" {
		t.Fatalf("install while Omnisend is unreachable: %d %+v, want 201 with one key_check warning", code, warned.Warnings)
	}
}

// TestOmnisendAPIVersions: v5 is the default; when Omnisend retires it
// (410) the integration is paused with a reason that says to switch
// api_version; switching to a dated version by PATCH (no reinstall, the
// key kept) sends the waiting event to /api/events with the dated headers;
// a bad api_version is refused naming the field.
func TestOmnisendAPIVersions(t *testing.T) {
	t.Parallel()
	omni := newFakeOmnisend(t)
	omni.goneV5 = true
	n := start(t, t.TempDir(), "SIGNAL_OMNISEND_API_URL="+omni.URL)
	tok := n.login(t)
	key := n.pipeline(t, tok)
	var bad integrationAnswer
	if code := n.call(t, "POST", "http://"+n.admin+"/v1/admin/integration-catalog/omnisend/install", tok,
		`{"name":"Omnisend","config":{"api_key":"AjWvksZpTG4JZBdc4xxxxxxxx","api_version":"v4"}}`, &bad); code != http.StatusBadRequest || bad.Error.Field != "config.api_version" {
		t.Fatalf("install with api_version v4: %d %+v, want 400 naming config.api_version", code, bad)
	}
	var in integrationAnswer
	if code := n.call(t, "POST", "http://"+n.admin+"/v1/admin/integration-catalog/omnisend/install", tok, pageInstallBody, &in); code != http.StatusCreated {
		t.Fatalf("install: %d", code)
	}
	url := "http://" + n.admin + "/v1/admin/integrations/" + in.ID

	n.send(t, "/v1/t", key, `{"userId":"u1","event":"Signed Up","messageId":"m-1","context":{"traits":{"email":"u1@example.com"}}}`)
	deadline := time.Now().Add(15 * time.Second)
	for {
		var got integrationAnswer
		n.call(t, "GET", url, tok, "", &got)
		if got.Status == "paused" {
			if got.StatusReason != "api_version_retired" || !strings.Contains(got.StatusText, "api_version") {
				t.Fatalf("paused with %q: %q; want api_version_retired saying to switch api_version", got.StatusReason, got.StatusText)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("integration not paused after a 410: %+v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}

	for _, tc := range []struct {
		body, field string
	}{
		{`{"config":{"api_version":"v3"}}`, "config.api_version"},
		{`{"config":{"api_version":"2026-02-30"}}`, "config.api_version"},
	} {
		var e integrationAnswer
		if code := n.call(t, "PATCH", url, tok, tc.body, &e); code != http.StatusBadRequest || e.Error.Field != tc.field {
			t.Fatalf("PATCH %s: %d %+v, want 400 naming %s", tc.body, code, e, tc.field)
		}
	}
	var patched integrationAnswer
	if code := n.call(t, "PATCH", url, tok, `{"config":{"api_version":"2026-03-15"}}`, &patched); code != http.StatusOK {
		t.Fatalf("PATCH api_version: %d", code)
	}
	if patched.Config["api_key"] != "****xxxx" || patched.Config["api_version"] != "2026-03-15" {
		t.Fatalf("config after PATCH = %v, want the key kept and the version set", patched.Config)
	}
	bodies := omni.waitFor(t, 2) // the refused v5 try, then the dated one
	paths, versions := omni.sentTo()
	_, keys := omni.received()
	last := len(paths) - 1
	if paths[0] != "/v5/events" || paths[last] != "/api/events" || versions[last] != "2026-03-15" || keys[last] != "AjWvksZpTG4JZBdc4xxxxxxxx" {
		t.Fatalf("requests went to %v with versions %v, want /v5/events then /api/events with Omnisend-Version 2026-03-15 and the key", paths, versions)
	}
	var first, second map[string]any
	json.Unmarshal(bodies[0], &first)
	json.Unmarshal(bodies[last], &second)
	if first["eventID"] == nil || first["eventID"] != second["eventID"] {
		t.Fatalf("the dated request carries eventID %v, want the same as the v5 try's %v", second["eventID"], first["eventID"])
	}
	n.liveEvent(t, tok, in.ID, "m-1", "delivered")

	// null removes the setting: back to v5 (still retired here, so paused again).
	var reset integrationAnswer
	if code := n.call(t, "PATCH", url, tok, `{"config":{"api_version":null}}`, &reset); code != http.StatusOK {
		t.Fatalf("PATCH api_version null: %d", code)
	}
	if _, has := reset.Config["api_version"]; has || reset.Config["api_key"] != "****xxxx" {
		t.Fatalf("config after PATCH null = %v, want api_version removed and the key kept", reset.Config)
	}
}
