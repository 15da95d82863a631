package admin

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/signalhq/signal/internal/crypt"
	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/integration/omnisend"
	"github.com/signalhq/signal/internal/store/sqlite"
	"github.com/signalhq/signal/internal/token"
)

const testPassword = "correct-horse-1"

type testBundle struct {
	srv   *httptest.Server
	api   *Server
	box   *crypt.Box
	db    *sqlite.DB
	token string
	now   *time.Time
	// clockMu guards now for tests that move the clock while requests
	// are served (advance).
	clockMu *sync.Mutex
	// newAPI returns another Management API on the same database, clock
	// and signing key: a second node.
	newAPI func() *Server
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	return setupWith(t, Deps{})
}

// setupWith is setup with the optional collaborators of extra (Tester,
// Notifier) wired in.
func setupWith(t *testing.T, extra Deps) *testBundle {
	t.Helper()
	return setupServer(t, extra, nil)
}

// setupServer is setupWith whose store the API sees through wrap (if not
// nil), and whose Server is kept in the bundle.
func setupServer(t *testing.T, extra Deps, wrap func(Store) Store) *testBundle {
	t.Helper()
	key, _ := crypt.NewKey()
	kb, _ := crypt.ParseKey(key)
	box, _ := crypt.NewBox(kb)
	db, err := sqlite.Open(context.Background(), sqlite.Options{Path: t.TempDir() + "/signal.db", Cipher: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	b := &testBundle{db: db, now: &now, clockMu: &sync.Mutex{}}
	clock := func() time.Time {
		b.clockMu.Lock()
		defer b.clockMu.Unlock()
		return *b.now
	}
	signer, _ := token.NewSigner([]byte(strings.Repeat("s", 32)), clock)
	if _, err := Bootstrap(context.Background(), db, BootstrapParams{Email: "Admin@Example.com", Password: testPassword, Now: clock, Cost: bcrypt.MinCost}); err != nil {
		t.Fatal(err)
	}
	vendors := integration.NewRegistry()
	vendors.Register(omnisend.New(omnisend.Options{BaseURL: "http://127.0.0.1:1"}))
	var st Store = db
	if wrap != nil {
		st = wrap(db)
	}
	b.box = box
	b.newAPI = func() *Server {
		return New(Config{StreamPoll: 20 * time.Millisecond, PasswordCost: bcrypt.MinCost}, Deps{Store: st, Signer: signer, Catalog: vendors,
			Tester: extra.Tester, Notifier: extra.Notifier, Hasher: box, RateLimits: extra.RateLimits,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clock})
	}
	b.api = b.newAPI()
	b.srv = httptest.NewServer(b.api)
	t.Cleanup(b.srv.Close)
	var pair tokenPair
	if code := b.call(t, "POST", "/v1/admin/auth/login", `{"email":"admin@example.com","password":"`+testPassword+`"}`, &pair); code != 200 {
		t.Fatalf("login: %d", code)
	}
	b.token = pair.AccessToken
	return b
}

// call sends a request with the bundle's token and decodes the answer into
// out (if not nil); it returns the status.
func (b *testBundle) call(t *testing.T, method, path, body string, out any) int {
	t.Helper()
	return b.callAs(t, b.token, method, path, body, out)
}

func (b *testBundle) callAs(t *testing.T, tok, method, path, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, b.srv.URL+path, strings.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: answer %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

type apiError struct {
	Error struct{ Code, Message, Field string }
}

func TestLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		status     int
		code       string
		field      string
	}{
		{"ok, email case-insensitive", `{"email":" ADMIN@example.com ","password":"` + testPassword + `"}`, 200, "", ""},
		{"wrong password", `{"email":"admin@example.com","password":"nope-nope"}`, 401, "INVALID_CREDENTIALS", ""},
		{"unknown user", `{"email":"who@example.com","password":"` + testPassword + `"}`, 401, "INVALID_CREDENTIALS", ""},
		{"missing email", `{"password":"x"}`, 400, "INVALID_PAYLOAD", "email"},
		{"missing password", `{"email":"admin@example.com"}`, 400, "INVALID_PAYLOAD", "password"},
		{"malformed", `{"email":`, 400, "INVALID_PAYLOAD", ""},
		{"unknown field", `{"email":"a","password":"b","role":"admin"}`, 400, "INVALID_PAYLOAD", "role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var pair tokenPair
			var e apiError
			out := any(&e)
			if tt.status == 200 {
				out = &pair
			}
			if got := b.callAs(t, "", "POST", "/v1/admin/auth/login", tt.body, out); got != tt.status {
				t.Fatalf("status %d, want %d", got, tt.status)
			}
			if tt.status == 200 {
				if pair.AccessToken == "" || pair.RefreshToken == "" || pair.TokenType != "Bearer" || pair.ExpiresIn != 900 {
					t.Fatalf("pair = %+v", pair)
				}
				return
			}
			if e.Error.Code != tt.code || e.Error.Field != tt.field || e.Error.Message == "" {
				t.Fatalf("error = %+v", e.Error)
			}
		})
	}
}

