package admin

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

type auditRow struct {
	ID     string `json:"id"`
	At     string `json:"at"`
	Actor  struct{ ID, Email string }
	Action string `json:"action"`
	Target struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"target"`
	Summary string `json:"summary"`
}

// auditLog reads the whole audit log (newest first) and its raw text.
func (b *testBundle) auditLog(t *testing.T) ([]auditRow, string) {
	t.Helper()
	var (
		rows []auditRow
		raw  strings.Builder
	)
	cursor := ""
	for {
		var p struct {
			Data       json.RawMessage `json:"data"`
			NextCursor string          `json:"next_cursor"`
			HasMore    bool            `json:"has_more"`
		}
		if code := b.call(t, "GET", "/v1/admin/audit-log?limit=5&cursor="+cursor, "", &p); code != 200 {
			t.Fatalf("audit log: %d", code)
		}
		var page []auditRow
		if err := json.Unmarshal(p.Data, &page); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, page...)
		raw.Write(p.Data)
		if !p.HasMore {
			return rows, raw.String()
		}
		cursor = p.NextCursor
	}
}

func TestAuditLog(t *testing.T) {
	t.Parallel()
	b := setup(t)

	const newKey = "ZZnewSecretKeyValue9999"
	must := func(code, want int, what string) {
		t.Helper()
		if code != want {
			t.Fatalf("%s: %d, want %d", what, code, want)
		}
	}
	var pip pipelineView
	must(b.call(t, "POST", "/v1/admin/pipelines", `{"name":"Shop"}`, &pip), 201, "create pipeline")
	must(b.call(t, "PATCH", "/v1/admin/pipelines/"+pip.ID, `{"name":"Web shop"}`, nil), 200, "rename pipeline")
	in := b.install(t, pageInstallBody)
	b.patch(t, "/v1/admin/integrations/"+in.ID, `{"config":{"api_key":"`+newKey+`"},"enabled":false}`)
	var bp json.RawMessage
	must(b.call(t, "GET", "/v1/admin/integrations/"+in.ID+"/blueprint", "", &bp), 200, "get blueprint")
	must(b.call(t, "PUT", "/v1/admin/integrations/"+in.ID+"/blueprint", string(bp), nil), 200, "put blueprint")
	must(b.call(t, "POST", "/v1/admin/integrations/"+in.ID+"/replay", `{}`, nil), 200, "replay")
	must(b.call(t, "DELETE", "/v1/admin/integrations/"+in.ID, "", nil), 204, "delete integration")
	must(b.call(t, "DELETE", "/v1/admin/pipelines/"+pip.ID, "", nil), 204, "delete pipeline")
	u, _ := b.addUser(t, "new@example.com", "viewer")
	must(b.call(t, "PATCH", "/v1/admin/users/"+u.ID, `{"role":"editor","password":"another-pass-2"}`, nil), 200, "update user")
	must(b.call(t, "DELETE", "/v1/admin/users/"+u.ID, "", nil), 204, "delete user")

	rows, raw := b.auditLog(t)
	want := []struct{ action, targetType, targetID, summary string }{
		{"user.delete", "user", u.ID, "Deleted user " + u.ID},
		{"user.update", "user", u.ID, "Changed user new@example.com: role set to editor, password replaced"},
		{"user.create", "user", u.ID, "Created user new@example.com with role viewer"},
		{"pipeline.delete", "pipeline", pip.ID, `Deleted pipeline "Web shop"`},
		{"integration.delete", "integration", in.ID, "Deleted integration " + in.ID},
		{"integration.replay", "integration", in.ID, "Replayed 0 failed events"},
		{"blueprint.update", "integration", in.ID, `Replaced the blueprint (integration "Omnisend", version 2)`},
		{"integration.update", "integration", in.ID, `Updated integration "Omnisend": API key replaced, disabled`},
		{"integration.install", "integration", in.ID, `Installed "Omnisend" (omnisend, variant default)`},
		{"pipeline.update", "pipeline", pip.ID, `Renamed pipeline to "Web shop"`},
		{"pipeline.create", "pipeline", pip.ID, `Created pipeline "Shop"`},
	}
	if len(rows) != len(want) {
		t.Fatalf("audit log has %d entries, want %d: %s", len(rows), len(want), raw)
	}
	adminID := b.adminID(t)
	for i, w := range want {
		r := rows[i]
		if r.Action != w.action || r.Target.Type != w.targetType || r.Target.ID != w.targetID || r.Summary != w.summary {
			t.Errorf("entry %d = %+v, want %+v", i, r, w)
		}
		if r.Actor.ID != adminID || r.Actor.Email != "admin@example.com" || !strings.HasPrefix(r.ID, "aud_") {
			t.Errorf("entry %d actor/id = %+v", i, r)
		}
		at, err := time.Parse(time.RFC3339, r.At)
		if err != nil || !strings.HasSuffix(r.At, "Z") || !at.Equal(*b.now) {
			t.Errorf("entry %d at = %q (%v), want RFC 3339 UTC %s", i, r.At, err, b.now.Format(time.RFC3339))
		}
	}
	for _, secret := range []string{pageAPIKey, newKey, pageAPIKey[len(pageAPIKey)-4:], "another-pass-2", testPassword, pip.SigningSecret, "$2a$"} {
		if strings.Contains(raw, secret) {
			t.Fatalf("audit log holds a secret (%q): %s", secret, raw)
		}
	}
}

// Refused requests (401, 403) change nothing and are not audited.
func TestAuditLogSkipsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)

	_, viewer := b.addUser(t, "v@example.com", "viewer")
	before, _ := b.auditLog(t)
	if code := b.callAs(t, viewer.AccessToken, "POST", "/v1/admin/pipelines", `{"name":"Shop"}`, nil); code != 403 {
		t.Fatalf("viewer create: %d", code)
	}
	if code := b.callAs(t, "", "POST", "/v1/admin/pipelines", `{"name":"Shop"}`, nil); code != 401 {
		t.Fatalf("anonymous create: %d", code)
	}
	if code := b.callAs(t, viewer.AccessToken, "GET", "/v1/admin/audit-log", "", nil); code != 403 {
		t.Fatalf("viewer reads the audit log: %d", code)
	}
	after, _ := b.auditLog(t)
	if len(after) != len(before) {
		t.Fatalf("refused requests added audit entries: %+v", after[:len(after)-len(before)])
	}
}

func TestAuditLogBadCursor(t *testing.T) {
	t.Parallel()
	b := setup(t)

	var e apiError
	if code := b.call(t, "GET", "/v1/admin/audit-log?cursor=nope", "", &e); code != 400 || e.Error.Field != "cursor" {
		t.Fatalf("bad cursor: %d %+v", code, e.Error)
	}
}
