package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// openCaching opens a one-connection database over the caching connector,
// so that every statement below runs on the same connection and its cache.
func openCaching(t *testing.T) (*sql.DB, *cachingConn) {
	t.Helper()
	db, err := openOne(context.Background(), cachingConnector{}, "file:"+filepath.ToSlash(filepath.Join(t.TempDir(), "c.db")), 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var cc *cachingConn
	if err := conn.Raw(func(dc any) error { cc = dc.(*cachingConn); return nil }); err != nil {
		t.Fatal(err)
	}
	return db, cc
}

func TestStmtCache(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(t *testing.T, db *sql.DB, cc *cachingConn)
	}{
		{"a statement run twice is prepared once", func(t *testing.T, db *sql.DB, cc *cachingConn) {
			for i := range 3 {
				if _, err := db.Exec(`INSERT INTO t (id, v) VALUES (?, ?)`, i, "x"); err != nil {
					t.Fatal(err)
				}
			}
			if _, ok := cc.byQuery[`INSERT INTO t (id, v) VALUES (?, ?)`]; !ok {
				t.Fatal("insert not cached")
			}
			var n int
			if err := db.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n); err != nil || n != 3 {
				t.Fatalf("count = %d, %v; want 3", n, err)
			}
		}},
		{"the same query while its rows are open gets its own statement", func(t *testing.T, db *sql.DB, cc *cachingConn) {
			tx, err := db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			for i := range 3 {
				if _, err := tx.Exec(`INSERT INTO t (id, v) VALUES (?, ?)`, i, fmt.Sprint("v", i)); err != nil {
					t.Fatal(err)
				}
			}
			const q = `SELECT v FROM t WHERE id >= ? ORDER BY id`
			outer, err := tx.Query(q, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for outer.Next() {
				var v string
				if err := outer.Scan(&v); err != nil {
					t.Fatal(err)
				}
				var inner string
				if err := tx.QueryRow(q, 2).Scan(&inner); err != nil || inner != "v2" {
					t.Fatalf("inner = %q, %v; want v2", inner, err)
				}
				got = append(got, v)
			}
			if err := outer.Close(); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != "[v0 v1 v2]" {
				t.Fatalf("outer rows = %v, want [v0 v1 v2]", got)
			}
			if cc.byQuery[q].Value.(*cachedStmt).busy {
				t.Fatal("statement still busy after its rows closed")
			}
		}},
		{"the cache keeps at most stmtCacheSize statements, evicting the least recent", func(t *testing.T, db *sql.DB, cc *cachingConn) {
			for i := range stmtCacheSize + 10 {
				if _, err := db.Exec(fmt.Sprintf(`INSERT OR REPLACE INTO t (id, v) VALUES (%d, ?)`, i), "x"); err != nil {
					t.Fatal(err)
				}
			}
			if cc.lru.Len() > stmtCacheSize || len(cc.byQuery) != cc.lru.Len() {
				t.Fatalf("cache holds %d (index %d), want at most %d", cc.lru.Len(), len(cc.byQuery), stmtCacheSize)
			}
			if _, ok := cc.byQuery[`INSERT OR REPLACE INTO t (id, v) VALUES (0, ?)`]; ok {
				t.Fatal("the oldest statement is still cached")
			}
		}},
		{"the cache keeps at most stmtCacheText bytes of statement text", func(t *testing.T, db *sql.DB, cc *cachingConn) {
			pad := strings.Repeat(" ", stmtCacheText/4)
			for i := range 6 {
				if _, err := db.Exec(fmt.Sprintf(`INSERT OR REPLACE INTO t (id, v) VALUES (%d, ?)`, i)+pad, "x"); err != nil {
					t.Fatal(err)
				}
			}
			text := 0
			for q := range cc.byQuery {
				text += len(q)
			}
			if text > stmtCacheText || text != cc.text {
				t.Fatalf("cache holds %d bytes of text (counted %d), want at most %d", text, cc.text, stmtCacheText)
			}
		}},
		{"an evicted statement whose rows are open is closed with them", func(t *testing.T, db *sql.DB, cc *cachingConn) {
			if _, err := db.Exec(`INSERT INTO t (id, v) VALUES (1, 'a'), (2, 'b')`); err != nil {
				t.Fatal(err)
			}
			tx, err := db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			rows, err := tx.Query(`SELECT v FROM t ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			for i := range stmtCacheSize + 1 {
				if _, err := tx.Exec(fmt.Sprintf(`UPDATE t SET v = v WHERE id = %d`, i)); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			for rows.Next() {
				var v string
				if err := rows.Scan(&v); err != nil {
					t.Fatal(err)
				}
				got = append(got, v)
			}
			if err := rows.Close(); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != "[a b]" {
				t.Fatalf("rows = %v, want [a b]", got)
			}
		}},
		{"a cached statement sees a column added after it was prepared", func(t *testing.T, db *sql.DB, cc *cachingConn) {
			const q = `SELECT * FROM t WHERE id = ?`
			if _, err := db.Exec(`INSERT INTO t (id, v) VALUES (1, 'a')`); err != nil {
				t.Fatal(err)
			}
			var (
				id int
				v  string
			)
			if err := db.QueryRow(q, 1).Scan(&id, &v); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`ALTER TABLE t ADD COLUMN w TEXT NOT NULL DEFAULT 'new'`); err != nil {
				t.Fatal(err)
			}
			var w string
			if err := db.QueryRow(q, 1).Scan(&id, &v, &w); err != nil || w != "new" {
				t.Fatalf("w = %q, %v; want new", w, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, cc := openCaching(t)
			tt.run(t, db, cc)
		})
	}
}