func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var first tokenPair
	b.callAs(t, "", "POST", "/v1/admin/auth/login", `{"email":"admin@example.com","password":"`+testPassword+`"}`, &first)
	var second tokenPair
	if code := b.callAs(t, "", "POST", "/v1/admin/auth/refresh", `{"refresh_token":"`+first.RefreshToken+`"}`, &second); code != 200 {
		t.Fatalf("refresh: %d", code)
	}
	if second.RefreshToken == first.RefreshToken || second.AccessToken == "" {
		t.Fatal("refresh did not rotate the token")
	}
	if code := b.callAs(t, "", "POST", "/v1/admin/auth/refresh", `{"refresh_token":"`+first.RefreshToken+`"}`, nil); code != 401 {
		t.Fatalf("reused refresh token: %d, want 401", code)
	}
	if code := b.callAs(t, second.AccessToken, "GET", "/v1/admin/pipelines", "", nil); code != 200 {
		t.Fatalf("new access token: %d", code)
	}
	// Access tokens last 15 minutes, refresh tokens 7 days.
	*b.now = b.now.Add(16 * time.Minute)
	if code := b.callAs(t, second.AccessToken, "GET", "/v1/admin/pipelines", "", nil); code != 401 {
		t.Fatalf("expired access token: %d, want 401", code)
	}
	*b.now = b.now.Add(7 * 24 * time.Hour)
	if code := b.callAs(t, "", "POST", "/v1/admin/auth/refresh", `{"refresh_token":"`+second.RefreshToken+`"}`, nil); code != 401 {
		t.Fatalf("expired refresh token: %d, want 401", code)
	}
}

func TestEveryRouteNeedsAToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	routes := []string{
		"GET /v1/admin/me", "POST /v1/admin/pipelines", "GET /v1/admin/pipelines", "GET /v1/admin/pipelines/pip_x",
		"PATCH /v1/admin/pipelines/pip_x", "DELETE /v1/admin/pipelines/pip_x", "GET /v1/admin/integration-catalog",
		"GET /v1/admin/integration-catalog/omnisend", "POST /v1/admin/integration-catalog/omnisend/install",
		"GET /v1/admin/integrations", "GET /v1/admin/integrations/int_x", "PATCH /v1/admin/integrations/int_x",
		"DELETE /v1/admin/integrations/int_x", "GET /v1/admin/integrations/int_x/blueprint", "PUT /v1/admin/integrations/int_x/blueprint",
		"POST /v1/admin/integrations/int_x/test", "POST /v1/admin/integrations/int_x/replay", "GET /v1/admin/live-events",
		"GET /v1/admin/live-events/stream", "GET /v1/admin/live-events/counts", "GET /v1/admin/live-events/dlv_1",
		"GET /v1/admin/integrations/int_x/health", "POST /v1/admin/integrations/int_x/blueprint/preview", "GET /v1/admin/no-such-route",
	}
	for _, r := range routes {
		method, path, _ := strings.Cut(r, " ")
		for name, tok := range map[string]string{"none": "", "garbage": "abc.def.ghi"} {
			var e apiError
			if code := b.callAs(t, tok, method, path, `{}`, &e); code != 401 || e.Error.Code != "UNAUTHORIZED" {
				t.Errorf("%s with %s token: %d %+v, want 401", r, name, code, e.Error)
			}
		}
	}
}

