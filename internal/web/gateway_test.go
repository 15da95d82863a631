package web

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestGatewayURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cfg    Config
		host   string
		header map[string]string
		want   string
	}{
		{name: "configured", cfg: Config{GatewayURL: "https://collect.example.com/", GatewayPort: "8080"}, host: "admin.example.com:8084", want: "https://collect.example.com"},
		{name: "browser's host with the gateway port", cfg: Config{GatewayPort: "8080"}, host: "signal.internal:8084", want: "http://signal.internal:8080"},
		{name: "behind TLS", cfg: Config{GatewayPort: "8443"}, host: "signal.example.com", header: map[string]string{"X-Forwarded-Proto": "https"}, want: "https://signal.example.com:8443"},
		{name: "IPv6 host", cfg: Config{GatewayPort: "8080"}, host: "[::1]:8084", want: "http://[::1]:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &server{cfg: tt.cfg}
			r := httptest.NewRequest("GET", "/pipelines/pip_1", nil)
			r.Host = tt.host
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			if got := s.gatewayURL(r); got != tt.want {
				t.Errorf("gatewayURL = %q, want %q", got, tt.want)
			}
		})
	}
}

// The sidebar's dot shows only while an integration needs attention.
func TestHealthDot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, status string
		want         bool
	}{{"paused", "paused", true}, {"active", "active", false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			in := strings.Replace(fakeIntegration, `"status":"paused"`, `"status":"`+tt.status+`"`, 1)
			b.api.respond["GET /v1/admin/integrations"] = fakeAnswer{200, `{"data":[` + in + `]}`}
			p := b.signIn(t, "viewer").get("/live-events")
			if got := strings.Contains(p.body, "(needs attention)"); got != tt.want {
				t.Errorf("dot shown = %v, want %v", got, tt.want)
			}
		})
	}
}

// A disabled integration says so in its badge, whatever its status.
func TestDisabledBadge(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := strings.Replace(strings.Replace(fakeIntegration, `"enabled":true`, `"enabled":false`, 1), `"status":"paused"`, `"status":"active"`, 1)
	b.api.respond["GET /v1/admin/integrations"] = fakeAnswer{200, `{"data":[` + in + `]}`}
	b.api.respond["GET /v1/admin/integrations/int_1"] = fakeAnswer{200, in}
	br := b.signIn(t, "viewer")
	for _, path := range []string{"/integrations", "/integrations/int_1"} {
		p := br.get(path)
		if !strings.Contains(p.body, `<span class="badge status-disabled">disabled</span>`) || strings.Contains(p.body, `status-active">active<`) {
			t.Errorf("%s: no disabled badge", path)
		}
	}
}
