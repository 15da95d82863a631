package metrics

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// Gateway counts the gateway's answers by status code and logs refused
// requests at info: one line per status code and route every 10 s (with
// how many it stands for), naming the request id, never the body, the key
// or the client's address. Each answer carries X-Request-Id (the caller's,
// when it sent a short one, else a new one).
func (m *Metrics) Gateway(next http.Handler, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	refused := newSampler(10 * time.Second)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := requestID(r.Header.Get("X-Request-Id"))
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		code := strconv.Itoa(rec.status)
		m.gatewayResponses.WithLabelValues(code).Inc()
		if rec.status >= 400 && rec.status != http.StatusNotFound {
			route := r.URL.Path
			if len(route) > 32 {
				route = route[:32]
			}
			if n, ok := refused.allow(code + " " + route); ok {
				log.Info("gateway: request refused", "status", rec.status, "route", route, "request_id", id, "refused", n)
			}
		}
	})
}

// requestID keeps a caller's id made of safe characters (at most 64),
// else makes one.
func requestID(given string) string {
	if n := len(given); n > 0 && n <= 64 {
		ok := true
		for _, c := range given {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				ok = false
				break
			}
		}
		if ok {
			return given
		}
	}
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
