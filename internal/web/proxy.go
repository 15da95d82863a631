package web

import (
	"io"
	"net/http"
	"strings"
)

// handleProxy gives the page's JavaScript the API under its own origin:
// /ui/api/<rest> is /v1/admin/<rest> with the session's token. A request
// that changes something must carry the session's CSRF token in
// X-CSRF-Token. The answer streams through, so the Live Events stream
// (text/event-stream) reaches the browser as it is written.
func (s *server) handleProxy(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	sess := readSession(r)
	if sess == nil || sess.Access == "" {
		writeProxyError(w, http.StatusUnauthorized, "UNAUTHORIZED", "sign in again")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !sess.validCSRF(r.Header.Get("X-CSRF-Token")) {
		writeProxyError(w, http.StatusForbidden, "CSRF", "missing or wrong X-CSRF-Token; reload the page")
		return
	}
	if accessExpired(sess.Access, s.now()) && !s.renew(w, r, sess) {
		writeProxyError(w, http.StatusUnauthorized, "UNAUTHORIZED", "your session has ended; sign in again")
		return
	}
	path := "/v1/admin/" + strings.TrimPrefix(r.URL.Path, "/ui/api/")
	req, err := http.NewRequestWithContext(r.Context(), r.Method, path, io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeProxyError(w, http.StatusBadRequest, "INVALID", "bad path")
		return
	}
	req.URL.RawQuery = r.URL.RawQuery
	req.RemoteAddr = r.RemoteAddr
	req.Header.Set("Authorization", "Bearer "+sess.Access)
	if ct := r.Header.Get("Content-Type"); ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Accept", r.Header.Get("Accept"))
	s.api.ServeHTTP(w, req)
}

func writeProxyError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, `{"error":{"code":"`+code+`","message":"`+msg+`"}}`)
}
