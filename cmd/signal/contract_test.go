package main

// Acceptance checks of the product contract (shared/spec/contract.md) run
// against the built binary. This file holds the shared helpers and the
// program section (configuration, data dir, first admin);
// contract_gateway_test.go checks the ingestion gateway, identity and
// consent, contract_admin_test.go the Management API and
// contract_delivery_test.go the delivery to Omnisend and the default
// blueprint.
//
// Points checked by the older tests and not repeated here: SIGTERM drains
// and exits 0 (TestSIGTERMDrainsAndExitsZero,
// TestSIGTERMFinishesDeliveriesInFlight), an acknowledged event survives
// kill -9 (TestAcknowledgedEventsSurviveSIGKILL, TestSIGKILLDuringDelivery),
// the generated admin password printed once
// (TestGeneratedAdminPasswordIsPrintedOnce), bad configuration named
// (TestBadConfigurationExitsNonZero), the page's Order Completed example
// word for word (TestIntegrationPageExample), Segment server-side libraries
// and gzip (TestSegmentLibrariesWork), a secret never returned, logged or
// stored in clear (TestAPIKeyNeverLeaks), the test-send answer
// {status,vendor_status,vendor_response} (TestIntegrationTestSend),
// PostgreSQL nodes sharing the work (postgres_test.go). Pacing at 400
// requests a minute, the 10 s timeout and retries_exhausted after 24 h are
// checked on the delivery engine itself (internal/delivery).

import (
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// do sends one request and returns its status, headers and body.
func do(t *testing.T, method, url string, hdr map[string]string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func jsonObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not a JSON object: %q: %v", b, err)
	}
	return m
}

// wantError checks the error shape {"error":{"code":"…","message":"…"}}:
// the code is code (any code if ""), and the message, or else the field,
// names every word of names.
func wantError(t *testing.T, body []byte, code string, names ...string) map[string]any {
	t.Helper()
	e, ok := jsonObject(t, body)["error"].(map[string]any)
	if !ok {
		t.Fatalf("error answer %s lacks {\"error\":{…}}", body)
	}
	msg, _ := e["message"].(string)
	if c, _ := e["code"].(string); c == "" || msg == "" || (code != "" && c != code) {
		t.Fatalf("error %s: want a code %q and a message", body, code)
	}
	for _, n := range names {
		if !strings.Contains(msg, n) {
			t.Errorf("error message %q does not name %q", msg, n)
		}
	}
	return e
}

// eventually polls f until it holds, for up to 15 s.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// createPipeline returns the full answer of POST /v1/admin/pipelines.
func (n *node) createPipeline(t *testing.T, tok, name string) map[string]any {
	t.Helper()
	code, body := n.adminCall(t, "POST", "/v1/admin/pipelines", tok, `{"name":`+strconv.Quote(name)+`}`)
	if code != 201 {
		t.Fatalf("create pipeline: %d %s", code, body)
	}
	return jsonObject(t, []byte(body))
}

// install installs Omnisend with body and returns the integration id.
func (n *node) install(t *testing.T, tok, body string) string {
	t.Helper()
	code, answer := n.adminCall(t, "POST", "/v1/admin/integration-catalog/omnisend/install", tok, body)
	if code != 201 {
		t.Fatalf("install: %d %s", code, answer)
	}
	return jsonObject(t, []byte(answer))["id"].(string)
}

// liveRow waits until messageID shows with status in Live Events (narrowed
// by query) and returns its row.
func (n *node) liveRow(t *testing.T, tok, query, messageID, status string) map[string]any {
	t.Helper()
	var pg struct{ Data []map[string]any }
	json.Unmarshal([]byte(n.waitLive(t, tok, query, messageID, status)), &pg)
	for _, d := range pg.Data {
		if d["message_id"] == messageID && d["status"] == status {
			return d
		}
	}
	panic("waitLive returned without the row")
}

