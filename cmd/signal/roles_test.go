package main

import (
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/store/postgres/postgrestest"
)

// TestRolesSplitGatewayAndWorker: on PostgreSQL a gateway node stores
// events and delivers nothing; a worker node started later processes and
// delivers them, and takes no events itself. Both answer the management API and /readyz.
func TestRolesSplitGatewayAndWorker(t *testing.T) {
	t.Parallel()
	db := postgrestest.NewDatabase(t)
	omni := newFakeOmnisend(t)
	env := []string{"DATABASE_URL=" + db.NewSchemaURL(t), "JWT_SECRET=" + strings.Repeat("r", 40),
		"ENCRYPTION_KEY=" + strings.Repeat("cd", 32), "SIGNAL_OMNISEND_API_URL=" + omni.URL}
	gw := start(t, t.TempDir(), append(env, "SIGNAL_ROLE=gateway")...)
	tok := gw.login(t)
	key := gw.pipeline(t, tok)
	if code := gw.call(t, "POST", "http://"+gw.admin+"/v1/admin/integration-catalog/omnisend/install", tok, pageInstallBody, nil); code != 201 {
		t.Fatalf("install: %d", code)
	}
	for _, id := range []string{"role-1", "role-2"} {
		gw.send(t, "/v1/t", key, `{"userId":"u1","event":"Signed Up","messageId":"`+id+`","context":{"traits":{"email":"roles@example.com"}}}`)
	}
	time.Sleep(1500 * time.Millisecond)
	if bodies, _ := omni.received(); len(bodies) != 0 {
		t.Fatalf("a gateway node delivered %d events: it must only ingest", len(bodies))
	}
	if !strings.Contains(gw.stderr.String(), "role=gateway") {
		t.Errorf("the start line does not name the role: %s", gw.stderr)
	}

	w := start(t, t.TempDir(), append(env, "SIGNAL_ROLE=worker")...)
	omni.waitFor(t, 2)
	if w.gateway != "off" {
		t.Errorf("a worker listens for events on %s", w.gateway)
	}
	for _, n := range []*node{gw, w} {
		if code, _, body := do(t, "GET", "http://"+n.admin+"/readyz", nil, nil); code != 200 {
			t.Errorf("readyz: %d %s", code, body)
		}
	}
	// Counted when the worker records the answers, after Omnisend has
	// the requests.
	eventually(t, "the worker's signal_deliveries_total{status=delivered} to be 2", func() bool {
		v, _ := metricSum(w.metrics(t, ""), "signal_deliveries_total", map[string]string{"status": "delivered"})
		return v == 2
	})
}
