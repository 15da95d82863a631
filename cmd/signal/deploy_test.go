package main

import (
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/signalhq/signal/internal/metrics"
)

// repoRoot is where the Dockerfile and deploy/ are.
const repoRoot = "../.."

// shellWords splits a command line as sh would for plain words and
// double-quoted strings (what the Dockerfile's go build line uses).
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, c := range s {
		switch {
		case c == '"':
			quoted, inWord = !quoted, true
		case (c == ' ' || c == '\t') && !quoted:
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// TestDockerfileBuildsStaticBinary: Docker is not available here, so the
// Dockerfile's own go build line (CGO_ENABLED=0) is run as it stands, and
// the binary must be static (no ELF interpreter, no shared library) and
// report the version passed in; the image runs it as a non-root user with a
// volume and a health check the binary answers itself.
func TestDockerfileBuildsStaticBinary(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	dockerfile := string(raw)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^FROM golang:\S+ AS build$`), regexp.MustCompile(`(?m)^FROM scratch$`),
		regexp.MustCompile(`(?m)^USER 65532:65532$`), regexp.MustCompile(`(?m)^VOLUME \["/data"\]$`),
		regexp.MustCompile(`(?m)^HEALTHCHECK .*CMD \["/signal", "healthcheck"\]$`), regexp.MustCompile(`(?m)^ENV SIGNAL_DATA_DIR=/data`),
	} {
		if !want.MatchString(dockerfile) {
			t.Errorf("the Dockerfile lacks %s", want)
		}
	}
	line := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0 go build .*)$`).FindStringSubmatch(dockerfile)
	if line == nil {
		t.Fatal("the Dockerfile has no RUN CGO_ENABLED=0 go build line")
	}
	words := shellWords(strings.ReplaceAll(line[1], "${VERSION}", "v9.9.9-docker-test"))
	out := filepath.Join(t.TempDir(), "signal")
	for i, w := range words {
		if w == "-o" {
			words[i+1] = out
		}
	}
	cmd := exec.Command(words[1], words[2:]...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), words[0])
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line[1], err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary names an ELF interpreter: it is dynamically linked")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v", libs)
	}
	b, err := exec.Command(out, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(b), "signal v9.9.9-docker-test") || !strings.Contains(string(b), "commit ") {
		t.Errorf("signal version: %v %s", err, b)
	}

	// The health check answers 0 for a ready node, non-zero for none.
	n := start(t, t.TempDir())
	if code, out := runBinary(t, t.TempDir(), "", []string{"SIGNAL_ADMIN_ADDR=" + n.admin}, "healthcheck"); code != 0 {
		t.Errorf("healthcheck of a running node: exit %d: %s", code, out)
	}
	if code, out := runBinary(t, t.TempDir(), "", []string{"SIGNAL_ADMIN_ADDR=127.0.0.1:1"}, "healthcheck"); code == 0 || !strings.Contains(out, "not ready") {
		t.Errorf("healthcheck with nothing listening: exit %d: %s", code, out)
	}
}

// TestDeployNamesOnlyExportedMetrics: every series the Grafana dashboard
// and the Prometheus rules name is one Signal registers.
func TestDeployNamesOnlyExportedMetrics(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	known := map[string]bool{"up": true}
	for _, n := range m.Names() {
		known[n] = true
	}
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		known[f.GetName()] = true
	}
	exported := func(name string) bool {
		for _, suffix := range []string{"", "_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && known[base] {
				return true
			}
		}
		return false
	}
	metricName := regexp.MustCompile(`\b(?:signal|go|process)_[a-z_]+\b`)

	var exprs []string
	raw, err := os.ReadFile(filepath.Join(repoRoot, "deploy/grafana/signal-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	rules, err := os.ReadFile(filepath.Join(repoRoot, "deploy/prometheus/signal-alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// Rule expressions: "expr: …" and the indented lines of "expr: |".
	inBlock := false
	for _, l := range strings.Split(string(rules), "\n") {
		trimmed := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(trimmed, "expr: |"):
			inBlock = true
		case strings.HasPrefix(trimmed, "expr:"):
			exprs, inBlock = append(exprs, strings.TrimPrefix(trimmed, "expr:")), false
		case inBlock && strings.HasPrefix(l, "            "):
			exprs = append(exprs, trimmed)
		default:
			inBlock = false
		}
	}
	named := 0
	for _, e := range exprs {
		for _, name := range metricName.FindAllString(e, -1) {
			named++
			if !exported(name) {
				t.Errorf("deploy/ names %s, which Signal does not export (in %q)", name, e)
			}
		}
	}
	for _, contract := range []string{"signal_events_received_total", "signal_deliveries_total", "signal_delivery_backlog",
		"signal_delivery_oldest_pending_seconds", "signal_vendor_requests_total", "signal_vendor_request_duration_seconds"} {
		if !known[contract] {
			t.Errorf("the contract's %s is not registered", contract)
		}
	}
	if named < 20 {
		t.Errorf("only %d metric names found in the dashboard and the rules: the parsing missed them", named)
	}
}
