package main

import (
	"strings"
	"testing"
)

// TestUIViewerCannotChangeAnything: a viewer (created by an admin through
// the API) signs in and is offered no write control on any page; a change
// attempted anyway is refused and changes nothing.
func TestUIViewerCannotChangeAnything(t *testing.T) {
	t.Parallel()
	u := setupUI(t)
	u.installAPI("viewer-test-key-0001")
	key := u.pipelineAPI("Web shop")
	u.gatewaySend(key, "/v1/i", `{"userId":"v-1","traits":{"email":"v1@example.com"}}`)
	u.gatewaySend(key, "/v1/t", `{"userId":"v-1","event":"Order Completed","messageId":"viewer-order","properties":{"order_id":"O-1","revenue":1}}`)
	code, body := u.n.adminCall(t, "POST", "/v1/admin/users", u.token(), `{"email":"viewer@example.com","password":"viewer-password-1","role":"viewer"}`)
	if code != 201 {
		t.Fatalf("create a viewer through POST /v1/admin/users: %d %s", code, body)
	}

	u.signIn("viewer@example.com", "viewer-password-1")
	u.step("signed in as a viewer", waitVisible(`//*[normalize-space()="viewer"]`), absent("Users"), absent("Audit log"))
	u.step("library: no Install",
		click("Integration Library"), waitVisible(libraryOmnisend),
		absent("Install"), absent("Install Integration"),
	)
	u.step("the install page refuses", u.open("/library/omnisend/install"),
		waitText("Only editors and admins can install integrations."), absent("Install Integration"))
	u.step("integration page: read only",
		click("Integrations"), click("Installed"), click("Omnisend"), waitVisible(h1("Omnisend")), waitVisible(h2("Health")),
		absent("Send test event"), absent("Replace key"), absent("Disable integration"), absent("Enable integration"),
		absent("Replay failed events"), absent("Delete integration…"),
	)
	u.step("blueprint: read only",
		click("Edit blueprint"), waitVisible(h1("Blueprint: Omnisend")),
		absent("Save blueprint"), absent("Add event"), absent("Add mapping"), absent("Remove"), absent("Preview"),
	)
	u.step("pipelines: no Create pipeline", click("Pipelines"), waitVisible(h1("Pipelines")), absent("Create pipeline"))
	u.step("pipeline page: no rename, no delete", click("Web shop"), waitVisible(h1("Web shop")), absent("Rename pipeline"), absent("Delete pipeline…"))
	u.step("Live Events: visible", click("Live Events"), waitVisible(liveRow("Order Completed", "delivered")))
	// Refusals answer 403, which the browser logs.
	u.allowConsole(`status of 403`)
	u.step("users: admins only", u.open("/users"), waitVisible(h1("Admins only")))

	// A form post the page never offered, made anyway with the viewer's
	// session and CSRF token: refused, and nothing changes.
	type answer struct {
		Status int    `json:"status"`
		Alert  string `json:"alert"`
	}
	got := eval[answer](u, `(async () => {
		const csrf = document.querySelector('input[name="csrf"]').value;
		const r = await fetch('/pipelines', {method: 'POST', body: new URLSearchParams({csrf, name: 'Sneaky'})});
		const page = new DOMParser().parseFromString(await r.text(), 'text/html');
		const alert = page.querySelector('[role="alert"]');
		return {status: r.status, alert: alert ? alert.textContent.trim() : ''};
	})()`)
	// Refused for the role (not for a bad CSRF token), in words.
	if got.Status != 403 || !strings.Contains(got.Alert, "viewer") {
		t.Errorf("a viewer's forged form post answered %d with alert %q; want 403 naming the viewer role", got.Status, got.Alert)
	}
	var list struct{ Data []struct{ Name string } }
	if code := u.n.call(t, "GET", u.base+"/v1/admin/pipelines", u.token(), "", &list); code != 200 {
		t.Fatalf("list pipelines: %d", code)
	}
	for _, p := range list.Data {
		if p.Name == "Sneaky" {
			t.Fatal("a viewer's form post created a pipeline")
		}
	}
	// And through the API with the viewer's own token: 403 FORBIDDEN.
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	if code := u.n.call(t, "POST", u.base+"/v1/admin/auth/login", "", `{"email":"viewer@example.com","password":"viewer-password-1"}`, &pair); code != 200 {
		t.Fatalf("viewer login: %d", code)
	}
	code, body = u.n.adminCall(t, "POST", "/v1/admin/pipelines", pair.AccessToken, `{"name":"Sneaky"}`)
	if code != 403 || !strings.Contains(body, `"FORBIDDEN"`) {
		t.Fatalf("a viewer's POST /v1/admin/pipelines: %d %s, want 403 FORBIDDEN", code, body)
	}
}

// TestUIFormsRefuseAForgedCSRFToken: a form post with the admin's session
// but without the page's CSRF token (what a forged cross-site form sends)
// is refused, and changes nothing.
func TestUIFormsRefuseAForgedCSRFToken(t *testing.T) {
	t.Parallel()
	u := setupUI(t)
	u.signIn(adminEmail, adminPassword)
	u.step("Pipelines", click("Pipelines"), waitVisible(h1("Pipelines")))
	u.allowConsole(`status of 403`)
	for _, csrf := range []string{"", "forged-token"} {
		got := eval[struct {
			Status  int    `json:"status"`
			Heading string `json:"heading"`
		}](u, `(async () => {
			const body = new URLSearchParams({name: "Forged"});
			if (`+jq(csrf)+`) body.set("csrf", `+jq(csrf)+`);
			const r = await fetch("/pipelines", {method: "POST", body});
			const page = new DOMParser().parseFromString(await r.text(), "text/html");
			const h1 = page.querySelector("h1");
			return {status: r.status, heading: h1 ? h1.textContent.trim() : ""};
		})()`)
		if got.Status != 403 || got.Heading != "Request refused" {
			t.Errorf("a post with csrf %q answered %d %q, want 403 \"Request refused\"", csrf, got.Status, got.Heading)
		}
	}
	var list struct{ Data []struct{ Name string } }
	if code := u.n.call(t, "GET", u.base+"/v1/admin/pipelines", u.token(), "", &list); code != 200 {
		t.Fatalf("list pipelines: %d", code)
	}
	if len(list.Data) != 0 {
		t.Fatalf("forged posts created %d pipelines", len(list.Data))
	}
}
