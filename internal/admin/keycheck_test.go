package admin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/signalhq/signal/internal/integration/omnisend"
	"github.com/signalhq/signal/internal/signal"
)

// TestCheckKeyOmnisend: the install's key check with Omnisend's answers. A
// 401 refuses the install naming config.api_key; 403 (a key without read
// scope), a 5xx or no answer install with one key_check warning; a dry run
// sends nothing, so checks nothing.
func TestCheckKeyOmnisend(t *testing.T) {
	t.Parallel()
	answers := map[string]int{"Key-Ok-0123456789": 200, "Key-Revoked-012345": 401, "Key-NoScope-012345": 403, "Key-Flaky-01234567": 503}
	var checked atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		checked.Add(1)
		if r.Method != http.MethodGet || r.URL.Path != omnisend.BrandsPath {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(answers[r.Header.Get("X-API-KEY")])
	}))
	t.Cleanup(srv.Close)

	tests := []struct {
		name, base, key string
		dryRun          bool
		refused, warned bool
	}{
		{name: "accepted", base: srv.URL, key: "Key-Ok-0123456789"},
		{name: "401 refuses", base: srv.URL, key: "Key-Revoked-012345", refused: true},
		{name: "403 warns", base: srv.URL, key: "Key-NoScope-012345", warned: true},
		{name: "5xx warns", base: srv.URL, key: "Key-Flaky-01234567", warned: true},
		{name: "no answer warns", base: "http://127.0.0.1:1", key: "Key-Ok-0123456789", warned: true},
		{name: "dry run is not checked", base: srv.URL, key: "Key-Revoked-012345", dryRun: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: checked counts this subtest's requests.
			before := checked.Load()
			cfg := map[string]any{"api_key": tt.key}
			if tt.dryRun {
				cfg["dry_run"] = true
			}
			warnings, err := checkKey(context.Background(), omnisend.New(omnisend.Options{BaseURL: tt.base}), cfg)
			switch {
			case tt.refused && signal.ErrorField(err) != "config.api_key":
				t.Fatalf("checkKey = %v, want a refusal naming config.api_key", err)
			case !tt.refused && err != nil:
				t.Fatalf("checkKey = %v, want the install to go on", err)
			case tt.warned && (len(warnings) != 1 || warnings[0].Code != "key_check" || warnings[0].Message == ""):
				t.Fatalf("warnings = %+v, want one key_check warning", warnings)
			case !tt.warned && len(warnings) != 0:
				t.Fatalf("warnings = %+v, want none", warnings)
			}
			if tt.dryRun && checked.Load() != before {
				t.Fatal("a dry-run install called Omnisend")
			}
		})
	}
}
