package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/integration/omnisend/omnisendtest"
	"github.com/signalhq/signal/internal/store/postgres/postgrestest"
)

// backfillNDJSON is n historical orders, gzipped: order i by customer i,
// with its own timestamp.
func backfillNDJSON(n int) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(zw, `{"type":"track","event":"Order Completed","userId":"hist-%d","messageId":"hist-%d","timestamp":"2026-0%d-1%dT10:00:00Z",`+
			`"context":{"traits":{"email":"customer%d@example.com"}},"properties":{"order_id":"H-%d","revenue":%d.5,"currency":"EUR"}}`+"\n",
			i, i, 1+i%9, i%10, i, i, i%300)
	}
	zw.Close()
	return buf.Bytes()
}

type backfillProgress struct {
	Status    string `json:"status"`
	Accepted  int    `json:"accepted"`
	Delivered int    `json:"delivered"`
	Failed    int    `json:"failed"`
	Pending   int    `json:"pending"`
}

// TestBackfillTenThousandOrdersThroughKill9: a 10,000-order history posted
// as gzipped NDJSON goes out in Omnisend batches of 100 (the fake refuses
// every order whose number ends in 7); a live order posted meanwhile
// reaches Omnisend within 10 s; the binary is killed with SIGKILL while a
// batch is on its way, and once restarted the backfill finishes with every
// item accounted for (delivered + failed = accepted) and no eventID sent
// twice across all batches.
func TestBackfillTenThousandOrdersThroughKill9(t *testing.T) {
	t.Parallel()
	const total, killAt = 10000, 40
	fake := omnisendtest.New(t)
	fake.Limit = 6000 // per minute: the budget the answers advertise
	fake.PollsBeforeDone = 1
	fake.ItemError = func(item map[string]any) (int, string) {
		props, _ := item["properties"].(map[string]any)
		if id, _ := props["orderID"].(string); strings.HasSuffix(id, "7") {
			return 400, "orderID " + id + ": products are required"
		}
		return 0, ""
	}
	var (
		first  atomic.Pointer[node]
		killed = make(chan struct{})
		once   sync.Once
	)
	fake.BeforeCreate = func(n int) bool {
		if n != killAt {
			return true
		}
		// The node dies while this batch is on its way: Omnisend never
		// acknowledged it (the connection is dropped).
		once.Do(func() {
			nd := first.Load()
			nd.cmd.Process.Signal(syscall.SIGKILL)
			nd.wait()
			close(killed)
		})
		return false
	}
	dir := t.TempDir()
	env := "SIGNAL_OMNISEND_API_URL=" + fake.URL()
	n := start(t, dir, env)
	first.Store(n)
	tok := n.login(t)
	key := n.pipeline(t, tok)
	id := n.install(t, tok, pageInstallBody)
	// The shopper of the live order, known before the backfill starts.
	n.send(t, "/v1/i", key, `{"userId":"live-1","traits":{"email":"live@example.com"}}`)

	req, _ := http.NewRequest("POST", "http://"+n.admin+"/v1/admin/integrations/"+id+"/backfill", bytes.NewReader(backfillNDJSON(total)))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		ID       string            `json:"id"`
		Accepted int               `json:"accepted"`
		Rejected []json.RawMessage `json:"rejected"`
	}
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != 202 || created.Accepted != total || len(created.Rejected) != 0 || !strings.HasPrefix(created.ID, "bf_") {
		t.Fatalf("POST backfill = %d %+v, want 202 with %d accepted", resp.StatusCode, created, total)
	}
	started := time.Now()

	// Live traffic first: an order posted once batches flow reaches
	// Omnisend as a single event within 10 s.
	waitUntil(t, "a batch to reach Omnisend", 30*time.Second, func() bool { return fake.Batches() >= 5 })
	posted := time.Now()
	n.send(t, "/v1/t", key, `{"userId":"live-1","event":"Order Completed","messageId":"live-order","properties":{"order_id":"LIVE-1","revenue":10}}`)
	waitUntil(t, "the live order posted during the backfill to reach Omnisend (10 s)", 10*time.Second, func() bool { return len(fake.Live()) == 1 })
	t.Logf("live order reached Omnisend %v after it was posted, with %d batches acknowledged", time.Since(posted).Round(time.Millisecond), fake.Batches())

	select {
	case <-killed:
	case <-time.After(60 * time.Second):
		t.Fatalf("the backfill never reached batch %d", killAt)
	}
	before := n.stderr.String()
	n2 := start(t, dir, env)
	tok = n2.login(t)
	var got backfillProgress
	path := "/v1/admin/integrations/" + id + "/backfill/" + created.ID
	waitUntil(t, "the backfill to finish after the restart", 90*time.Second, func() bool {
		code, body := n2.adminCall(t, "GET", path, tok, "")
		json.Unmarshal([]byte(body), &got)
		return code == 200 && got.Status != "running"
	})
	t.Logf("backfill of %d done %v after its 202 (a SIGKILL and a restart included): %+v", total, time.Since(started).Round(time.Millisecond), got)

	const wantFailed = total / 10
	if got.Status != "done" || got.Accepted != total || got.Delivered+got.Failed != total || got.Failed != wantFailed || got.Pending != 0 {
		t.Fatalf("backfill = %+v, want done, %d delivered and %d failed", got, total-wantFailed, wantFailed)
	}
	sent := fake.Sent()
	for _, l := range fake.Live() {
		delete(sent, l.EventID)
	}
	twice := 0
	for _, c := range sent {
		if c > 1 {
			twice++
		}
	}
	if len(sent) != total || twice > 0 {
		t.Fatalf("Omnisend got %d distinct backfill eventIDs (want %d), %d of them more than once", len(sent), total, twice)
	}
	// A refused item is on Live Events with Omnisend's item answer.
	var failed struct{ Data []map[string]any }
	_, body := n2.adminCall(t, "GET", "/v1/admin/live-events?limit=1&status=failed&integration_id="+id, tok, "")
	json.Unmarshal([]byte(body), &failed)
	if len(failed.Data) != 1 {
		t.Fatalf("no failed item on Live Events: %s", body)
	}
	row := failed.Data[0]
	if !strings.HasSuffix(fmt.Sprint(row["message_id"]), "7") || row["pipeline_id"] != created.ID || row["reason"] != "vendor_rejected" || row["vendor_status"] != 400.0 || !strings.Contains(fmt.Sprint(row["vendor_response"]), "products are required") {
		t.Fatalf("failed item on Live Events = %v", row)
	}
	if strings.Contains(before+n2.stderr.String(), "level=ERROR") {
		t.Logf("errors logged:\n%s", grepLines(before+n2.stderr.String(), "level=ERROR"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestBackfillTwoNodesOnPostgres: two nodes on one PostgreSQL database;
// a backfill posted to one is sent by one runner at a time (the backfill's
// lease), each item once, and its progress reads the same on both nodes.
func TestBackfillTwoNodesOnPostgres(t *testing.T) {
	t.Parallel()
	const total = 1000
	fake := omnisendtest.New(t)
	fake.Limit = 6000
	db := postgrestest.NewDatabase(t)
	env := []string{"DATABASE_URL=" + db.NewSchemaURL(t), "JWT_SECRET=" + strings.Repeat("j", 40),
		"ENCRYPTION_KEY=" + strings.Repeat("ab", 32), "SIGNAL_OMNISEND_API_URL=" + fake.URL()}
	a := start(t, t.TempDir(), env...)
	b := start(t, t.TempDir(), env...)
	tok := a.login(t)
	id := a.install(t, tok, pageInstallBody)
	req, _ := http.NewRequest("POST", "http://"+a.admin+"/v1/admin/integrations/"+id+"/backfill", bytes.NewReader(backfillNDJSON(total)))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		ID string `json:"id"`
	}
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("POST backfill = %d", resp.StatusCode)
	}
	path := "/v1/admin/integrations/" + id + "/backfill/" + created.ID
	var got backfillProgress
	tokB := b.login(t)
	waitUntil(t, "the backfill to finish on PostgreSQL", 90*time.Second, func() bool {
		code, body := b.adminCall(t, "GET", path, tokB, "")
		json.Unmarshal([]byte(body), &got)
		return code == 200 && got.Status != "running"
	})
	if got.Status != "done" || got.Delivered != total || got.Failed != 0 || got.Pending != 0 {
		t.Fatalf("backfill = %+v, want done with %d delivered", got, total)
	}
	sent := fake.Sent()
	for eid, c := range sent {
		if c != 1 {
			t.Fatalf("eventID %s sent %d times", eid, c)
		}
	}
	if len(sent) != total || fake.Batches() != total/100 {
		t.Fatalf("Omnisend got %d eventIDs in %d batches, want %d in %d", len(sent), fake.Batches(), total, total/100)
	}
}
