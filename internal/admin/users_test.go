package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// advance moves the bundle's clock, safely while requests are served.
func (b *testBundle) advance(d time.Duration) {
	b.clockMu.Lock()
	defer b.clockMu.Unlock()
	*b.now = b.now.Add(d)
}

// addUser creates a user with role through the API (as the admin) and
// returns the user and a fresh token pair of theirs.
func (b *testBundle) addUser(t *testing.T, email, role string) (userView, tokenPair) {
	t.Helper()
	var u userView
	if code := b.call(t, "POST", "/v1/admin/users", `{"email":"`+email+`","password":"`+testPassword+`","role":"`+role+`"}`, &u); code != 201 {
		t.Fatalf("create %s user: %d", role, code)
	}
	var pair tokenPair
	if code := b.call(t, "POST", "/v1/admin/auth/login", `{"email":"`+email+`","password":"`+testPassword+`"}`, &pair); code != 200 {
		t.Fatalf("login as %s: %d", role, code)
	}
	return u, pair
}

// adminID is the bootstrapped admin's id.
func (b *testBundle) adminID(t *testing.T) string {
	t.Helper()
	var me map[string]string
	if code := b.call(t, "GET", "/v1/admin/me", "", &me); code != 200 {
		t.Fatalf("me: %d", code)
	}
	return me["id"]
}

func TestMe(t *testing.T) {
	t.Parallel()
	b := setup(t)

	u, pair := b.addUser(t, "Viewer@Example.com", "viewer")
	var me map[string]any
	if code := b.callAs(t, pair.AccessToken, "GET", "/v1/admin/me", "", &me); code != 200 {
		t.Fatalf("me: %d", code)
	}
	if me["id"] != u.ID || me["email"] != "viewer@example.com" || me["role"] != "viewer" || len(me) != 3 {
		t.Fatalf("me = %v", me)
	}
}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		status     int
		code       signal.Code
		field      string
	}{
		{"ok", `{"email":" New@Example.com ","password":"long-enough-1","role":"editor"}`, 201, "", ""},
		{"unknown role", `{"email":"n@example.com","password":"long-enough-1","role":"owner"}`, 400, "INVALID_PAYLOAD", "role"},
		{"missing role", `{"email":"n@example.com","password":"long-enough-1"}`, 400, "INVALID_PAYLOAD", "role"},
		{"email used, other case", `{"email":"ADMIN@example.com","password":"long-enough-1","role":"viewer"}`, 409, "CONFLICT", "email"},
		{"missing email", `{"password":"long-enough-1","role":"viewer"}`, 400, "INVALID_PAYLOAD", "email"},
		{"not an email", `{"email":"nobody","password":"long-enough-1","role":"viewer"}`, 400, "INVALID_PAYLOAD", "email"},
		{"short password", `{"email":"n@example.com","password":"short","role":"viewer"}`, 400, "INVALID_PAYLOAD", "password"},
		{"long password", `{"email":"n@example.com","password":"` + strings.Repeat("p", 73) + `","role":"viewer"}`, 400, "INVALID_PAYLOAD", "password"},
		{"unknown field", `{"email":"n@example.com","password":"long-enough-1","role":"viewer","admin":true}`, 400, "INVALID_PAYLOAD", "admin"},
		{"malformed", `{"email":`, 400, "INVALID_PAYLOAD", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)

			code, body := b.raw(t, "POST", "/v1/admin/users", tt.body)
			if code != tt.status {
				t.Fatalf("status = %d, want %d: %s", code, tt.status, body)
			}
			if strings.Contains(body, "long-enough-1") || strings.Contains(body, "$2a$") || strings.Contains(body, "password\":") {
				t.Fatalf("answer shows the password or its hash: %s", body)
			}
			if tt.status == 201 {
				var u map[string]any
				if code := b.call(t, "POST", "/v1/admin/auth/login", `{"email":"new@example.com","password":"long-enough-1"}`, nil); code != 200 {
					t.Fatalf("new user's login: %d", code)
				}
				if err := jsonUnmarshal(body, &u); err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(u["id"].(string), "usr_") || u["email"] != "new@example.com" || u["role"] != "editor" || u["created_at"] == nil || len(u) != 4 {
					t.Fatalf("created user = %v", u)
				}
				return
			}
			var e apiError
			jsonUnmarshal(body, &e)
			if e.Error.Code != tt.code || e.Error.Field != tt.field || e.Error.Message == "" {
				t.Fatalf("error = %+v, want code %s field %q", e.Error, tt.code, tt.field)
			}
		})
	}
}

