package admin

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/token"
)

// userView is a user as the API shows it: never the password or its hash.
type userView struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

func viewUser(u *signal.User) userView {
	return userView{ID: u.ID, Email: u.Email, Role: u.Role, CreatedAt: u.CreatedAt}
}

func validRole(role string) error {
	if role == "" {
		return signal.FieldErrorf(signal.EINVALID, "role", "role is required: admin, editor or viewer")
	}
	if !signal.ValidRole(role) {
		return signal.FieldErrorf(signal.EINVALID, "role", "role %s is not one of admin, editor, viewer", strconv.Quote(role))
	}
	return nil
}

// validEmail normalises an email (emails are compared case-insensitively).
func validEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return "", signal.FieldErrorf(signal.EINVALID, "email", "email is required")
	}
	at := strings.IndexByte(email, '@')
	if at < 1 || at == len(email)-1 || len(email) > 254 || strings.ContainsAny(email, " \t\r\n") {
		return "", signal.FieldErrorf(signal.EINVALID, "email", "email is not an email address")
	}
	return email, nil
}

func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		Role     string `json:"role"`
	}
	if err := decode(r, &in); err != nil {
		writeErr(w, err)
		return
	}
	email, err := validEmail(in.Email)
	if err != nil {
		writeErr(w, err)
		return
	}
	if err := validRole(in.Role); err != nil {
		writeErr(w, err)
		return
	}
	hash, err := HashPassword(in.Password, s.cfg.PasswordCost)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	u := &signal.User{ID: newID("usr_", 16), Email: email, PasswordHash: hash, Role: in.Role, CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	if err := s.store.CreateUser(r.Context(), store.CreateUserParams{User: u}); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, auditUserCreate, "user", u.ID, "Created user "+u.Email+" with role "+u.Role)
	writeJSON(w, http.StatusCreated, viewUser(u))
}

func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) {
	cursor, limit, err := pageParams(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	us, err := s.store.ListUsers(r.Context(), store.ListParams{After: cursor, Limit: limit + 1})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pageOf(us, limit, func(u *signal.User) string { return u.ID }, viewUser))
}

func (s *Server) handleUpdateUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Role     *string `json:"role"`
		Password *string `json:"password"`
	}
	if err := decode(r, &in); err != nil {
		writeErr(w, err)
		return
	}
	if in.Role == nil && in.Password == nil {
		writeError(w, http.StatusBadRequest, signal.EINVALID, "nothing to change: send role and/or password", "")
		return
	}
	p := store.UpdateUserParams{ID: r.PathValue("id"), Role: in.Role}
	var changes []string
	if in.Role != nil {
		if err := validRole(*in.Role); err != nil {
			writeErr(w, err)
			return
		}
		changes = append(changes, "role set to "+*in.Role)
	}
	if in.Password != nil {
		hash, err := HashPassword(*in.Password, s.cfg.PasswordCost)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p.PasswordHash = &hash
		// Every other session of the user ends; one changing their own
		// password stays signed in here.
		if c, ok := r.Context().Value(ctxKey{}).(*token.Claims); ok && c.Subject == p.ID {
			p.KeepSessionID = c.SessionID
		}
		changes = append(changes, "password replaced")
	}
	u, err := s.store.UpdateUser(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.forgetUser(u.ID)
	s.audit(r, auditUserUpdate, "user", u.ID, "Changed user "+u.Email+": "+strings.Join(changes, ", "))
	writeJSON(w, http.StatusOK, viewUser(u))
}

func (s *Server) handleDeleteUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.store.DeleteUser(r.Context(), store.DeleteUserParams{ID: id}); err != nil {
		s.fail(w, r, err)
		return
	}
	// Refresh tokens went with the user; access tokens stop at once on
	// this node and within UserCheckTTL on the others.
	s.forgetUser(id)
	s.audit(r, auditUserDelete, "user", id, "Deleted user "+id)
	w.WriteHeader(http.StatusNoContent)
}
