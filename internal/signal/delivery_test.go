package signal

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

// TestEveryReasonHasASentence: each Reason* constant declared in this
// package has a sentence for Live Events (promise 2: every event not
// delivered says why, in words a marketer understands).
func TestEveryReasonHasASentence(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "delivery.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if !strings.HasPrefix(name.Name, "Reason") || i >= len(vs.Values) {
				continue
			}
			lit, ok := vs.Values[i].(*ast.BasicLit)
			if !ok {
				continue
			}
			code, _ := strconv.Unquote(lit.Value)
			found++
			if text := ReasonText(Reason(code)); text == "" || !strings.HasSuffix(text, ".") {
				t.Errorf("%s (%q) has no sentence for Live Events: %q", name.Name, code, text)
			}
		}
		return true
	})
	if found < 10 {
		t.Fatalf("found only %d reasons; the test no longer reads the constants", found)
	}
	if ReasonText("no_such_reason") != "" {
		t.Fatal("an unknown reason got a sentence")
	}
}
