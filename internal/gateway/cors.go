package gateway

import (
	"net/http"
	"strings"
)

// cors sets CORS headers for an allowed origin and answers preflights. It
// reports whether the request was fully answered. An allowed origin is
// echoed (never "*") with credentials allowed, so Datafly.js can carry the
// _dfid cookie.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || !s.originAllowed(origin) {
		if r.Method == http.MethodOptions && origin != "" {
			w.WriteHeader(http.StatusForbidden)
			return true
		}
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
	// Datafly.js, on another origin, reads a 429's Retry-After to wait.
	h.Set("Access-Control-Expose-Headers", "Retry-After")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding, X-Timestamp, X-Signature")
		h.Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	return false
}

// originAllowed reports whether origin may read answers. "null" (sandboxed
// iframes, file: pages, some redirects) is never allowed, not even by "*":
// echoing it with credentials would let any such document read answers.
func (s *Server) originAllowed(origin string) bool {
	if strings.EqualFold(strings.TrimSpace(origin), "null") {
		return false
	}
	for _, o := range s.cfg.CORSOrigins {
		if o == "*" || strings.EqualFold(strings.TrimRight(o, "/"), origin) {
			return true
		}
	}
	return false
}
