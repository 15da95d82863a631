package main

import "testing"

func TestGCSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		env         map[string]string
		wantPercent int
		wantLimit   int64
	}{
		{name: "defaults", env: nil, wantPercent: serveGOGC, wantLimit: serveMemLimit},
		{name: "operator's GOGC stands", env: map[string]string{"GOGC": "100"}, wantPercent: -1, wantLimit: serveMemLimit},
		{name: "operator's GOGC=off stands", env: map[string]string{"GOGC": "off"}, wantPercent: -1, wantLimit: serveMemLimit},
		{name: "operator's GOMEMLIMIT stands", env: map[string]string{"GOMEMLIMIT": "1GiB"}, wantPercent: serveGOGC, wantLimit: -1},
		{name: "both set", env: map[string]string{"GOGC": "50", "GOMEMLIMIT": "512MiB"}, wantPercent: -1, wantLimit: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			percent, limit := gcSettings(func(k string) string { return tt.env[k] })
			if percent != tt.wantPercent || limit != tt.wantLimit {
				t.Fatalf("gcSettings = %d, %d; want %d, %d", percent, limit, tt.wantPercent, tt.wantLimit)
			}
		})
	}
}
