package admin

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Signing out ends the session's access tokens too, not only its refresh
// token: at once on the node that signed it out, within UserCheckTTL on
// another; other sessions of the same user go on, and a refreshed token
// stays in its session.
func TestLogoutEndsTheSessionsAccessTokens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other := httptest.NewServer(b.newAPI())
	t.Cleanup(other.Close)

	login := func() tokenPair {
		t.Helper()
		var p tokenPair
		if code := b.callAs(t, "", "POST", "/v1/admin/auth/login", `{"email":"admin@example.com","password":"`+testPassword+`"}`, &p); code != 200 {
			t.Fatalf("login: %d", code)
		}
		return p
	}
	get := func(base, access string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/v1/admin/me", nil)
		req.Header.Set("Authorization", "Bearer "+access)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	signedOut, kept := login(), login()
	var refreshed tokenPair
	if code := b.callAs(t, "", "POST", "/v1/admin/auth/refresh", `{"refresh_token":"`+signedOut.RefreshToken+`"}`, &refreshed); code != 200 {
		t.Fatalf("refresh: %d", code)
	}
	// Both nodes have checked (and cached) every token as valid.
	for _, tok := range []string{signedOut.AccessToken, refreshed.AccessToken, kept.AccessToken} {
		if code := get(other.URL, tok); code != 200 {
			t.Fatalf("before sign-out on the other node: %d", code)
		}
	}
	if code := b.callAs(t, "", "POST", "/v1/admin/auth/logout", `{"refresh_token":"`+refreshed.RefreshToken+`"}`, nil); code != 204 {
		t.Fatalf("logout: %d", code)
	}

	tests := []struct {
		name   string
		access string
		want   int
	}{
		{"the session's first access token", signedOut.AccessToken, 401},
		{"its refreshed access token", refreshed.AccessToken, 401},
		{"another session of the same user", kept.AccessToken, 200},
	}
	for _, tc := range tests {
		if code := b.callAs(t, tc.access, "GET", "/v1/admin/me", "", nil); code != tc.want {
			t.Errorf("%s on the signing-out node: %d, want %d", tc.name, code, tc.want)
		}
	}
	b.advance(maxUserCheckTTL)
	for _, tc := range tests {
		if code := get(other.URL, tc.access); code != tc.want {
			t.Errorf("%s on another node after %s: %d, want %d", tc.name, maxUserCheckTTL, code, tc.want)
		}
	}
}

// The session cache is bounded by count, whatever sessions tokens name.
func TestSessionCacheBounded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range sessionCacheMax + 10 {
		if err := b.api.checkSession(t.Context(), fmt.Sprintf("ses_%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	b.api.sessions.mu.Lock()
	n := len(b.api.sessions.m)
	b.api.sessions.mu.Unlock()
	if n > sessionCacheMax {
		t.Fatalf("session cache holds %d entries, bound %d", n, sessionCacheMax)
	}
}
