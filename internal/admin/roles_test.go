package admin

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// yes marks a route a role may use: any status but 401 and 403 (a missing
// id's 404 or an empty body's 400 show the request got past the policy).
const yes = 0

// routeRoles is every route the API registers × {admin, editor, viewer}:
// the expected status. TestRouteRoleTable fails when a registered route has
// no row here, so no route is added without deciding who may use it.
var routeRoles = map[string][3]int{
	"GET /healthz":                {yes, yes, yes},
	"POST /v1/admin/auth/login":   {yes, yes, yes},
	"POST /v1/admin/auth/refresh": {yes, yes, yes},
	"POST /v1/admin/auth/logout":  {yes, yes, yes},
	"GET /v1/admin/me":            {yes, yes, yes},

	"POST /v1/admin/pipelines":        {yes, yes, 403},
	"GET /v1/admin/pipelines":         {yes, yes, yes},
	"GET /v1/admin/pipelines/{id}":    {yes, yes, yes},
	"PATCH /v1/admin/pipelines/{id}":  {yes, yes, 403},
	"DELETE /v1/admin/pipelines/{id}": {yes, yes, 403},

	"GET /v1/admin/integration-catalog":                                {yes, yes, yes},
	"GET /v1/admin/integration-catalog/{key}":                          {yes, yes, yes},
	"POST /v1/admin/integration-catalog/{key}/install":                 {yes, yes, 403},
	"GET /v1/admin/integrations":                                       {yes, yes, yes},
	"GET /v1/admin/integrations/{id}":                                  {yes, yes, yes},
	"PATCH /v1/admin/integrations/{id}":                                {yes, yes, 403},
	"DELETE /v1/admin/integrations/{id}":                               {yes, yes, 403},
	"GET /v1/admin/integrations/{id}/blueprint":                        {yes, yes, yes},
	"PUT /v1/admin/integrations/{id}/blueprint":                        {yes, yes, 403},
	"POST /v1/admin/integrations/{id}/test":                            {yes, yes, 403},
	"POST /v1/admin/integrations/{id}/replay":                          {yes, yes, 403},
	"POST /v1/admin/integrations/{id}/backfill":                        {yes, yes, 403},
	"GET /v1/admin/integrations/{id}/backfill":                         {yes, yes, yes},
	"GET /v1/admin/integrations/{id}/backfill/{bf_id}":                 {yes, yes, yes},
	"GET /v1/admin/integrations/{id}/health":                           {yes, yes, yes},
	"POST /v1/admin/integrations/{id}/blueprint/preview":               {yes, yes, 403},
	"GET /v1/admin/integrations/{id}/blueprint/versions":               {yes, yes, yes},
	"POST /v1/admin/integrations/{id}/blueprint/versions/{n}/rollback": {yes, yes, 403},
	"POST /v1/admin/integrations/{id}/blueprint/reset":                 {yes, yes, 403},
	"PATCH /v1/admin/integrations/{id}/blueprint/events/{name}":        {yes, yes, 403},

	"GET /v1/admin/live-events":              {yes, yes, yes},
	"GET /v1/admin/live-events/stream":       {yes, yes, yes},
	"GET /v1/admin/live-events/counts":       {yes, yes, yes},
	"GET /v1/admin/live-events/{id}":         {yes, yes, yes},
	"POST /v1/admin/live-events/{id}/replay": {yes, yes, 403},

	"GET /v1/admin/users":         {yes, 403, 403},
	"POST /v1/admin/users":        {yes, 403, 403},
	"PATCH /v1/admin/users/{id}":  {yes, 403, 403},
	"DELETE /v1/admin/users/{id}": {yes, 403, 403},
	"GET /v1/admin/audit-log":     {yes, 403, 403},
	"GET /v1/admin/alerts":        {yes, 403, 403},
	"PUT /v1/admin/alerts":        {yes, 403, 403},

	"POST /v1/admin/contacts/export": {yes, 403, 403},
	"POST /v1/admin/contacts/erase":  {yes, 403, 403},

	"POST /v1/admin/pipelines/{id}/rotate": {yes, yes, 403},
	"/v1/admin/":                           {404, 404, 404},
}

