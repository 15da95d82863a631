package main

// Acceptance checks of the contract's users, roles and audit log against
// the built binary (see contract_test.go).

import (
	"strings"
	"testing"
)

func TestContractUsersRolesAudit(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	tok := n.login(t)

	// The first admin, from the environment, is an admin.
	code, body := n.adminCall(t, "GET", "/v1/admin/me", tok, "")
	if me := jsonObject(t, []byte(body)); code != 200 || me["email"] != "admin@localhost" || me["role"] != "admin" {
		t.Fatalf("me: %d %s", code, body)
	}

	code, body = n.adminCall(t, "POST", "/v1/admin/users", tok, `{"email":"Viewer@Example.com","password":"viewer-pass-1","role":"viewer"}`)
	u := jsonObject(t, []byte(body))
	wantKeys(t, "created user", u, "id", "email", "role", "created_at")
	if code != 201 || !strings.HasPrefix(u["id"].(string), "usr_") || u["email"] != "viewer@example.com" || strings.Contains(body, "viewer-pass-1") || len(u) != 4 {
		t.Fatalf("create user: %d %s", code, body)
	}
	code, body = n.adminCall(t, "POST", "/v1/admin/users", tok, `{"email":"VIEWER@example.com","password":"viewer-pass-1","role":"viewer"}`)
	if code != 409 || wantError(t, []byte(body), "CONFLICT")["field"] != "email" {
		t.Fatalf("same email in another case: %d %s", code, body)
	}
	code, body = n.adminCall(t, "POST", "/v1/admin/users", tok, `{"email":"o@example.com","password":"owner-pass-1","role":"owner"}`)
	if code != 400 || wantError(t, []byte(body), "INVALID_PAYLOAD")["field"] != "role" {
		t.Fatalf("unknown role: %d %s", code, body)
	}

	var pair struct {
		AccessToken string `json:"access_token"`
	}
	if code := n.call(t, "POST", "http://"+n.admin+"/v1/admin/auth/login", "", `{"email":"viewer@example.com","password":"viewer-pass-1"}`, &pair); code != 200 {
		t.Fatalf("viewer login: %d", code)
	}
	if code, body := n.adminCall(t, "GET", "/v1/admin/pipelines", pair.AccessToken, ""); code != 200 {
		t.Fatalf("viewer lists pipelines: %d %s", code, body)
	}
	for _, route := range []string{"POST /v1/admin/pipelines", "GET /v1/admin/users", "GET /v1/admin/audit-log"} {
		method, path, _ := strings.Cut(route, " ")
		code, body := n.adminCall(t, method, path, pair.AccessToken, `{"name":"Shop"}`)
		if code != 403 {
			t.Fatalf("viewer %s: %d %s, want 403", route, code, body)
		}
		wantError(t, []byte(body), "FORBIDDEN", "viewer")
	}

	if code, _, body := do(t, "DELETE", "http://"+n.admin+"/v1/admin/users/"+u["id"].(string), map[string]string{"Authorization": "Bearer " + tok}, nil); code != 204 {
		t.Fatalf("delete user: %d %s", code, body)
	}
	code, body = n.adminCall(t, "GET", "/v1/admin/audit-log", tok, "")
	data := wantList(t, "audit log", body)
	if code != 200 || len(data) != 2 {
		t.Fatalf("audit log: %d %s", code, body)
	}
	e := data[0].(map[string]any)
	wantKeys(t, "audit entry", e, "id", "at", "actor", "action", "target", "summary")
	if e["action"] != "user.delete" || data[1].(map[string]any)["action"] != "user.create" || strings.Contains(body, "viewer-pass-1") {
		t.Fatalf("audit log: %s", body)
	}
	if a := e["actor"].(map[string]any); a["email"] != "admin@localhost" {
		t.Fatalf("audit actor: %v", a)
	}
}
