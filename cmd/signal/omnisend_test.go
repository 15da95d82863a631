package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func (n *node) send(t *testing.T, path, key, body string) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+n.gateway+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
	}
}

// The integration page's curl install body, word for word.
const pageInstallBody = `{
    "name": "Omnisend",
    "variant": "default",
    "config": {
      "api_key": "AjWvksZpTG4JZBdc4xxxxxxxx"
    },
    "delivery_mode": "server_side"
  }`

// TestIntegrationPageExample: the page's identify + Order Completed, sent
// through the gateway, reach Omnisend as the page shows, plus eventID,
// eventTime and contact.firstName.
func TestIntegrationPageExample(t *testing.T) {
	t.Parallel()
	omni := newFakeOmnisend(t)
	n := start(t, t.TempDir(), "SIGNAL_OMNISEND_API_URL="+omni.URL)
	tok := n.login(t)
	key := n.pipeline(t, tok)
	var in struct {
		ID     string            `json:"id"`
		Config map[string]string `json:"config"`
	}
	if code := n.call(t, "POST", "http://"+n.admin+"/v1/admin/integration-catalog/omnisend/install", tok, pageInstallBody, &in); code != 201 {
		t.Fatalf("install: %d", code)
	}
	if in.Config["api_key"] != "****xxxx" {
		t.Fatalf("install answer shows api_key %q, want the last 4 only", in.Config["api_key"])
	}

	n.send(t, "/v1/i", key, `{"userId":"user-123","anonymousId":"anon-1","traits":{"email":"jane@example.com","phone":"+447700900123","first_name":"Jane"}}`)
	n.send(t, "/v1/t", key, `{"anonymousId":"anon-1","event":"Order Completed","messageId":"order-5512","timestamp":"2026-11-27T09:30:00.250Z",
		"context":{"consent":{"canonical":{"marketing":true}}},
		"properties":{"order_id":"ORDER-5512","revenue":89.90,"currency":"GBP","coupon":"WELCOME10","products":[
		{ "product_id": "SKU-1", "product_name": "Wool Scarf", "price": 39.95, "quantity": 1 },
		{ "product_id": "SKU-2", "product_name": "Knit Hat", "price": 49.95, "quantity": 1 }]}}`)

	body := omni.waitFor(t, 1)[0]
	_, keys := omni.received()
	if keys[0] != "AjWvksZpTG4JZBdc4xxxxxxxx" {
		t.Fatalf("X-API-KEY %q", keys[0])
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(got["eventID"].(string)) {
		t.Fatalf("eventID %v is not a UUID v5", got["eventID"])
	}
	if got["eventTime"] != "2026-11-27T09:30:00.25Z" && got["eventTime"] != "2026-11-27T09:30:00.250Z" {
		t.Fatalf("eventTime %v", got["eventTime"])
	}
	delete(got, "eventID")
	delete(got, "eventTime")
	if c := got["contact"].(map[string]any); c["firstName"] != "Jane" {
		t.Fatalf("contact %v lacks firstName", c)
	} else {
		delete(c, "firstName")
	}
	page, err := os.ReadFile("testdata/page_placed_order.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	json.Unmarshal(page, &want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Omnisend received\n%s\nwant the page's\n%s", body, page)
	}
	// Numbers arrive as written: 89.90, not 89.9.
	if !bytes.Contains(body, []byte(`"value":89.90`)) {
		t.Fatalf("value was not sent as 89.90: %s", body)
	}

	// Live Events shows it delivered, with the exact payload sent.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var pg struct {
			Data []struct {
				Status          string          `json:"status"`
				VendorEventName string          `json:"vendor_event_name"`
				VendorStatus    int             `json:"vendor_status"`
				Attempts        int             `json:"attempts"`
				Payload         json.RawMessage `json:"payload"`
			} `json:"data"`
		}
		n.call(t, "GET", "http://"+n.admin+"/v1/admin/live-events?event=Order+Completed&integration_id="+in.ID, tok, "", &pg)
		if len(pg.Data) == 1 && pg.Data[0].Status == "delivered" {
			d := pg.Data[0]
			if d.VendorEventName != "placed order" || d.VendorStatus != 202 || d.Attempts != 1 || !bytes.Equal(d.Payload, body) {
				t.Fatalf("live event %+v, payload %s; want the body sent %s", d, d.Payload, body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("live event not delivered: %+v", pg.Data)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The same messageId sent again does not reach Omnisend a second time.
	n.send(t, "/v1/t", key, `{"anonymousId":"anon-1","event":"Order Completed","messageId":"order-5512","properties":{"order_id":"ORDER-5512"}}`)
	n.send(t, "/v1/t", key, `{"anonymousId":"anon-1","event":"Signed Up","messageId":"after","properties":{"method":"email"}}`)
	bodies := omni.waitFor(t, 2)
	time.Sleep(300 * time.Millisecond)
	if bodies, _ = omni.received(); len(bodies) != 2 || !bytes.Contains(bodies[1], []byte(`"signed up"`)) {
		t.Fatalf("Omnisend received %d events after a repeated messageId, want 2 (order, sign-up)", len(bodies))
	}
	if strings.Contains(n.stderr.String(), "AjWvksZpTG4JZBdc4") || strings.Contains(n.stderr.String(), "jane@example.com") {
		t.Fatal("the API key or the email was logged")
	}
}

// TestSIGKILLDuringDelivery: the process is killed while deliveries are in
// flight; after a restart every acknowledged event reaches Omnisend, and
// the only events sent twice (with the same eventID) are ones that were in
// flight at the kill.
func TestSIGKILLDuringDelivery(t *testing.T) {
	t.Parallel()
	var (
		mu      sync.Mutex
		arrived = map[string]int{}
	)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost { // the install's key check
			w.WriteHeader(http.StatusOK)
			return
		}
		var body struct {
			EventID string `json:"eventID"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		arrived[body.EventID]++
		mu.Unlock()
		w.Header().Set("X-Rate-Limit-Limit", "100000")
		w.Header().Set("X-Rate-Limit-Remaining", "99999")
		w.Header().Set("X-Rate-Limit-Reset", "60")
		w.WriteHeader(http.StatusAccepted)
	}))
	defer slow.Close()
	count := func() (distinct, dups int) {
		mu.Lock()
		defer mu.Unlock()
		for _, n := range arrived {
			if n > 1 {
				dups += n - 1
			}
		}
		return len(arrived), dups
	}

	dir := t.TempDir()
	env := "SIGNAL_OMNISEND_API_URL=" + slow.URL
	n := start(t, dir, env)
	tok := n.login(t)
	key := n.pipeline(t, tok)
	if code := n.call(t, "POST", "http://"+n.admin+"/v1/admin/integration-catalog/omnisend/install", tok, pageInstallBody, nil); code != 201 {
		t.Fatalf("install: %d", code)
	}
	const events = 600
	var batch []string
	for i := 0; i < events; i++ {
		batch = append(batch, fmt.Sprintf(`{"type":"track","event":"Signed Up","userId":"u%d","messageId":"k-%d","context":{"traits":{"email":"u%d@example.com"}}}`, i, i, i))
		if len(batch) == 100 {
			n.send(t, "/v1/batch", key, `{"batch":[`+strings.Join(batch, ",")+`]}`)
			batch = batch[:0]
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if d, _ := count(); d >= events/4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("deliveries did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	n.cmd.Process.Signal(syscall.SIGKILL)
	n.wait()
	before, _ := count()
	if before >= events {
		t.Fatalf("all %d delivered before the kill; the test proves nothing", events)
	}

	start(t, dir, env)
	deadline = time.Now().Add(60 * time.Second)
	for {
		d, dups := count()
		if d == events {
			// At most one round set of requests was in flight at the
			// kill (MaxInFlight × Rounds = 128).
			if dups > 128 {
				t.Fatalf("%d duplicate deliveries; only requests in flight at the kill may repeat", dups)
			}
			t.Logf("%d delivered before the kill, all %d after restart, %d sent twice (in flight at the kill)", before, events, dups)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged events delivered after restart", d, events)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSIGTERMFinishesDeliveriesInFlight: SIGTERM while requests to
// Omnisend are in flight; the process waits for their answers, records
// them and exits 0 within 15 s. After a restart nothing is sent twice and
// everything acknowledged arrives.
func TestSIGTERMFinishesDeliveriesInFlight(t *testing.T) {
	t.Parallel()
	var (
		mu       sync.Mutex
		arrived  = map[string]int{}
		inFlight int
	)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost { // the install's key check
			w.WriteHeader(http.StatusOK)
			return
		}
		var body struct {
			EventID string `json:"eventID"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		inFlight++
		mu.Unlock()
		time.Sleep(2 * time.Second)
		mu.Lock()
		inFlight--
		arrived[body.EventID]++
		mu.Unlock()
		w.Header().Set("X-Rate-Limit-Limit", "100000")
		w.Header().Set("X-Rate-Limit-Remaining", "99999")
		w.Header().Set("X-Rate-Limit-Reset", "60")
		w.WriteHeader(http.StatusAccepted)
	}))
	defer slow.Close()
	dir := t.TempDir()
	env := "SIGNAL_OMNISEND_API_URL=" + slow.URL
	n := start(t, dir, env)
	tok := n.login(t)
	key := n.pipeline(t, tok)
	if code := n.call(t, "POST", "http://"+n.admin+"/v1/admin/integration-catalog/omnisend/install", tok, pageInstallBody, nil); code != 201 {
		t.Fatalf("install: %d", code)
	}
	var batch []string
	for i := 0; i < 200; i++ {
		batch = append(batch, fmt.Sprintf(`{"type":"track","event":"Signed Up","userId":"t%d","messageId":"t-%d","context":{"traits":{"email":"t%d@example.com"}}}`, i, i, i))
	}
	n.send(t, "/v1/batch", key, `{"batch":[`+strings.Join(batch, ",")+`]}`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		f := inFlight
		mu.Unlock()
		if f > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no request reached Omnisend")
		}
		time.Sleep(5 * time.Millisecond)
	}
	sent := time.Now()
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("signal did not exit within 15 s of SIGTERM")
	}
	if err := n.wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	mu.Lock()
	answered, pending := len(arrived), inFlight
	mu.Unlock()
	if pending != 0 {
		t.Fatalf("signal exited with %d requests still in flight", pending)
	}
	t.Logf("exited %s after SIGTERM, %d events answered", time.Since(sent).Round(time.Millisecond), answered)

	start(t, dir, env)
	deadline = time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		got := len(arrived)
		twice := 0
		for _, c := range arrived {
			if c > 1 {
				twice++
			}
		}
		mu.Unlock()
		if twice > 0 {
			t.Fatalf("%d events sent twice after a graceful stop", twice)
		}
		if got == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 200 events delivered after restart", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