// signHMAC is X-Signature for the body sent at ts (unix ms).
func signHMAC(secret string, ts int64, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d.%s", ts, body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func gzipped(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func TestContractConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	got := []any{c.DataDir, c.DatabaseURL, c.GatewayAddr, c.AdminAddr, c.AdminEmail, c.VendorURLs["omnisend"], c.CORSOrigins, c.MaxPayload, c.MaxBatch}
	want := []any{filepath.Join(wd, "data"), "", ":8080", ":8084", "admin@localhost", "https://api.omnisend.com", []string{"*"}, int64(524288), 500}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults %v, want %v", got, want)
	}

	// With DATABASE_URL, JWT_SECRET and ENCRYPTION_KEY are required.
	var stdout, stderr bytes.Buffer
	env := map[string]string{"DATABASE_URL": "postgres://signal@127.0.0.1:1/signal", "SIGNAL_DATA_DIR": t.TempDir(),
		"SIGNAL_GATEWAY_ADDR": "127.0.0.1:0", "SIGNAL_ADMIN_ADDR": "127.0.0.1:0"}
	code := run([]string{"serve"}, func(k string) string { return env[k] }, &stdout, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "JWT_SECRET") || !strings.Contains(stderr.String(), "ENCRYPTION_KEY") {
		t.Errorf("DATABASE_URL without JWT_SECRET and ENCRYPTION_KEY: exit %d, %q", code, stderr.String())
	}
}

// TestContractDataDir: with no SIGNAL_DATA_DIR the embedded database is
// written to ./data; the generated secrets are kept there (an access token
// still works after a restart); SIGNAL_ADMIN_EMAIL names the first admin.
func TestContractDataDir(t *testing.T) {
	t.Parallel()
	cwd := t.TempDir()
	launch := func() *node {
		t.Helper()
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "SIGNAL_") && !strings.HasPrefix(kv, "JWT_SECRET=") && !strings.HasPrefix(kv, "ENCRYPTION_KEY=") && !strings.HasPrefix(kv, "DATABASE_URL=") {
				env = append(env, kv)
			}
		}
		n := &node{cmd: exec.Command(binary, "serve"), stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
		n.cmd.Dir, n.cmd.Stdout, n.cmd.Stderr = cwd, n.stdout, n.stderr
		n.cmd.Env = append(env, "SIGNAL_GATEWAY_ADDR=127.0.0.1:0", "SIGNAL_ADMIN_ADDR=127.0.0.1:0", "SIGNAL_ADMIN_EMAIL=ops@example.com",
			"SIGNAL_ADMIN_PASSWORD=e2e-password", "SIGNAL_OMNISEND_API_URL=http://127.0.0.1:1")
		if err := n.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { n.err = n.cmd.Wait(); close(n.exited) }()
		t.Cleanup(func() { n.cmd.Process.Kill(); n.wait() })
		started := regexp.MustCompile(`msg="signal started".* gateway=(\S+) admin=(\S+)`)
		eventually(t, "signal to start in "+cwd, func() bool {
			m := started.FindStringSubmatch(n.stderr.String())
			if m != nil {
				n.gateway, n.admin = m[1], m[2]
			}
			return m != nil
		})
		return n
	}
	stop := func(n *node) {
		t.Helper()
		n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.exited:
			if err := n.wait(); err != nil {
				t.Fatalf("exit after SIGTERM: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("no exit within 15 s of SIGTERM")
		}
	}

	n := launch()
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	if code := n.call(t, "POST", "http://"+n.admin+"/v1/admin/auth/login", "", `{"email":"ops@example.com","password":"e2e-password"}`, &pair); code != 200 {
		t.Fatalf("login as SIGNAL_ADMIN_EMAIL: %d", code)
	}
	if code := n.call(t, "POST", "http://"+n.admin+"/v1/admin/auth/login", "", `{"email":"admin@localhost","password":"e2e-password"}`, nil); code != 401 {
		t.Errorf("login as admin@localhost when SIGNAL_ADMIN_EMAIL is set: %d, want 401", code)
	}
	n.pipeline(t, pair.AccessToken)
	stop(n)
	if entries, err := os.ReadDir(filepath.Join(cwd, "data")); err != nil || len(entries) == 0 {
		t.Fatalf("./data after a start with no SIGNAL_DATA_DIR: %v, %v", entries, err)
	}

	n = launch()
	if code := n.call(t, "GET", "http://"+n.admin+"/v1/admin/pipelines", pair.AccessToken, "", nil); code != 200 {
		t.Errorf("an access token from before the restart: %d, want 200 (JWT secret kept in ./data)", code)
	}
	stop(n)
}
