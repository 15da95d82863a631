package main

import (
	"context"
	"net/http"
	"time"

	"github.com/signalhq/signal/internal/store"
)

// opsHandler answers GET /healthz (the process is up) and GET /readyz (the
// store answers; migrations were applied when it was opened, or serve would
// not have started) before next, and GET /metrics when metrics is set (the
// admin listener). None needs a login.
func opsHandler(next http.Handler, db store.EventStore, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		if _, err := db.Cursor(ctx, store.CursorParams{Name: store.ProcessorCursor}); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"status":"unavailable","error":{"code":"STORE_UNAVAILABLE","message":"the store does not answer"}}`))
			return
		}
		w.Write([]byte(`{"status":"ready"}`))
	})
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	mux.Handle("/", next)
	return mux
}
