package admin

import (
	"strings"
	"testing"
)

func TestInstallDuplicateKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   string
		status int
	}{
		{"same key refused", installBody(pageAPIKey), 409},
		{"same key confirmed", `{"config":{"api_key":"` + pageAPIKey + `"},"confirm_duplicate":true}`, 201},
		{"other key", installBody("AnotherKeyOfTwentyFive0000"), 201},
		{"same key, confirm false", `{"config":{"api_key":"` + pageAPIKey + `"},"confirm_duplicate":false}`, 409},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)

			b.install(t, pageInstallBody)
			code, body := b.raw(t, "POST", "/v1/admin/integration-catalog/omnisend/install", tt.body)
			if code != tt.status {
				t.Fatalf("second install = %d, want %d: %s", code, tt.status, body)
			}
			if tt.status == 201 {
				rows, _ := b.auditLog(t)
				confirmed := strings.Contains(rows[0].Summary, "(confirmed)")
				if rows[0].Action != "integration.install" || confirmed != strings.Contains(tt.name, "confirmed") {
					t.Fatalf("audit entry of the install = %+v", rows[0])
				}
				return
			}
			var e apiError
			jsonUnmarshal(body, &e)
			if e.Error.Code != "CONFLICT" || e.Error.Field != "config.api_key" || !strings.Contains(e.Error.Message, "every event twice") {
				t.Fatalf("error = %+v", e.Error)
			}
			if strings.Contains(body, pageAPIKey) || strings.Contains(body, pageAPIKey[len(pageAPIKey)-6:]) {
				t.Fatalf("the conflict echoes the key: %s", body)
			}
			var list page[integrationView]
			if b.call(t, "GET", "/v1/admin/integrations", "", &list); len(list.Data) != 1 {
				t.Fatalf("refused install left %d integrations", len(list.Data))
			}
		})
	}
}
