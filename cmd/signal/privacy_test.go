package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/crypt"
)

// alertHook records the alerts Signal posts, checking their signature.
type alertHook struct {
	*httptest.Server
	mu     sync.Mutex
	alerts []map[string]any
	bad    []string
}

func newAlertHook(t *testing.T, secret string) *alertHook {
	t.Helper()
	h := &alertHook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(b)
		var a map[string]any
		json.Unmarshal(b, &a)
		h.mu.Lock()
		defer h.mu.Unlock()
		if r.Header.Get("X-Signal-Signature") != "sha256="+hex.EncodeToString(m.Sum(nil)) {
			h.bad = append(h.bad, string(b))
		}
		h.alerts = append(h.alerts, a)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *alertHook) names() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, a := range h.alerts {
		out = append(out, a["alert"].(string))
	}
	return out
}

func waitUntil(t *testing.T, what string, within time.Duration, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAlertPausedThenResumed: a 401 pauses the integration and one signed
// integration_paused alert is posted within the evaluation period; a new
// key resumes it and one integration_resumed follows. No PII nor key.
func TestAlertPausedThenResumed(t *testing.T) {
	t.Parallel()
	omni := newFakeOmnisend(t)
	n := start(t, t.TempDir(), "SIGNAL_OMNISEND_API_URL="+omni.URL)
	tok := n.login(t)
	hook := newAlertHook(t, "hook-secret")
	if code, body := n.adminCall(t, "PUT", "/v1/admin/alerts", tok, `{"webhook_url":"`+hook.URL+`","secret":"hook-secret"}`); code != 200 {
		t.Fatalf("PUT alerts: %d %s", code, body)
	}
	key := n.pipeline(t, tok)
	id := n.install(t, tok, `{"name":"Shop Omnisend","config":{"api_key":"refused-key-1"}}`)
	omni.setStatus(http.StatusUnauthorized)
	n.send(t, "/v1/t", key, `{"userId":"al","messageId":"al-1","event":"Signed Up","context":{"traits":{"email":"alert.person@example.com"}}}`)
	n.liveRow(t, tok, "integration_id="+id, "al-1", "paused")
	waitUntil(t, "integration_paused", 15*time.Second, func() bool { return len(hook.names()) >= 1 })
	omni.setStatus(http.StatusAccepted)
	if code, body := n.adminCall(t, "PATCH", "/v1/admin/integrations/"+id, tok, `{"config":{"api_key":"good-key-2"}}`); code != 200 {
		t.Fatalf("replace key: %d %s", code, body)
	}
	waitUntil(t, "integration_resumed", 15*time.Second, func() bool { return len(hook.names()) >= 2 })
	time.Sleep(11 * time.Second) // one more evaluation: nothing posted twice
	if got := strings.Join(hook.names(), ","); got != "integration_paused,integration_resumed" {
		t.Fatalf("alerts = %s, want integration_paused then integration_resumed, once each", got)
	}
	hook.mu.Lock()
	defer hook.mu.Unlock()
	if len(hook.bad) > 0 {
		t.Fatalf("alerts without a valid signature: %v", hook.bad)
	}
	raw, _ := json.Marshal(hook.alerts)
	for _, secret := range []string{"alert.person@example.com", "refused-key-1", "good-key-2", "hook-secret"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("alerts hold %q: %s", secret, raw)
		}
	}
	if in := hook.alerts[0]["integration"].(map[string]any); in["id"] != id || in["name"] != "Shop Omnisend" || in["catalog_key"] != "omnisend" || hook.alerts[0]["reason"] != "auth_failed" {
		t.Fatalf("paused alert = %v", hook.alerts[0])
	}
}