func TestPipelines(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var created pipelineView
	if code := b.call(t, "POST", "/v1/admin/pipelines", `{"name":"Web shop"}`, &created); code != 201 {
		t.Fatalf("create: %d", code)
	}
	if !strings.HasPrefix(created.ID, "pip_") || !strings.HasPrefix(created.Key, "dk_live_") || created.SigningSecret == "" || created.Name != "Web shop" {
		t.Fatalf("created = %+v", created)
	}
	var got pipelineView
	if code := b.call(t, "GET", "/v1/admin/pipelines/"+created.ID, "", &got); code != 200 || got.SigningSecret != "" || got.Key != created.Key {
		t.Fatalf("get: %d %+v (the signing secret is shown on creation only)", code, got)
	}
	if code := b.call(t, "PATCH", "/v1/admin/pipelines/"+created.ID, `{"name":"Shop"}`, &got); code != 200 || got.Name != "Shop" {
		t.Fatalf("patch: %d %+v", code, got)
	}
	for i := 0; i < 4; i++ {
		b.call(t, "POST", "/v1/admin/pipelines", `{"name":"p"}`, nil)
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		var pg page[pipelineView]
		if code := b.call(t, "GET", "/v1/admin/pipelines?limit=2&cursor="+cursor, "", &pg); code != 200 {
			t.Fatalf("list: %d", code)
		}
		for _, p := range pg.Data {
			if seen[p.ID] || p.SigningSecret != "" {
				t.Fatalf("list repeated %s or showed its secret", p.ID)
			}
			seen[p.ID] = true
		}
		if !pg.HasMore {
			break
		}
		cursor = pg.NextCursor
	}
	if len(seen) != 5 {
		t.Fatalf("listed %d pipelines, want 5", len(seen))
	}
	if code := b.call(t, "DELETE", "/v1/admin/pipelines/"+created.ID, "", nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	errs := []struct {
		method, path, body string
		status             int
		field              string
	}{
		{"GET", "/v1/admin/pipelines/" + created.ID, "", 404, ""},
		{"DELETE", "/v1/admin/pipelines/" + created.ID, "", 404, ""},
		{"PATCH", "/v1/admin/pipelines/pip_nope", `{"name":"x"}`, 404, ""},
		{"POST", "/v1/admin/pipelines", `{"name":"  "}`, 400, "name"},
		{"POST", "/v1/admin/pipelines", `{"name":5}`, 400, "name"},
		{"POST", "/v1/admin/pipelines", `{}`, 400, "name"},
		{"PATCH", "/v1/admin/pipelines/pip_nope", `{"name":""}`, 400, "name"},
		{"GET", "/v1/admin/pipelines?limit=1000", "", 400, "limit"},
		{"GET", "/v1/admin/pipelines?limit=x", "", 400, "limit"},
	}
	for _, e := range errs {
		var ae apiError
		if code := b.call(t, e.method, e.path, e.body, &ae); code != e.status || ae.Error.Field != e.field || ae.Error.Message == "" {
			t.Errorf("%s %s %s: %d %+v, want %d field %q", e.method, e.path, e.body, code, ae.Error, e.status, e.field)
		}
	}
}

func TestBootstrap(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Users exist: nothing is created and no password is generated.
	if pw, err := Bootstrap(context.Background(), b.db, BootstrapParams{Email: "other@example.com", Cost: bcrypt.MinCost}); err != nil || pw != "" {
		t.Fatalf("second bootstrap: %q %v", pw, err)
	}
	key, _ := crypt.NewKey()
	kb, _ := crypt.ParseKey(key)
	box, _ := crypt.NewBox(kb)
	fresh, err := sqlite.Open(context.Background(), sqlite.Options{Path: t.TempDir() + "/fresh.db", Cipher: box})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if _, err := Bootstrap(context.Background(), fresh, BootstrapParams{Email: "not-an-email", Password: "", Now: time.Now, Cost: bcrypt.MinCost}); err == nil {
		t.Fatal("a bad admin email was accepted")
	}
	if _, err := Bootstrap(context.Background(), fresh, BootstrapParams{Email: "a@example.com", Password: "short", Now: time.Now, Cost: bcrypt.MinCost}); err == nil {
		t.Fatal("a 5-character admin password was accepted")
	}
	pw, err := Bootstrap(context.Background(), fresh, BootstrapParams{Email: "a@example.com", Password: "", Now: time.Now, Cost: bcrypt.MinCost})
	if err != nil || len(pw) < 16 {
		t.Fatalf("generated password %q, %v", pw, err)
	}
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wrong := `{"email":"admin@example.com","password":"wrong-password"}`
	for i := 0; i < loginMaxFails; i++ {
		if code := b.callAs(t, "", "POST", "/v1/admin/auth/login", wrong, nil); code != 401 {
			t.Fatalf("attempt %d: %d", i, code)
		}
	}
	var e apiError
	if code := b.callAs(t, "", "POST", "/v1/admin/auth/login", `{"email":"admin@example.com","password":"`+testPassword+`"}`, &e); code != 429 || e.Error.Code != "TOO_MANY_ATTEMPTS" {
		t.Fatalf("after %d wrong passwords the right one got %d %+v, want 429", loginMaxFails, code, e.Error)
	}
	*b.now = b.now.Add(loginWindow)
	if code := b.callAs(t, "", "POST", "/v1/admin/auth/login", `{"email":"admin@example.com","password":"`+testPassword+`"}`, nil); code != 200 {
		t.Fatalf("after the window: %d", code)
	}
	if code := b.callAs(t, "", "GET", "/healthz", "", nil); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
}

// Signing out revokes the refresh token: it can no longer be exchanged, and
// a second sign-out of it answers the same 204.
func TestLogoutRevokesRefreshToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var pair tokenPair
	b.callAs(t, "", "POST", "/v1/admin/auth/login", `{"email":"admin@example.com","password":"`+testPassword+`"}`, &pair)
	tests := []struct {
		name, body string
		want       int
	}{
		{"sign out", `{"refresh_token":"` + pair.RefreshToken + `"}`, 204},
		{"again", `{"refresh_token":"` + pair.RefreshToken + `"}`, 204},
		{"missing token", `{}`, 400},
	}
	for _, tc := range tests {
		if code := b.callAs(t, "", "POST", "/v1/admin/auth/logout", tc.body, nil); code != tc.want {
			t.Fatalf("%s: %d, want %d", tc.name, code, tc.want)
		}
	}
	if code := b.callAs(t, "", "POST", "/v1/admin/auth/refresh", `{"refresh_token":"`+pair.RefreshToken+`"}`, nil); code != 401 {
		t.Fatalf("refresh after sign-out: %d, want 401", code)
	}
}
