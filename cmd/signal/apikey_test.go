package main

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func (f *fakeOmnisend) setStatus(code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status = code
}

func (f *fakeOmnisend) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.bodies)
}

// admin sends a Management API request and returns the status and body.
func (n *node) adminCall(t *testing.T, method, path, tok, body string) (int, string) {
	t.Helper()
	var raw json.RawMessage
	code := n.call(t, method, "http://"+n.admin+path, tok, body, &raw)
	return code, string(raw)
}

// waitLive polls Live Events (with query) until the message shows with
// status, and returns that answer.
func (n *node) waitLive(t *testing.T, tok, query, messageID, status string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body := n.adminCall(t, "GET", "/v1/admin/live-events?limit=100&"+query, tok, "")
		var pg struct {
			Data []struct {
				MessageID string `json:"message_id"`
				Status    string `json:"status"`
			} `json:"data"`
		}
		json.Unmarshal([]byte(body), &pg)
		for _, d := range pg.Data {
			if code == 200 && d.MessageID == messageID && d.Status == status {
				return body
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("live event %s never showed %s: %s", messageID, status, body)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestIntegrationTestSend: POST /integrations/{id}/test through the real
// delivery engine, against a fake Omnisend.
func TestIntegrationTestSend(t *testing.T) {
	t.Parallel()
	omni := newFakeOmnisend(t)
	n := start(t, t.TempDir(), "SIGNAL_OMNISEND_API_URL="+omni.URL)
	tok := n.login(t)
	var live, dry struct {
		ID string `json:"id"`
	}
	if code := n.call(t, "POST", "http://"+n.admin+"/v1/admin/integration-catalog/omnisend/install", tok, pageInstallBody, &live); code != 201 {
		t.Fatalf("install: %d", code)
	}
	if code := n.call(t, "POST", "http://"+n.admin+"/v1/admin/integration-catalog/omnisend/install", tok,
		`{"config":{"api_key":"DryRunKey-0123456789","dry_run":true}}`, &dry); code != 201 {
		t.Fatalf("install dry run: %d", code)
	}
	type answer struct {
		Status         string          `json:"status"`
		VendorStatus   int             `json:"vendor_status"`
		VendorResponse *string         `json:"vendor_response"`
		Payload        json.RawMessage `json:"payload"`
		Error          struct{ Field string }
	}
	send := func(id, body string) (int, answer) {
		var a answer
		code := n.call(t, "POST", "http://"+n.admin+"/v1/admin/integrations/"+id+"/test", tok, body, &a)
		return code, a
	}

	code, a := send(live.ID, `{"email":" Test@Example.com "}`)
	if code != 200 || a.Status != "delivered" || a.VendorStatus != 202 || a.VendorResponse == nil {
		t.Fatalf("test send: %d %+v", code, a)
	}
	bodies, keys := omni.received()
	if len(bodies) != 1 || keys[0] != "AjWvksZpTG4JZBdc4xxxxxxxx" || !strings.Contains(string(bodies[0]), `"email":"test@example.com"`) ||
		!strings.Contains(string(bodies[0]), `"marketing_consent":"nonSubscribed"`) {
		t.Fatalf("Omnisend received %q with keys %q", bodies, keys)
	}

	omni.setStatus(http.StatusUnauthorized)
	if code, a = send(live.ID, `{"email":"test@example.com"}`); code != 200 || a.Status != "auth_failed" || a.VendorStatus != 401 {
		t.Fatalf("test send refused: %d %+v", code, a)
	}
	omni.setStatus(http.StatusAccepted)

	for _, body := range []string{`{}`, `{"email":""}`, `{"email":"not an address"}`} {
		if code, a = send(live.ID, body); code != 400 || a.Error.Field != "email" {
			t.Fatalf("test send %s: %d %+v, want 400 field email", body, code, a)
		}
	}

	sent := omni.count()
	if code, a = send(dry.ID, `{"email":"test@example.com"}`); code != 200 || a.Status != "dry_run" || a.VendorStatus != 0 {
		t.Fatalf("dry-run test send: %d %+v", code, a)
	}
	if !strings.Contains(string(a.Payload), `"eventName"`) {
		t.Fatalf("dry-run test send shows no payload: %s", a.Payload)
	}
	time.Sleep(200 * time.Millisecond)
	if omni.count() != sent {
		t.Fatal("a dry-run test send reached Omnisend")
	}
}

// leakCheck fails when an answer or a log holds any 8 characters in a row
// of a secret: a masked key shows its last 4 only.
type leakCheck struct {
	t       *testing.T
	secrets []string
	checked int
}

func (c *leakCheck) check(what, text string) {
	c.t.Helper()
	c.checked++
	for _, s := range c.secrets {
		for i := 0; i+8 <= len(s); i++ {
			if strings.Contains(text, s[i:i+8]) {
				if len(text) > 4096 {
					text = "(too long to show)"
				}
				c.t.Fatalf("%s shows part of the API key (%q):\n%s", what, s[i:i+8], text)
			}
		}
	}
}

// TestAPIKeyNeverLeaks: no management answer, stream, log line or stored
// file holds an integration's API key, before or after it is replaced,
// whatever Omnisend answers.
func TestAPIKeyNeverLeaks(t *testing.T) {
	t.Parallel()
	const key1, key2 = "LkCnry9Qf3ZtW8xVb2Hm7Pd4", "Rp5TgW2kLx9NvB4cQz8Hs6Jm"
	leaks := &leakCheck{t: t, secrets: []string{key1, key2}}
	omni := newFakeOmnisend(t)
	dir := t.TempDir()
	n := start(t, dir, "SIGNAL_OMNISEND_API_URL="+omni.URL, "SIGNAL_LOG_LEVEL=debug")
	tok := n.login(t)
	pkey := n.pipeline(t, tok)

	// Everything the live-events stream sends while the test runs.
	stream := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	streamDone := make(chan struct{})
	go func() {
		defer close(streamDone)
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+n.admin+"/v1/admin/live-events/stream", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(stream, resp.Body)
			resp.Body.Close()
		}
	}()

	call := func(method, path, body string, want int) string {
		t.Helper()
		code, answer := n.adminCall(t, method, path, tok, body)
		if code != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, code, answer, want)
		}
		leaks.check(method+" "+path, answer)
		return answer
	}
	answer := call("POST", "/v1/admin/integration-catalog/omnisend/install", `{"name":"Omnisend","config":{"api_key":"`+key1+`"}}`, 201)
	var in struct {
		ID     string            `json:"id"`
		Config map[string]string `json:"config"`
	}
	json.Unmarshal([]byte(answer), &in)
	if in.Config["api_key"] != "****"+key1[len(key1)-4:] {
		t.Fatalf("install shows api_key %q, want its last 4 only", in.Config["api_key"])
	}
	ipath := "/v1/admin/integrations/" + in.ID
	call("POST", "/v1/admin/integration-catalog/omnisend/install", `{"config":{"api_key":"`+key1+`","bogus":true}}`, 400)
	call("POST", "/v1/admin/integration-catalog/omnisend/install", `{"config":{"api_key":"`+key1+` x"}}`, 400)
	call("GET", "/v1/admin/integration-catalog", "", 200)
	call("GET", ipath, "", 200)
	call("GET", "/v1/admin/integrations", "", 200)
	call("PATCH", ipath, `{"name":"Omnisend EU"}`, 200)
	call("PATCH", ipath, `{"config":{"api_key":"`+key1+` "}}`, 400)
	bp := call("GET", ipath+"/blueprint", "", 200)
	call("PUT", ipath+"/blueprint", bp, 200)

	// A delivery Omnisend accepts.
	n.send(t, "/v1/i", pkey, `{"userId":"u1","traits":{"email":"leak@example.com","first_name":"Lea"}}`)
	n.send(t, "/v1/t", pkey, `{"userId":"u1","event":"Order Completed","messageId":"leak-1","properties":{"order_id":"L-1","revenue":5}}`)
	leaks.check("live events after a delivery", n.waitLive(t, tok, "", "leak-1", "delivered"))
	leaks.check("live events of the integration", n.waitLive(t, tok, "integration_id="+in.ID, "leak-1", "delivered"))
	if a := call("POST", ipath+"/test", `{"email":"leak@example.com"}`, 200); !strings.Contains(a, `"delivered"`) {
		t.Fatalf("test send: %s", a)
	}

	// Omnisend refuses the key: the integration pauses.
	omni.setStatus(http.StatusUnauthorized)
	n.send(t, "/v1/t", pkey, `{"userId":"u1","event":"Order Completed","messageId":"leak-2","properties":{"order_id":"L-2","revenue":5}}`)
	leaks.check("live events after a 401", n.waitLive(t, tok, "", "leak-2", "paused"))
	if a := call("GET", ipath, "", 200); !strings.Contains(a, `"status":"paused"`) {
		t.Fatalf("integration after a 401: %s", a)
	}
	call("GET", "/v1/admin/integrations", "", 200)
	if a := call("POST", ipath+"/test", `{"email":"leak@example.com"}`, 200); !strings.Contains(a, `"auth_failed"`) {
		t.Fatalf("test send after a 401: %s", a)
	}
	call("GET", "/v1/admin/live-events?status=paused", "", 200)

	// The key is replaced: the held event goes with the new key.
	omni.setStatus(http.StatusAccepted)
	answer = call("PATCH", ipath, `{"config":{"api_key":"`+key2+`"}}`, 200)
	json.Unmarshal([]byte(answer), &in)
	if in.Config["api_key"] != "****"+key2[len(key2)-4:] || !strings.Contains(answer, `"status":"active"`) {
		t.Fatalf("PATCH answer %s", answer)
	}
	leaks.check("live events after the key was replaced", n.waitLive(t, tok, "", "leak-2", "delivered"))
	call("GET", ipath, "", 200)
	call("GET", "/v1/admin/integrations", "", 200)
	call("GET", ipath+"/blueprint", "", 200)
	call("POST", ipath+"/test", `{"email":"leak@example.com"}`, 200)
	call("POST", ipath+"/replay", `{"status":"failed"}`, 200)
	call("GET", "/v1/admin/live-events?type=track", "", 200)

	// The keys were really in use.
	_, keys := omni.received()
	if len(keys) < 5 || keys[0] != key1 || keys[len(keys)-1] != key2 {
		t.Fatalf("Omnisend saw keys %q", keys)
	}

	time.Sleep(300 * time.Millisecond) // let the stream poll once more
	cancel()
	<-streamDone
	if !strings.Contains(stream.String(), `"message_id":"leak-2"`) {
		t.Fatalf("the stream sent nothing about the events: %q", stream.String())
	}
	leaks.check("the live-events stream", stream.String())

	n.cmd.Process.Signal(syscall.SIGTERM)
	if err := n.wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	if !strings.Contains(n.stderr.String(), "level=DEBUG") && !strings.Contains(n.stderr.String(), "level=INFO") {
		t.Fatalf("no log to check: %q", n.stderr.String())
	}
	leaks.check("the log", n.stderr.String())
	leaks.check("stdout", n.stdout.String())

	// Nor is the key stored in clear.
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		leaks.check("the stored file "+filepath.Base(path), string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d answers, logs and files checked", leaks.checked)
}
