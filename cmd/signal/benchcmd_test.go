package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestBenchCommand runs `signal bench` briefly against the binary: it
// starts serve, loads it and the no-op, waits for both sentinels and
// prints every figure with its ratio; with -pprof it leaves the server's
// CPU profiles.
func TestBenchCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, err := exec.Command(binary, "bench", "-duration", "1500ms", "-clients", "4", "-pprof", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("signal bench: %v\n%s", err, out)
	}
	for _, want := range []string{
		`no-op handler: \d+ then \d+ req/s \(\d+, \d+ per CPU-second`,
		`\| single .POST /v1/t. \| \d+ req/s \| \d+\.\d\d \| \d+, \d+\.\d\d \|`,
		`\| processor lag after the single run \| \d+\.\d\d s \|`,
		`\| batches of 20, .POST /v1/batch. \| \d+ events/s \| \d+\.\d\d \| \d+, \d+\.\d\d \|`,
		`\| processing over the batch run \+ drain \| \d+ events/s \(\d+ events in`,
		`\| processing during the drain alone \| -?\d+ events/s \(-?\d+ left`,
		`load average at start: \S+ \S+ \S+`,
	} {
		if !regexp.MustCompile(want).Match(out) {
			t.Fatalf("output has no line matching %s:\n%s", want, out)
		}
	}
	for _, phase := range []string{"single", "batch", "drain"} {
		if fi, err := os.Stat(dir + "/cpu-" + phase + ".pprof"); err != nil || fi.Size() == 0 {
			t.Fatalf("profile of %s: %v", phase, err)
		}
	}
}

// TestPprofOnlyWhenAsked: /debug/pprof/ answers on the admin listener with
// SIGNAL_PPROF=1 only, and never on the gateway.
func TestPprofOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		env       []string
		wantAdmin bool
	}{
		{"off by default", nil, false},
		{"on with SIGNAL_PPROF=1", []string{"SIGNAL_PPROF=1"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := start(t, t.TempDir(), tt.env...)
			for _, c := range []struct {
				addr string
				want bool
			}{{n.admin, tt.wantAdmin}, {n.gateway, false}} {
				// The admin listener also serves the UI, which answers an
				// unknown page (or sends a visitor to sign in): what
				// matters is whether pprof's index is what comes back.
				resp, err := http.Get("http://" + c.addr + "/debug/pprof/")
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				served := resp.StatusCode == http.StatusOK && strings.Contains(string(body), "goroutine?debug=")
				if served != c.want {
					t.Fatalf("GET %s/debug/pprof/: %d, pprof index served %v, want %v", c.addr, resp.StatusCode, served, c.want)
				}
			}
		})
	}
}
