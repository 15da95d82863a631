package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sync"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// A session is one login: its id is carried by every refresh token and
// access token that login leads to, so signing out (POST /auth/logout, the
// UI's Sign out) ends all of them, the access token a copied cookie holds
// included, not only the refresh token. A node reads a session's state at
// most once per UserCheckTTL; the node that signs it out refuses it at once.

// sessionCacheMax bounds the session cache by count (about 80 bytes an
// entry); sessions come only from successful logins.
const sessionCacheMax = 4096

type sessionCache struct {
	mu sync.Mutex
	m  map[string]cachedSession
}

type cachedSession struct {
	revoked bool
	until   time.Time
}

func newSessionID() (string, error) {
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("session id: %w", err)
	}
	return "ses_" + base64.RawURLEncoding.EncodeToString(raw), nil
}

// checkSession refuses an access token whose session was signed out.
// Tokens issued before sessions existed carry none and are not checked.
func (s *Server) checkSession(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	now := s.now()
	c := &s.sessions
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if !ok || !now.Before(e.until) {
		revoked, err := s.store.SessionRevoked(ctx, store.SessionRevokedParams{SessionID: id, Now: now})
		if err != nil {
			return err
		}
		e = cachedSession{revoked: revoked, until: now.Add(s.cfg.UserCheckTTL)}
		c.put(id, e, now)
	}
	if e.revoked {
		return signal.Errorf(signal.EUNAUTHORIZED, "this session was signed out; log in again")
	}
	return nil
}

// revokeSession signs a session out everywhere: recorded in the store
// until its last access token would expire, refused on this node at once.
func (s *Server) revokeSession(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	now := s.now()
	until := now.Add(s.cfg.AccessTTL + time.Minute) // a minute for clock skew between nodes
	if err := s.store.RevokeSession(ctx, store.RevokeSessionParams{SessionID: id, Until: until, Now: now}); err != nil {
		return err
	}
	s.sessions.put(id, cachedSession{revoked: true, until: until}, now)
	return nil
}

func (c *sessionCache) put(id string, e cachedSession, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]cachedSession{}
	}
	if len(c.m) >= sessionCacheMax {
		for k, v := range c.m {
			if !now.Before(v.until) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= sessionCacheMax {
			clear(c.m) // entries are only a cache of the store
		}
	}
	c.m[id] = e
}
