package omnisend

import (
	"strings"
	"testing"

	"github.com/signalhq/signal/internal/signal"
)

func TestValidateConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cfg       map[string]any
		wantField string
	}{
		{name: "page example", cfg: map[string]any{"api_key": "AjWvksZpTG4JZBdc4xxxxxxxx"}},
		{name: "all settings", cfg: map[string]any{"api_key": testAPIKey, "default_phone_region": "GB", "dry_run": true}},
		{name: "lower-case region", cfg: map[string]any{"api_key": testAPIKey, "default_phone_region": "gb"}},
		{name: "empty optional settings", cfg: map[string]any{"api_key": testAPIKey, "default_phone_region": "", "dry_run": nil}},
		{name: "api_version v5", cfg: map[string]any{"api_key": testAPIKey, "api_version": "v5"}},
		{name: "api_version dated", cfg: map[string]any{"api_key": testAPIKey, "api_version": "2026-03-15"}},
		{name: "api_version null", cfg: map[string]any{"api_key": testAPIKey, "api_version": nil}},
		{name: "api_version v3", cfg: map[string]any{"api_key": testAPIKey, "api_version": "v3"}, wantField: "config.api_version"},
		{name: "api_version v-prefixed date", cfg: map[string]any{"api_key": testAPIKey, "api_version": "v2026-03-15"}, wantField: "config.api_version"},
		{name: "api_version not a date", cfg: map[string]any{"api_key": testAPIKey, "api_version": "2026-13-45"}, wantField: "config.api_version"},
		{name: "api_version number", cfg: map[string]any{"api_key": testAPIKey, "api_version": 5}, wantField: "config.api_version"},
		{name: "nil config", cfg: nil, wantField: "config.api_key"},
		{name: "missing key", cfg: map[string]any{"dry_run": true}, wantField: "config.api_key"},
		{name: "missing key before unknown", cfg: map[string]any{"apikey": testAPIKey}, wantField: "config.api_key"},
		{name: "empty key", cfg: map[string]any{"api_key": ""}, wantField: "config.api_key"},
		{name: "blank key", cfg: map[string]any{"api_key": "   "}, wantField: "config.api_key"},
		{name: "key not a string", cfg: map[string]any{"api_key": 12345}, wantField: "config.api_key"},
		{name: "key with trailing newline", cfg: map[string]any{"api_key": testAPIKey + "\n"}, wantField: "config.api_key"},
		{name: "key with inner space", cfg: map[string]any{"api_key": "AjWvks ZpTG4JZBdc4Secret42"}, wantField: "config.api_key"},
		{name: "key with control char", cfg: map[string]any{"api_key": testAPIKey + "\x00"}, wantField: "config.api_key"},
		{name: "key non-ASCII", cfg: map[string]any{"api_key": testAPIKey + "é"}, wantField: "config.api_key"},
		{name: "key too long", cfg: map[string]any{"api_key": testAPIKey + strings.Repeat("x", 600)}, wantField: "config.api_key"},
		{name: "unknown region", cfg: map[string]any{"api_key": testAPIKey, "default_phone_region": "UK"}, wantField: "config.default_phone_region"},
		{name: "region too long", cfg: map[string]any{"api_key": testAPIKey, "default_phone_region": "GBR"}, wantField: "config.default_phone_region"},
		{name: "region not a string", cfg: map[string]any{"api_key": testAPIKey, "default_phone_region": 44}, wantField: "config.default_phone_region"},
		{name: "dry_run as string", cfg: map[string]any{"api_key": testAPIKey, "dry_run": "true"}, wantField: "config.dry_run"},
		{name: "unknown key", cfg: map[string]any{"api_key": testAPIKey, "list_id": "x"}, wantField: "config.list_id"},
		{name: "first unknown key in order", cfg: map[string]any{"api_key": testAPIKey, "zeta": 1, "alpha": 2}, wantField: "config.alpha"},
	}
	v := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := v.ValidateConfig(tt.cfg)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("ValidateConfig() = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ValidateConfig() = nil, want error on %s", tt.wantField)
			}
			if signal.ErrorCode(err) != signal.EINVALID || signal.ErrorField(err) != tt.wantField {
				t.Errorf("error = %v (field %q), want %s on %s", err, signal.ErrorField(err), signal.EINVALID, tt.wantField)
			}
			assertNoSecret(t, err.Error())
		})
	}
}

// assertNoSecret fails if msg carries the test key or a recognisable part
// of it.
func assertNoSecret(t *testing.T, msg string) {
	t.Helper()
	for _, part := range []string{testAPIKey, "AjWvks", "Secret42", "ZpTG4"} {
		if strings.Contains(msg, part) {
			t.Errorf("message %q carries (part of) the API key", msg)
		}
	}
}