// status sends one request as tok and returns the status only (it does not
// wait for a stream's body).
func (b *testBundle) status(t *testing.T, tok, method, path, body string) int {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, b.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestRouteRoleTable(t *testing.T) {
	t.Parallel()
	b := setup(t)

	_, editor := b.addUser(t, "e@example.com", "editor")
	_, viewer := b.addUser(t, "v@example.com", "viewer")
	tokens := [3]string{b.token, editor.AccessToken, viewer.AccessToken}
	roles := [3]string{"admin", "editor", "viewer"}

	registered := map[string]bool{}
	for _, pattern := range b.api.mux.patterns {
		registered[pattern] = true
		want, ok := routeRoles[pattern]
		if !ok {
			t.Errorf("route %q is registered but has no row in routeRoles: decide which roles may use it", pattern)
			continue
		}
		method, path, found := strings.Cut(pattern, " ")
		if !found {
			method, path = "GET", pattern+"no-such-route"
		}
		path = strings.NewReplacer("{id}", "x_missing", "{key}", "omnisend").Replace(path)
		for i, role := range roles {
			got := b.status(t, tokens[i], method, path, "{}")
			switch {
			case want[i] == yes && (got == 401 || got == 403 || got >= 500):
				t.Errorf("%s as %s = %d, want it allowed", pattern, role, got)
			case want[i] != yes && got != want[i]:
				t.Errorf("%s as %s = %d, want %d", pattern, role, got, want[i])
			}
		}
	}
	for pattern := range routeRoles {
		if !registered[pattern] {
			t.Errorf("routeRoles has %q, which is not registered", pattern)
		}
	}
}

func TestForbiddenBody(t *testing.T) {
	t.Parallel()
	b := setup(t)

	_, viewer := b.addUser(t, "v@example.com", "viewer")
	_, editor := b.addUser(t, "e@example.com", "editor")
	for _, tt := range []struct {
		tok, method, path, role string
		also                    string // another thing the message names
	}{
		{viewer.AccessToken, "POST", "/v1/admin/pipelines", "viewer", "read"},
		{editor.AccessToken, "GET", "/v1/admin/users", "editor", "backfill"},
	} {
		var e apiError
		if code := b.callAs(t, tt.tok, tt.method, tt.path, `{"name":"Shop"}`, &e); code != 403 {
			t.Fatalf("%s %s as %s = %d, want 403", tt.method, tt.path, tt.role, code)
		}
		if e.Error.Code != "FORBIDDEN" || !strings.Contains(e.Error.Message, tt.role) || !strings.Contains(e.Error.Message, "may") || !strings.Contains(e.Error.Message, tt.also) {
			t.Fatalf("403 body = %+v, want FORBIDDEN naming the role %s and what it may do", e.Error, tt.role)
		}
	}
}

func TestAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		role, method, path string
		want               bool
	}{
		{"admin", "DELETE", "/v1/admin/users/{id}", true},
		{"admin", "PUT", "/v1/admin/alerts", true},
		{"editor", "POST", "/v1/admin/integrations/{id}/replay", true},
		{"editor", "POST", "/v1/admin/integrations/{id}/blueprint/preview", true},
		{"editor", "GET", "/v1/admin/alerts", false},
		{"editor", "POST", "/v1/admin/contacts/{id}/erase", false},
		{"editor", "GET", "/v1/admin/audit-log", false},
		{"viewer", "GET", "/v1/admin/live-events/stream", true},
		{"viewer", "GET", "/v1/admin/integrations/{id}/health", true},
		{"viewer", "POST", "/v1/admin/integrations/{id}/blueprint/preview", false},
		{"viewer", "GET", "/v1/admin/users", false},
		{"viewer", "GET", "/v1/admin/contacts/{id}", false},
		{"owner", "GET", "/v1/admin/pipelines", false},
		{"", "GET", "/v1/admin/pipelines", false},
	}
	for _, tt := range tests {
		if got := allowed(tt.role, tt.method, tt.path); got != tt.want {
			t.Errorf("allowed(%q, %s, %s) = %v, want %v", tt.role, tt.method, tt.path, got, tt.want)
		}
	}
}
