package web

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The page scripts parse (checked with node when it is installed), and
// none reads form.action or form.method: a control named "action" (the
// blueprint editor's buttons) shadows those properties.
func TestStaticJS(t *testing.T) {
	t.Parallel()
	names, err := fs.Glob(staticRoot, "*.js")
	if err != nil || len(names) < 5 {
		t.Fatalf("scripts %v: %v", names, err)
	}
	shadowed := regexp.MustCompile(`\bform\.(action|method)\b`)
	node, _ := exec.LookPath("node")
	dir := t.TempDir()
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			t.Parallel()
			b, err := fs.ReadFile(staticRoot, n)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(string(b), "\n") {
				if shadowed.MatchString(line) && !strings.Contains(line, "//") {
					t.Errorf("%s:%d reads a form property a named control can shadow: %s", n, i+1, strings.TrimSpace(line))
				}
			}
			if node == "" {
				t.Skip("node not installed: syntax not checked")
			}
			p := filepath.Join(dir, n)
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(node, "--check", p).CombinedOutput(); err != nil {
				t.Errorf("%s does not parse: %v\n%s", n, err, out)
			}
		})
	}
}
