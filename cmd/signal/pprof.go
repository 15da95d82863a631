package main

import (
	"net/http"
	"net/http/pprof"
	"strings"
)

// withPprof serves net/http/pprof under /debug/pprof/ beside h. serve adds
// it on the admin listener only, and only when SIGNAL_PPROF=1: profiles show
// code paths and timings, not for the gateway's public port, nor on by
// default. `signal bench -pprof DIR` uses it.
func withPprof(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/debug/pprof/") {
			mux.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}
