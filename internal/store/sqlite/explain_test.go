package sqlite

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/storetest"
)

// explain returns SQLite's query plan of q, one line per step.
func explain(t *testing.T, db *DB, q string, args []any) string {
	t.Helper()
	rows, err := db.read.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", q, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	return strings.Join(lines, "\n")
}

// TestLiveQueriesUseIndexes: each Live Events filter and the health
// queries seek an index rather than scan a table (issue 8: a filter walked
// all 225k events).
func TestLiveQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	db, err := Open(context.Background(), Options{Path: t.TempDir() + "/signal.db", Cipher: storetest.Cipher()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// The planner chooses with statistics; give it some.
	if _, err := db.write.Exec(`ANALYZE`); err != nil {
		t.Fatal(err)
	}
	list := func(p store.ListLiveEventsParams) (string, []any) {
		q, args, err := db.LiveListQuery(p, 51)
		if err != nil {
			t.Fatal(err)
		}
		return q, args
	}
	tests := []struct {
		name string
		p    store.ListLiveEventsParams
		want string // an index the plan must use
	}{
		{"search", store.ListLiveEventsParams{SearchKeys: []string{"a", "b", "c"}}, "event_search"},
		{"integration", store.ListLiveEventsParams{IntegrationID: "int_a"}, "deliveries_integration"},
		{"reason", store.ListLiveEventsParams{Reason: "no_identifier"}, "deliveries_reason"},
		{"failed", store.ListLiveEventsParams{Status: "failed"}, "deliveries_failed_seq"},
		{"pipeline", store.ListLiveEventsParams{PipelineID: "pip_1"}, "events_pipeline"},
		{"event", store.ListLiveEventsParams{Event: "Order Completed"}, "events_event"},
		{"type", store.ListLiveEventsParams{Type: "identify"}, "events_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q, args := list(tt.p)
			plan := explain(t, db, q, args)
			if !strings.Contains(plan, tt.want) || strings.Contains(plan, "TEMP B-TREE FOR ORDER BY") {
				t.Fatalf("plan of %s does not use %s or sorts every match:\n%s", tt.name, tt.want, plan)
			}
			t.Logf("%s:\n%s", tt.name, plan)
		})
	}
	// The counts read the list's first rows in its order (a window of
	// 10,000 in the Management API): the same indexes, no sort of every
	// match, and, with no filter, the log's own order.
	counts := append(tests[:3:3], tests[4:]...)
	counts = append(counts, struct {
		name string
		p    store.ListLiveEventsParams
		want string
	}{"unfiltered", store.ListLiveEventsParams{}, "SCAN e\n"})
	for _, tt := range counts {
		t.Run("counts/"+tt.name, func(t *testing.T) {
			t.Parallel()
			tt.p.Limit = 10_000
			q, args, err := db.LiveCountQuery(tt.p)
			if err != nil {
				t.Fatal(err)
			}
			plan := explain(t, db, q, args) + "\n"
			if !strings.Contains(plan, tt.want) || strings.Contains(plan, "TEMP B-TREE FOR ORDER BY") {
				t.Fatalf("plan of the counts by %s does not use %s or sorts every match:\n%s", tt.name, tt.want, plan)
			}
		})
	}
	t.Run("health", func(t *testing.T) {
		t.Parallel()
		now := ms(time.Now())
		plan := explain(t, db, `SELECT status, COUNT(*) FROM deliveries WHERE integration_id = ? AND updated_at >= ? AND updated_at <= ?
			AND status IN ('delivered', 'filtered', 'failed') GROUP BY status`, []any{"int_a", now - 86400_000, now})
		if !strings.Contains(plan, "COVERING INDEX deliveries_outcomes") {
			t.Fatalf("health outcomes plan:\n%s", plan)
		}
		plan = explain(t, db, `SELECT COUNT(*), MIN(id) FROM deliveries INDEXED BY deliveries_queue
			WHERE integration_id = ? AND status = 'pending'`, []any{"int_a"})
		if !strings.Contains(plan, "COVERING INDEX deliveries_queue") {
			t.Fatalf("backlog plan:\n%s", plan)
		}
	})
}
