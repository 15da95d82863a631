package main

import (
	"testing"
	"time"
)

func TestIngestActivity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ago  time.Duration // since the last commit; 0: none yet
		want bool
	}{
		{"no commit yet", 0, false},
		{"a commit just now", time.Millisecond, true},
		{"the last commit before the quiet time", ingestQuiet + 50*time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var a ingestActivity
			if tt.ago > 0 {
				a.committed()
				a.last.Add(-int64(tt.ago))
			}
			if got := a.IngestActive(); got != tt.want {
				t.Fatalf("IngestActive() = %v, want %v", got, tt.want)
			}
		})
	}
}
