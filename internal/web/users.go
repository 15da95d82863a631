package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

var roles = []string{"admin", "editor", "viewer"}

type usersPage struct {
	Users   []userJSON
	Roles   []string
	ListErr string
	Email   string
	Role    string
	Errors  map[string]string
}

func (s *server) showUsers(c *pageCtx, p usersPage, status int) {
	var list struct {
		Data []userJSON `json:"data"`
	}
	if err := c.get(s, "/v1/admin/users?limit=100", &list); err != nil {
		p.ListErr = err.Message
	}
	p.Users, p.Roles = list.Data, roles
	if p.Role == "" {
		p.Role = "viewer"
	}
	if p.Errors == nil {
		p.Errors = map[string]string{}
	}
	c.v.Title, c.v.Nav, c.v.Page = "Users", "users", p
	s.render(c.w, status, "users", c.v)
}

func (s *server) handleUsers(c *pageCtx) { s.showUsers(c, usersPage{}, http.StatusOK) }

func (s *server) handleInviteUser(c *pageCtx) {
	f := c.r.PostForm
	p := usersPage{Email: strings.TrimSpace(f.Get("email")), Role: f.Get("role"), Errors: map[string]string{}}
	res := c.send(s, http.MethodPost, "/v1/admin/users", map[string]string{"email": p.Email, "role": p.Role, "password": f.Get("password")})
	if res.err == nil {
		redirect(c.w, c.r, "/users", "User invited. Give them their email and initial password.")
		return
	}
	switch res.err.Field {
	case "email", "role", "password":
		p.Errors[res.err.Field] = res.err.Message
	default:
		c.v.FlashErr = res.err.Message
	}
	s.showUsers(c, p, res.err.Status)
}

func userPath(c *pageCtx) string { return "/v1/admin/users/" + url.PathEscape(c.r.PathValue("id")) }

func (s *server) handleChangeRole(c *pageCtx) {
	res := c.send(s, http.MethodPatch, userPath(c), map[string]string{"role": c.r.PostForm.Get("role")})
	if res.err == nil {
		redirect(c.w, c.r, "/users", "Role changed. It applies from the user's next sign-in or token refresh.")
		return
	}
	c.v.FlashErr = res.err.Message
	s.showUsers(c, usersPage{}, res.err.Status)
}

func (s *server) handleDeleteUserPage(c *pageCtx) {
	var u userJSON
	if err := c.get(s, userPath(c), &u); err != nil || u.Email == "" {
		// Not every API version can read one user: find it in the list.
		var list struct {
			Data []userJSON `json:"data"`
		}
		c.get(s, "/v1/admin/users?limit=100", &list)
		for _, x := range list.Data {
			if x.ID == c.r.PathValue("id") {
				u = x
			}
		}
	}
	if u.ID == "" {
		s.errorPage(c.w, c.v, http.StatusNotFound, "User not found", "No user has this id; it may have been deleted already.")
		return
	}
	c.v.Title, c.v.Nav = "Delete "+u.Email+"?", "users"
	c.v.Page = confirmPage{Heading: c.v.Title, Action: "/users/" + url.PathEscape(u.ID) + "/delete", Button: "Delete user", Cancel: "/users",
		Text: "They are signed out at once and can no longer sign in. This cannot be undone."}
	s.render(c.w, http.StatusOK, "confirm", c.v)
}

func (s *server) handleDeleteUser(c *pageCtx) {
	res := c.send(s, http.MethodDelete, userPath(c), nil)
	if res.err == nil {
		redirect(c.w, c.r, "/users", "User deleted.")
		return
	}
	c.v.FlashErr = res.err.Message
	s.showUsers(c, usersPage{}, res.err.Status)
}

type auditPage struct {
	Entries []auditEntry
	ListErr string
	Older   template.URL
}

func (s *server) handleAuditLog(c *pageCtx) {
	q := url.Values{"limit": {"50"}}
	if cur := c.r.URL.Query().Get("cursor"); cur != "" {
		q.Set("cursor", cur)
	}
	var list struct {
		Data       []auditEntry `json:"data"`
		NextCursor string       `json:"next_cursor"`
		HasMore    bool         `json:"has_more"`
	}
	p := auditPage{}
	if err := c.get(s, "/v1/admin/audit-log?"+q.Encode(), &list); err != nil {
		p.ListErr = err.Message
	}
	p.Entries = list.Data
	if list.HasMore && list.NextCursor != "" {
		p.Older = template.URL(url.Values{"cursor": {list.NextCursor}}.Encode())
	}
	c.v.Title, c.v.Nav, c.v.Page = "Audit log", "audit", p
	s.render(c.w, http.StatusOK, "auditlog", c.v)
}
