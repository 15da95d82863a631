package omnisend

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signalhq/signal/internal/signal"
)

func TestCheckKey(t *testing.T) {
	t.Parallel()
	// Omnisend's brands/current under both versions: 200 for the good
	// key, 403 for one without read scope, 401 for any other; 404 for a
	// request whose path and headers do not match its version.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var key string
		switch {
		case r.Method != http.MethodGet:
		case r.URL.Path == "/v5/brands/current" && r.Header.Get("Omnisend-Version") == "":
			key = r.Header.Get("X-API-KEY")
		case r.URL.Path == "/api/brands/current" && r.Header.Get("Omnisend-Version") == "2026-03-15" && r.Header.Get("X-API-KEY") == "":
			if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Omnisend-API-Key "); ok {
				key = a
			}
		}
		switch key {
		case "":
			w.WriteHeader(http.StatusNotFound)
		case testAPIKey:
			w.WriteHeader(http.StatusOK)
		case "EventsOnlyKey42":
			w.WriteHeader(http.StatusForbidden)
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)

	tests := []struct {
		name, base, key string
		version         string
		refused, warned bool
	}{
		{name: "accepted", base: srv.URL, key: testAPIKey},
		{name: "accepted, dated version", base: srv.URL, key: testAPIKey, version: "2026-03-15"},
		{name: "refused", base: srv.URL, key: "RevokedKeySecret42", refused: true},
		{name: "refused, dated version", base: srv.URL, key: "RevokedKeySecret42", version: "2026-03-15", refused: true},
		{name: "no read scope", base: srv.URL, key: "EventsOnlyKey42", warned: true},
		{name: "no answer", base: "http://127.0.0.1:1", key: testAPIKey, warned: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := map[string]any{"api_key": tt.key}
			if tt.version != "" {
				cfg["api_version"] = tt.version
			}
			err := New(Options{BaseURL: tt.base}).CheckKey(context.Background(), http.DefaultClient, cfg)
			field := signal.ErrorField(err)
			switch {
			case tt.refused && field != "config.api_key":
				t.Fatalf("CheckKey = %v, want a refusal naming config.api_key", err)
			case tt.warned && (err == nil || field != ""):
				t.Fatalf("CheckKey = %v, want an error that proves nothing (a warning)", err)
			case !tt.refused && !tt.warned && err != nil:
				t.Fatalf("CheckKey = %v, want nil", err)
			}
			if err != nil {
				assertNoSecret(t, err.Error())
				if tt.key != testAPIKey && strings.Contains(err.Error(), tt.key) {
					t.Fatalf("CheckKey error quotes the key: %v", err)
				}
			}
		})
	}
}
