package admin

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// adminOnly are the path prefixes only an admin may use, whatever the
// method.
var adminOnly = []string{"/v1/admin/users", "/v1/admin/alerts", "/v1/admin/audit-log", "/v1/admin/contacts/"}

// allowed is the role policy, the only place it is written: it says
// whether role may call the route registered as method and path (the
// ServeMux pattern, e.g. "/v1/admin/users/{id}"). An admin may do
// everything; an editor everything but the admin-only routes; a viewer
// only GETs, and not those of the admin-only routes either.
func allowed(role, method, path string) bool {
	if role == signal.RoleAdmin {
		return true
	}
	for _, p := range adminOnly {
		if path == strings.TrimSuffix(p, "/") || strings.HasPrefix(path, p) {
			return false
		}
	}
	switch role {
	case signal.RoleEditor:
		return true
	case signal.RoleViewer:
		return method == http.MethodGet || method == http.MethodHead
	}
	return false
}

// forbidden is the 403 for a route role may not use; it says what the
// role may do.
func forbidden(role string) error {
	switch role {
	case signal.RoleEditor:
		return signal.Errorf(signal.EFORBIDDEN, "your role, editor, may change pipelines, integrations and blueprints, send tests, replay and backfill history, but not manage users, alerts, contacts or the audit log; ask an admin")
	case signal.RoleViewer:
		return signal.Errorf(signal.EFORBIDDEN, "your role, viewer, may only read (lists, Live Events, health), not change anything, nor see users, alerts or the audit log; ask an admin")
	}
	return signal.Errorf(signal.EFORBIDDEN, "your token's role %q is not one of admin, editor, viewer; log in again", role)
}

// router is the API's mux. Routes are registered only through handle,
// which records each pattern: the route × role test iterates them, so no
// route escapes it.
type router struct {
	mux      *http.ServeMux
	patterns []string
}

func (rt *router) handle(pattern string, h http.HandlerFunc) {
	rt.patterns = append(rt.patterns, pattern)
	rt.mux.HandleFunc(pattern, h)
}

// userCacheMax bounds the user cache by count: at most 1024 users' entries
// (about 100 bytes each), far above the number of people who run one
// Signal.
const userCacheMax = 1024

// maxUserCheckTTL is the longest a deleted user's access token keeps
// working on a node (the contract allows 60 s).
const maxUserCheckTTL = 30 * time.Second

// userCache remembers for a short time whether a token's user exists (and
// their email, for the audit log), so that not every request reads the
// user, yet a deleted user's tokens stop working within the TTL.
type userCache struct {
	mu sync.Mutex
	m  map[string]cachedUser
}

type cachedUser struct {
	u     *signal.User // nil: the user does not exist
	until time.Time
}

// user returns the user id names (ENOTFOUND when deleted), from the cache
// while fresh.
func (s *Server) user(ctx context.Context, id string) (*signal.User, error) {
	now := s.now()
	c := &s.users
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if !ok || !now.Before(e.until) {
		u, err := s.store.GetUser(ctx, storeUserByID(id))
		if err != nil && signal.ErrorCode(err) != signal.ENOTFOUND {
			return nil, err
		}
		e = cachedUser{until: now.Add(s.cfg.UserCheckTTL)}
		if u != nil {
			e.u = &signal.User{ID: u.ID, Email: u.Email, Role: u.Role} // no password hash kept
		}
		c.mu.Lock()
		if len(c.m) >= userCacheMax {
			for k, v := range c.m {
				if !now.Before(v.until) {
					delete(c.m, k)
				}
			}
			if len(c.m) >= userCacheMax {
				clear(c.m)
			}
		}
		c.m[id] = e
		c.mu.Unlock()
	}
	if e.u == nil {
		return nil, signal.Errorf(signal.EUNAUTHORIZED, "the token's user no longer exists")
	}
	return e.u, nil
}

// forgetUser drops a user from this node's cache (deleted here: refused at
// once on this node, within the TTL on others).
func (s *Server) forgetUser(id string) {
	s.users.mu.Lock()
	delete(s.users.m, id)
	s.users.mu.Unlock()
}
