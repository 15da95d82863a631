package sqlstore

import "testing"

// TestQNumbersPlaceholders: queries are written once with ?, and PostgreSQL
// gets $1, $2… in order; SQLite gets them as written.
func TestQNumbersPlaceholders(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		numbered, plain *Executor
	}

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		return &testBundle{numbered: &Executor{d: Dialect{Numbered: true}}, plain: &Executor{}}
	}

	tests := []struct {
		name, q, want string
	}{
		{"none", `SELECT COUNT(*) FROM users`, `SELECT COUNT(*) FROM users`},
		{"in order", `UPDATE t SET a = ?, b = ? WHERE id = ?`, `UPDATE t SET a = $1, b = $2 WHERE id = $3`},
		{"json cast", `INSERT INTO t (j) VALUES (?::text::jsonb)`, `INSERT INTO t (j) VALUES ($1::text::jsonb)`},
		{"past ten", `VALUES (?,?,?,?,?,?,?,?,?,?,?)`, `VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bundle := setup(t)
			if got := bundle.numbered.Q(tt.q); got != tt.want {
				t.Fatalf("numbered Q(%q) = %q, want %q", tt.q, got, tt.want)
			}
			if got := bundle.plain.Q(tt.q); got != tt.q {
				t.Fatalf("plain Q(%q) = %q, want it unchanged", tt.q, got)
			}
		})
	}
}
