package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/token"
)

type tokenPair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

// dummyHash keeps a login for an unknown email as slow as one for a known
// email, so timing does not tell which emails exist.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("signal-dummy-password"), bcrypt.DefaultCost)

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	// A login is a few hundred bytes: a bigger body is refused before it
	// is read (or, sent chunked, once 8 KB are), so a flood of huge
	// logins costs next to nothing.
	if r.ContentLength > maxLoginBody {
		writeError(w, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "a login body is at most 8 KB", "")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := decode(r, &in); err != nil {
		writeErr(w, err)
		return
	}
	if strings.TrimSpace(in.Email) == "" {
		writeError(w, http.StatusBadRequest, signal.EINVALID, "email is required", "email")
		return
	}
	if in.Password == "" {
		writeError(w, http.StatusBadRequest, signal.EINVALID, "password is required", "password")
		return
	}
	if len(in.Email) > maxEmailLen {
		writeError(w, http.StatusBadRequest, signal.EINVALID, "email is longer than 254 bytes", "email")
		return
	}
	source := sourceAddr(r)
	if wait, ok := s.logins.blocked(in.Email, source, s.now()); ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		writeError(w, http.StatusTooManyRequests, "TOO_MANY_ATTEMPTS", "too many wrong passwords for this email; try again later", "")
		return
	}
	u, err := s.store.GetUser(r.Context(), storeUserByEmail(in.Email))
	if err != nil && signal.ErrorCode(err) != signal.ENOTFOUND {
		s.fail(w, r, err)
		return
	}
	hash := dummyHash
	if u != nil {
		hash = []byte(u.PasswordHash)
	}
	if !s.logins.acquire(r.Context()) {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "LOGIN_BUSY", "too many logins at once; try again in a second", "")
		return
	}
	wrong := bcrypt.CompareHashAndPassword(hash, []byte(in.Password)) != nil
	s.logins.release()
	if wrong || u == nil {
		s.logins.failed(in.Email, source, s.now())
		writeError(w, http.StatusUnauthorized, "INVALID_CREDENTIALS", "email or password is wrong", "")
		return
	}
	s.logins.succeeded(in.Email, source)
	sid, err := newSessionID()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pair, err := s.issue(r.Context(), u, sid)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pair)
}

// readRefreshToken reads {"refresh_token"} from the body; on a bad body it
// writes the error and reports false.
func readRefreshToken(w http.ResponseWriter, r *http.Request) (string, bool) {
	var in struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := decode(r, &in); err != nil {
		writeErr(w, err)
		return "", false
	}
	if in.RefreshToken == "" {
		writeError(w, http.StatusBadRequest, signal.EINVALID, "refresh_token is required", "refresh_token")
		return "", false
	}
	return in.RefreshToken, true
}

