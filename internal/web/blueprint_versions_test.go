package web

import (
	"net/url"
	"strings"
	"testing"
)

// A save whose answer carries warnings (defaults_disabled) says them in
// its flash; without warnings the flash is the plain one.
func TestSaveBlueprintWarnings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, answer, want string
	}{
		{"NoWarnings", `{"version":2,"events":{}}`, "Blueprint saved.<"},
		{"DefaultsDisabled", `{"version":2,"events":{},"warnings":[{"code":"defaults_disabled","message":"this blueprint sends none of the default events"}]}`,
			"Blueprint saved. Warning: this blueprint sends none of the default events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.api.respond["PUT /v1/admin/integrations/int_1/blueprint"] = fakeAnswer{200, tt.answer}
			br := b.signIn(t, "editor")
			p := br.post("/integrations/int_1/blueprint", url.Values{"version": {"2"}, "defaults_action": {"drop"}, "action": {"save"}})
			if p.status != 303 {
				t.Fatalf("save: status %d", p.status)
			}
			if p = br.get(p.header.Get("Location")); !strings.Contains(p.body, tt.want) {
				t.Fatalf("page after save lacks %q", tt.want)
			}
		})
	}
}