func TestListUsers(t *testing.T) {
	t.Parallel()
	b := setup(t)

	b.addUser(t, "e@example.com", "editor")
	b.addUser(t, "v@example.com", "viewer")
	var first, rest page[userView]
	if code := b.call(t, "GET", "/v1/admin/users?limit=2", "", &first); code != 200 || len(first.Data) != 2 || !first.HasMore {
		t.Fatalf("first page: %d %+v", code, first)
	}
	if code := b.call(t, "GET", "/v1/admin/users?limit=2&cursor="+first.NextCursor, "", &rest); code != 200 || len(rest.Data) != 1 || rest.HasMore {
		t.Fatalf("second page: %d %+v", code, rest)
	}
	emails := map[string]string{}
	for _, u := range append(first.Data, rest.Data...) {
		emails[u.Email] = u.Role
	}
	if emails["admin@example.com"] != "admin" || emails["e@example.com"] != "editor" || emails["v@example.com"] != "viewer" {
		t.Fatalf("listed users = %v", emails)
	}
}

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		target   string // "editor" or "admin" (the bootstrapped, only admin)
		body     string
		status   int
		code     signal.Code
		field    string
		wantRole string
	}{
		{"role", "editor", `{"role":"viewer"}`, 200, "", "", "viewer"},
		{"password", "editor", `{"password":"another-pass-2"}`, 200, "", "", "editor"},
		{"both", "editor", `{"role":"admin","password":"another-pass-2"}`, 200, "", "", "admin"},
		{"unknown role", "editor", `{"role":"root"}`, 400, "INVALID_PAYLOAD", "role", ""},
		{"short password", "editor", `{"password":"short"}`, 400, "INVALID_PAYLOAD", "password", ""},
		{"nothing to change", "editor", `{}`, 400, "INVALID_PAYLOAD", "", ""},
		{"unknown field", "editor", `{"email":"x@example.com"}`, 400, "INVALID_PAYLOAD", "email", ""},
		{"last admin demoted", "admin", `{"role":"editor"}`, 409, "CONFLICT", "role", ""},
		{"unknown user", "missing", `{"role":"viewer"}`, 404, "NOT_FOUND", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)

			editor, _ := b.addUser(t, "e@example.com", "editor")
			id := map[string]string{"editor": editor.ID, "admin": b.adminID(t), "missing": "usr_missing"}[tt.target]
			code, body := b.raw(t, "PATCH", "/v1/admin/users/"+id, tt.body)
			if code != tt.status {
				t.Fatalf("status = %d, want %d: %s", code, tt.status, body)
			}
			if strings.Contains(body, "another-pass-2") || strings.Contains(body, "$2a$") {
				t.Fatalf("answer shows the password or its hash: %s", body)
			}
			if tt.status != 200 {
				var e apiError
				jsonUnmarshal(body, &e)
				if e.Error.Code != tt.code || e.Error.Field != tt.field {
					t.Fatalf("error = %+v, want code %s field %q", e.Error, tt.code, tt.field)
				}
				return
			}
			var u userView
			jsonUnmarshal(body, &u)
			if u.ID != id || u.Role != tt.wantRole || u.Email != "e@example.com" {
				t.Fatalf("updated user = %+v", u)
			}
			if strings.Contains(tt.body, "password") {
				if code := b.call(t, "POST", "/v1/admin/auth/login", `{"email":"e@example.com","password":"another-pass-2"}`, nil); code != 200 {
					t.Fatalf("login with the new password: %d", code)
				}
			}
		})
	}
}

func TestRoleChangeAppliesFromNextToken(t *testing.T) {
	t.Parallel()
	b := setup(t)

	u, pair := b.addUser(t, "e@example.com", "editor")
	if code := b.call(t, "PATCH", "/v1/admin/users/"+u.ID, `{"role":"viewer"}`, nil); code != 200 {
		t.Fatalf("demote: %d", code)
	}
	var next tokenPair
	if code := b.call(t, "POST", "/v1/admin/auth/refresh", `{"refresh_token":"`+pair.RefreshToken+`"}`, &next); code != 200 {
		t.Fatalf("refresh: %d", code)
	}
	if code := b.callAs(t, next.AccessToken, "POST", "/v1/admin/pipelines", `{"name":"Shop"}`, nil); code != 403 {
		t.Fatalf("viewer's next token creating a pipeline: %d, want 403", code)
	}
}

func TestDeleteUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		target string
		status int
		code   signal.Code
	}{
		{"editor", "editor", 204, ""},
		{"last admin", "admin", 409, "CONFLICT"},
		{"unknown user", "missing", 404, "NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)

			editor, pair := b.addUser(t, "e@example.com", "editor")
			id := map[string]string{"editor": editor.ID, "admin": b.adminID(t), "missing": "usr_missing"}[tt.target]
			var e apiError
			if code := b.call(t, "DELETE", "/v1/admin/users/"+id, "", &e); code != tt.status || e.Error.Code != tt.code {
				t.Fatalf("delete = %d %+v, want %d %s", code, e.Error, tt.status, tt.code)
			}
			if tt.status != 204 {
				return
			}
			// Refresh tokens are revoked at once; on this node the access
			// token too.
			if code := b.call(t, "POST", "/v1/admin/auth/refresh", `{"refresh_token":"`+pair.RefreshToken+`"}`, nil); code != 401 {
				t.Fatalf("deleted user's refresh: %d, want 401", code)
			}
			if code := b.callAs(t, pair.AccessToken, "GET", "/v1/admin/pipelines", "", nil); code != 401 {
				t.Fatalf("deleted user's access token on the deleting node: %d, want 401", code)
			}
		})
	}
}

// A node that did not delete the user trusts its cache at most
// UserCheckTTL (30 s): then the deleted user's access token fails there too.
func TestDeletedUserTokenStopsOnOtherNode(t *testing.T) {
	t.Parallel()
	b := setup(t)

	other := httptest.NewServer(b.newAPI())
	t.Cleanup(other.Close)
	u, pair := b.addUser(t, "e@example.com", "editor")
	onOther := func() int {
		t.Helper()
		req, _ := http.NewRequest("GET", other.URL+"/v1/admin/pipelines", nil)
		req.Header.Set("Authorization", "Bearer "+pair.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := onOther(); code != 200 {
		t.Fatalf("before delete: %d", code)
	}
	if code := b.call(t, "DELETE", "/v1/admin/users/"+u.ID, "", nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	b.advance(maxUserCheckTTL)
	if code := onOther(); code != 401 {
		t.Fatalf("deleted user's token on another node after %s: %d, want 401", maxUserCheckTTL, code)
	}
}

// The live-events stream outlives the request's checks; it must end too.
func TestDeletedUserStreamEnds(t *testing.T) {
	t.Parallel()
	b := setup(t)

	other := httptest.NewServer(b.newAPI())
	t.Cleanup(other.Close)
	u, pair := b.addUser(t, "v@example.com", "viewer")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", other.URL+"/v1/admin/live-events/stream?access_token="+pair.AccessToken, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	if code := b.call(t, "DELETE", "/v1/admin/users/"+u.ID, "", nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	b.advance(maxUserCheckTTL)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
	}
	if ctx.Err() != nil {
		t.Fatal("the deleted user's stream was still open after 10 s")
	}
}

// The user cache is bounded by count, whatever ids tokens carry.
func TestUserCacheBounded(t *testing.T) {
	t.Parallel()
	b := setup(t)

	for i := range userCacheMax + 10 {
		if _, err := b.api.user(t.Context(), "usr_gone_"+strconv.Itoa(i)); err == nil {
			t.Fatal("an unknown user was found")
		}
	}
	b.api.users.mu.Lock()
	n := len(b.api.users.m)
	b.api.users.mu.Unlock()
	if n > userCacheMax {
		t.Fatalf("user cache holds %d entries, bound is %d", n, userCacheMax)
	}
}

// TestNewPasswordEndsOtherSessions: an admin who replaces their own password
// stays signed in on the session that did it, and their other sessions
// (a leaked password's) can no longer renew.
func TestNewPasswordEndsOtherSessions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	login := func() tokenPair {
		var p tokenPair
		if code := b.callAs(t, "", "POST", "/v1/admin/auth/login", `{"email":"admin@example.com","password":"`+testPassword+`"}`, &p); code != 200 {
			t.Fatalf("login: %d", code)
		}
		return p
	}
	here, elsewhere := login(), login()
	if code := b.callAs(t, here.AccessToken, "PATCH", "/v1/admin/users/"+b.adminID(t), `{"password":"another long password"}`, nil); code != 200 {
		t.Fatalf("password change: %d", code)
	}
	if code := b.callAs(t, "", "POST", "/v1/admin/auth/refresh", `{"refresh_token":"`+elsewhere.RefreshToken+`"}`, nil); code != 401 {
		t.Fatalf("the other session's refresh: %d, want 401", code)
	}
	if code := b.callAs(t, "", "POST", "/v1/admin/auth/refresh", `{"refresh_token":"`+here.RefreshToken+`"}`, nil); code != 200 {
		t.Fatalf("this session's refresh: %d, want 200", code)
	}
}
