package main

import (
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/store/postgres/postgrestest"
)

// TestTwoNodesSharePostgres runs two signal processes on one PostgreSQL
// database: a pipeline made on one and an integration installed on the
// other serve both, and events sent to either node are each delivered once
// (the nodes' processors and delivery workers share the work without
// doubling it).
func TestTwoNodesSharePostgres(t *testing.T) {
	t.Parallel()
	db := postgrestest.NewDatabase(t)
	url := db.NewSchemaURL(t)
	omni := newFakeOmnisend(t)
	env := []string{"DATABASE_URL=" + url, "JWT_SECRET=" + strings.Repeat("j", 40),
		"ENCRYPTION_KEY=" + strings.Repeat("ab", 32), "SIGNAL_OMNISEND_API_URL=" + omni.URL}
	a := start(t, t.TempDir(), env...)
	b := start(t, t.TempDir(), env...)
	tok := a.login(t)
	key := a.pipeline(t, tok)
	if code := b.call(t, "POST", "http://"+b.admin+"/v1/admin/integration-catalog/omnisend/install", b.login(t), pageInstallBody, nil); code != 201 {
		t.Fatalf("install on node b: %d", code)
	}
	for i, n := range []*node{a, b, a, b} {
		n.send(t, "/v1/t", key, `{"userId":"u1","event":"Signed Up","messageId":"pg-`+string(rune('a'+i))+`","context":{"traits":{"email":"pg@example.com"}}}`)
	}
	omni.waitFor(t, 4)
	time.Sleep(500 * time.Millisecond)
	if bodies, _ := omni.received(); len(bodies) != 4 {
		t.Fatalf("Omnisend received %d events from two nodes, want each of 4 once", len(bodies))
	}
}