func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request) {
	refresh, ok := readRefreshToken(w, r)
	if !ok {
		return
	}
	t, err := s.store.ConsumeRefreshToken(r.Context(), consumeParams(hashToken(refresh), s.now()))
	if signal.ErrorCode(err) == signal.ENOTFOUND {
		writeError(w, http.StatusUnauthorized, signal.EUNAUTHORIZED, "refresh token is unknown, already used or expired; log in again", "refresh_token")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	u, err := s.store.GetUser(r.Context(), storeUserByID(t.UserID))
	if err != nil {
		writeError(w, http.StatusUnauthorized, signal.EUNAUTHORIZED, "the token's user no longer exists", "refresh_token")
		return
	}
	sid := t.SessionID
	if sid == "" { // a token from before sessions: the login goes on as a new one
		if sid, err = newSessionID(); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	pair, err := s.issue(r.Context(), u, sid)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pair)
}

// handleLogout signs a session out: its refresh token can no longer be
// exchanged and every access token of the session is refused (on every
// node within UserCheckTTL, on this one at once). Unknown or already used
// tokens answer the same 204, so the call says nothing about which tokens
// exist.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	refresh, ok := readRefreshToken(w, r)
	if !ok {
		return
	}
	t, err := s.store.ConsumeRefreshToken(r.Context(), consumeParams(hashToken(refresh), s.now()))
	if err != nil && signal.ErrorCode(err) != signal.ENOTFOUND {
		s.fail(w, r, err)
		return
	}
	if t != nil {
		if err := s.revokeSession(r.Context(), t.SessionID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	c := r.Context().Value(ctxKey{}).(*token.Claims)
	u, err := s.store.GetUser(r.Context(), storeUserByID(c.Subject))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": u.ID, "email": u.Email, "role": u.Role})
}

// issue makes an access token and a new refresh token (stored hashed).
func (s *Server) issue(ctx context.Context, u *signal.User, sessionID string) (*tokenPair, error) {
	access, err := s.signer.Issue(token.IssueParams{Subject: u.ID, Role: u.Role, SessionID: sessionID, TTL: s.cfg.AccessTTL})
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("refresh token: %w", err)
	}
	refresh := "rt_" + base64.RawURLEncoding.EncodeToString(raw)
	if err := s.store.CreateRefreshToken(ctx, store.CreateRefreshTokenParams{Token: signal.RefreshToken{Hash: hashToken(refresh), UserID: u.ID, SessionID: sessionID, ExpiresAt: s.now().Add(s.cfg.RefreshTTL)}}); err != nil {
		return nil, err
	}
	return &tokenPair{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", ExpiresIn: int(s.cfg.AccessTTL.Seconds())}, nil
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// HashPassword hashes a password for storage with bcrypt at cost (0 means
// bcrypt.DefaultCost).
func HashPassword(pw string, cost int) (string, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	if len(pw) < 8 {
		return "", signal.FieldErrorf(signal.EINVALID, "password", "password must be at least 8 characters")
	}
	if len(pw) > 72 {
		return "", signal.FieldErrorf(signal.EINVALID, "password", "password must be at most 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// BootstrapParams describe the first admin.
type BootstrapParams struct {
	Email    string
	Password string // empty: generate one
	Now      func() time.Time
	// Cost is bcrypt's cost (0: the default; tests use bcrypt.MinCost).
	Cost int
}

// Bootstrap creates the first admin when no user exists. With an empty
// password it generates one and returns it (to be shown once); otherwise it
// returns "".
func Bootstrap(ctx context.Context, st Store, p BootstrapParams) (generated string, err error) {
	email, password, now := p.Email, p.Password, p.Now
	if now == nil {
		now = time.Now
	}
	n, err := st.CountUsers(ctx)
	if err != nil {
		return "", err
	}
	if n > 0 {
		return "", nil
	}
	email = strings.ToLower(strings.TrimSpace(email))
	if !strings.Contains(email, "@") {
		return "", signal.FieldErrorf(signal.EINVALID, "SIGNAL_ADMIN_EMAIL", "SIGNAL_ADMIN_EMAIL %q is not an email address", email)
	}
	if password == "" {
		raw := make([]byte, 15)
		if _, err := rand.Read(raw); err != nil {
			return "", err
		}
		password = base64.RawURLEncoding.EncodeToString(raw)
		generated = password
	}
	hash, err := HashPassword(password, p.Cost)
	if err != nil {
		return "", fmt.Errorf("SIGNAL_ADMIN_PASSWORD: %w", err)
	}
	u := &signal.User{ID: newID("usr_", 16), Email: email, PasswordHash: hash, Role: signal.RoleAdmin, CreatedAt: now()}
	if err := st.CreateUser(ctx, store.CreateUserParams{User: u}); err != nil {
		if signal.ErrorCode(err) == signal.ECONFLICT {
			// Another node sharing the database created it first.
			return "", nil
		}
		return "", err
	}
	return generated, nil
}

func storeUserByEmail(email string) store.GetUserParams {
	return store.GetUserParams{Email: strings.ToLower(strings.TrimSpace(email))}
}

func storeUserByID(id string) store.GetUserParams { return store.GetUserParams{ID: id} }

func consumeParams(hash string, now time.Time) store.ConsumeRefreshTokenParams {
	return store.ConsumeRefreshTokenParams{Hash: hash, Now: now}
}