// TestContactEraseEndToEnd: export, erase, export again through the
// running binary; afterwards no database file holds the keyed hashes of the
// person's ids (values are sealed; the hashes are the only clear trace).
func TestContactEraseEndToEnd(t *testing.T) {
	t.Parallel()
	omni := newFakeOmnisend(t)
	dir := t.TempDir()
	n := start(t, dir, "SIGNAL_OMNISEND_API_URL="+omni.URL)
	tok := n.login(t)
	key := n.pipeline(t, tok)
	id := n.install(t, tok, `{"name":"Omni","config":{"api_key":"k-1","dry_run":true}}`)
	const email, user = "erase.me@example.com", "user-erase-77"
	n.send(t, "/v1/t", key, `{"userId":"`+user+`","messageId":"er-1","event":"Signed Up","context":{"traits":{"email":"`+email+`"}}}`)
	n.send(t, "/v1/t", key, `{"userId":"other-user","messageId":"er-2","event":"Signed Up","context":{"traits":{"email":"other@example.com"}}}`)
	for _, m := range []string{"er-1", "er-2"} {
		n.waitLive(t, tok, "integration_id="+id, m, "filtered")
	}
	code, body := n.adminCall(t, "POST", "/v1/admin/contacts/export", tok, `{"email":"`+email+`"}`)
	if code != 200 || !strings.Contains(body, `"message_id":"er-1"`) || strings.Contains(body, "er-2") || !strings.Contains(body, email) {
		t.Fatalf("export: %d %s", code, body)
	}
	code, body = n.adminCall(t, "POST", "/v1/admin/contacts/erase", tok, `{"user_id":"`+user+`"}`)
	if code != 200 || !strings.Contains(body, `"events":1`) || !strings.Contains(body, `"profiles":1`) {
		t.Fatalf("erase: %d %s", code, body)
	}
	for _, q := range []string{`{"email":"` + email + `"}`, `{"user_id":"` + user + `"}`} {
		if code, body := n.adminCall(t, "POST", "/v1/admin/contacts/export", tok, q); code != 200 || body != `{"profiles":[],"events":[]}` {
			t.Fatalf("export after erase: %d %s", code, body)
		}
	}
	_, live := n.adminCall(t, "GET", "/v1/admin/live-events?limit=100", tok, "")
	if strings.Contains(live, user) || strings.Contains(live, email) || !strings.Contains(live, "er-1") {
		t.Fatalf("Live Events after erase: %s", live)
	}
	encKey, err := os.ReadFile(filepath.Join(dir, "encryption.key"))
	if err != nil {
		t.Fatal(err)
	}
	kb, err := crypt.ParseKey(strings.TrimSpace(string(encKey)))
	if err != nil {
		t.Fatal(err)
	}
	box, err := crypt.NewBox(kb)
	if err != nil {
		t.Fatal(err)
	}
	traces := []string{box.Hash("u:" + user), box.Hash("e:" + email), email, user}
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		b, _ := os.ReadFile(filepath.Join(dir, f.Name()))
		for _, tr := range traces {
			if bytes.Contains(b, []byte(tr)) {
				t.Errorf("%s still holds %q after the erasure", f.Name(), tr)
			}
		}
	}
	var audit struct{ Data []map[string]any }
	n.call(t, "GET", "http://"+n.admin+"/v1/admin/audit-log", tok, "", &audit)
	raw, _ := json.Marshal(audit)
	if !bytes.Contains(raw, []byte("contact.erase")) || bytes.Contains(raw, []byte(user)) || bytes.Contains(raw, []byte(email)) {
		t.Fatalf("audit log: %s", raw)
	}
}

// TestRotateAndSignedOnlyEndToEnd: a signed-only event is refused from the
// browser route; after a rotation both keys work during the overlap; a
// second rotation ends the first key at once.
func TestRotateAndSignedOnlyEndToEnd(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	tok := n.login(t)
	p := n.createPipeline(t, tok, "Shop")
	id, key1 := p["id"].(string), p["pipeline_key"].(string)
	if code, body := n.adminCall(t, "PATCH", "/v1/admin/pipelines/"+id, tok, `{"signed_only_events":["Order Completed"]}`); code != 200 {
		t.Fatalf("set signed-only: %d %s", code, body)
	}
	post := func(key, body string) (int, string) {
		req, _ := http.NewRequest("POST", "http://"+n.gateway+"/v1/t", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post(key1, `{"event":"Order Completed","userId":"u1","properties":{"email":"victim@example.com"}}`); code != 403 || !strings.Contains(body, "Order Completed") {
		t.Fatalf("signed-only event from the browser route: %d %s", code, body)
	}
	code, body := n.adminCall(t, "POST", "/v1/admin/pipelines/"+id+"/rotate", tok, `{"overlap_seconds":3600}`)
	r := jsonObject(t, []byte(body))
	key2, _ := r["pipeline_key"].(string)
	if code != 200 || key2 == "" || key2 == key1 || r["signing_secret"] == nil || r["previous_key_until"] == nil {
		t.Fatalf("rotate: %d %s", code, body)
	}
	for _, k := range []string{key1, key2} {
		if code, body := post(k, `{"event":"Product Viewed","userId":"u1"}`); code != 200 {
			t.Fatalf("key during the overlap: %d %s", code, body)
		}
	}
	if code, body := n.adminCall(t, "POST", "/v1/admin/pipelines/"+id+"/rotate", tok, `{"overlap_seconds":0}`); code != 200 {
		t.Fatalf("second rotate: %d %s", code, body)
	}
	for _, k := range []string{key1, key2} {
		if code, _ := post(k, `{"event":"Product Viewed","userId":"u1"}`); code != 401 {
			t.Fatalf("rotated-out key after the overlap: %d, want 401", code)
		}
	}
}
