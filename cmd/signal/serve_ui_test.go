package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestAdminHandlerRoutes(t *testing.T) {
	t.Parallel()
	named := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(name)) })
	}
	h := adminHandler(named("api"), named("ui"))
	tests := []struct{ path, want string }{
		{"/v1/admin/pipelines", "api"}, {"/v1/admin/auth/login", "api"}, {"/healthz", "api"},
		{"/", "ui"}, {"/integrations", "ui"}, {"/ui/api/live-events", "ui"}, {"/static/app.css", "ui"},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
		if rec.Body.String() != tt.want {
			t.Errorf("%s served by %q, want %q", tt.path, rec.Body.String(), tt.want)
		}
	}
}

func TestGatewayURLFromAddr(t *testing.T) {
	t.Parallel()
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 18080}
	tests := []struct{ configured, want string }{
		{":8080", ""}, {"0.0.0.0:8080", ""}, {"[::]:8080", ""},
		{"127.0.0.1:0", "http://127.0.0.1:18080"}, {"collect.example.com:8080", "http://collect.example.com:18080"},
	}
	for _, tt := range tests {
		if got := gatewayURL(addr, tt.configured); got != tt.want {
			t.Errorf("gatewayURL(%q) = %q, want %q", tt.configured, got, tt.want)
		}
	}
	if got := portOf(addr); got != "18080" {
		t.Errorf("portOf = %q", got)
	}
}
