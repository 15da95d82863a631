package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

const sessionCookie = "signal_session"

// session is what the browser keeps between requests: the API's tokens and
// the CSRF token its forms must echo. A visitor who has not signed in yet
// has a session with only the CSRF token, so the sign-in form is protected
// too. The cookie is HttpOnly and SameSite=Strict; the tokens in it prove
// themselves to the API, so the cookie needs no signature of its own.
type session struct {
	Access  string `json:"a,omitempty"`
	Refresh string `json:"r,omitempty"`
	CSRF    string `json:"c"`
}

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func readSession(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return nil
	}
	var s session
	if json.Unmarshal(b, &s) != nil || s.CSRF == "" {
		return nil
	}
	return &s
}

func secureRequest(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func writeSession(w http.ResponseWriter, r *http.Request, s *session) {
	b, _ := json.Marshal(s)
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secureRequest(r),
	})
}

func clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secureRequest(r),
	})
}

// validCSRF compares in constant time.
func (s *session) validCSRF(got string) bool {
	return s != nil && got != "" && subtle.ConstantTimeCompare([]byte(s.CSRF), []byte(got)) == 1
}

// accessExpired reads the access token's exp claim (without checking the
// signature: the API does that) to refresh before a request rather than
// after a refusal, which a streaming request could not retry.
func accessExpired(tok string, now time.Time) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return true
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return true
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(b, &c) != nil || c.Exp == 0 {
		return false // let the API decide
	}
	return now.Add(10*time.Second).Unix() >= c.Exp
}

// refresher remembers, for a few seconds, the tokens a refresh token was
// exchanged for. Refresh tokens are single-use, and a page load and its
// live-events stream may both find the access token expired at once: the
// second one gets the first one's answer instead of ending the session.
// Entries are keyed by the used token's hash and kept only refreshGrace,
// so a used refresh token is worth nothing soon after.
type refresher struct {
	mu      sync.Mutex
	entries map[string]refreshed
}

const refreshGrace = 15 * time.Second

type refreshed struct {
	access, refresh string
	at              time.Time
}

type tokenPair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// renew exchanges the session's refresh token through the API and writes
// the new session cookie. It reports false when the session has ended.
func (s *server) renew(w http.ResponseWriter, r *http.Request, sess *session) bool {
	if sess.Refresh == "" {
		return false
	}
	s.refresh.mu.Lock()
	defer s.refresh.mu.Unlock()
	now := s.now()
	for k, e := range s.refresh.entries {
		if now.Sub(e.at) > refreshGrace {
			delete(s.refresh.entries, k)
		}
	}
	sum := sha256.Sum256([]byte(sess.Refresh))
	key := hex.EncodeToString(sum[:])
	if e, ok := s.refresh.entries[key]; ok {
		sess.Access, sess.Refresh = e.access, e.refresh
		writeSession(w, r, sess)
		return true
	}
	var pair tokenPair
	res := s.do(r, "", http.MethodPost, "/v1/admin/auth/refresh", map[string]string{"refresh_token": sess.Refresh})
	if res.err != nil || res.decode(&pair) != nil || pair.AccessToken == "" {
		return false
	}
	s.refresh.entries[key] = refreshed{access: pair.AccessToken, refresh: pair.RefreshToken, at: now}
	sess.Access, sess.Refresh = pair.AccessToken, pair.RefreshToken
	writeSession(w, r, sess)
	return true
}
