package klaviyo_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/integration/klaviyo"
	"github.com/signalhq/signal/internal/signal"
)

var _ integration.KeyChecker = (*klaviyo.Vendor)(nil)

func TestCheckKey(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/api/accounts" || r.Header.Get("revision") != klaviyo.Revision {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		switch r.Header.Get("Authorization") {
		case "Klaviyo-API-Key pk_good":
			w.WriteHeader(http.StatusOK)
		case "Klaviyo-API-Key pk_noscope":
			w.WriteHeader(http.StatusForbidden)
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name, base, key string
		refused, warned bool
	}{
		{"accepted", srv.URL, "pk_good", false, false},
		{"refused", srv.URL, "pk_revoked", true, false},
		{"no scope to check", srv.URL, "pk_noscope", false, true},
		{"no answer", "http://127.0.0.1:1", "pk_good", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := klaviyo.New(klaviyo.Options{BaseURL: tt.base}).CheckKey(context.Background(), http.DefaultClient, map[string]any{"api_key": tt.key})
			se, isField := err.(*signal.Error)
			switch {
			case tt.refused && (!isField || se.Field != "config.api_key"):
				t.Fatalf("CheckKey = %v, want a refusal naming config.api_key", err)
			case tt.warned && (err == nil || isField):
				t.Fatalf("CheckKey = %v, want an error that proves nothing (a warning)", err)
			case !tt.refused && !tt.warned && err != nil:
				t.Fatalf("CheckKey = %v, want nil", err)
			}
			if err != nil && strings.Contains(err.Error(), tt.key) {
				t.Fatalf("CheckKey error quotes the key: %v", err)
			}
		})
	}
}
