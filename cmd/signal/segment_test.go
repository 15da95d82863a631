package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestSegmentLibrariesWork: an app using a Segment server-side library
// changes only its host and write key. Each case is the request that
// library sends (route, auth, body shape, encoding).
func TestSegmentLibrariesWork(t *testing.T) {
	t.Parallel()
	omni := newFakeOmnisend(t)
	n := start(t, t.TempDir(), "SIGNAL_OMNISEND_API_URL="+omni.URL)
	tok := n.login(t)
	key := n.pipeline(t, tok)
	if code := n.call(t, "POST", "http://"+n.admin+"/v1/admin/integration-catalog/omnisend/install", tok, pageInstallBody, nil); code != 201 {
		t.Fatalf("install: %d", code)
	}
	basicAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"))
	gz := func(s string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	libraries := []struct {
		name    string
		path    string
		headers map[string]string
		body    []byte
	}{
		{
			// analytics-go: batches to /v1/batch, Basic auth, batch-level sentAt.
			name:    "analytics-go",
			path:    "/v1/batch",
			headers: map[string]string{"Authorization": basicAuth, "Content-Type": "application/json", "User-Agent": "analytics-go (version: 3.0.0)"},
			body: []byte(`{"batch":[{"type":"identify","messageId":"go-1","userId":"go-user","timestamp":"2026-11-27T09:00:00Z",
				"context":{"library":{"name":"analytics-go","version":"3.0.0"}},"traits":{"email":"Go.User@Example.com","first_name":"Gopher"}},
				{"type":"track","messageId":"go-2","userId":"go-user","event":"Order Completed","timestamp":"2026-11-27T09:00:01Z",
				"context":{"library":{"name":"analytics-go","version":"3.0.0"}},"properties":{"order_id":"GO-1","revenue":10,"currency":"EUR"}}],
				"sentAt":"2026-11-27T09:00:02Z","context":{"library":{"name":"analytics-go","version":"3.0.0"}}}`),
		},
		{
			// analytics-python: /v1/batch, Basic auth, gzip when configured.
			name:    "analytics-python gzip",
			path:    "/v1/batch",
			headers: map[string]string{"Authorization": basicAuth, "Content-Type": "application/json", "Content-Encoding": "gzip"},
			body: gz(`{"batch":[{"type":"track","messageId":"py-1","anonymousId":"py-anon","event":"Checkout Started",
				"context":{"traits":{"email":"py@example.com"},"library":{"name":"analytics-python"}},
				"properties":{"value":25.5,"currency":"USD","checkout_url":"https://shop/checkout/1"},"timestamp":"2026-11-27T09:00:00+00:00",
				"integrations":{}}],"sentAt":"2026-11-27T09:00:00+00:00"}`),
		},
		{
			// analytics-node (classic) single call with writeKey in the body.
			name:    "single call, writeKey in body",
			path:    "/v1/track",
			headers: map[string]string{"Content-Type": "application/json"},
			body: []byte(`{"writeKey":"` + key + `","type":"track","messageId":"node-1","userId":"node-user","event":"Signed Up",
				"context":{"traits":{"phone":"(415) 555-2671"},"locale":"en-US"},"properties":{"method":"google"}}`),
		},
	}
	for _, lib := range libraries {
		req, _ := http.NewRequest("POST", "http://"+n.gateway+lib.path, bytes.NewReader(lib.body))
		for k, v := range lib.headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", lib.name, resp.StatusCode)
		}
	}
	bodies := omni.waitFor(t, 3)
	byName := map[string]map[string]any{}
	for _, b := range bodies {
		var m map[string]any
		json.Unmarshal(b, &m)
		byName[m["eventName"].(string)] = m
	}
	checks := []struct {
		event, path, want string
	}{
		{"placed order", "contact.email", "go.user@example.com"},
		{"placed order", "contact.firstName", "Gopher"},
		{"placed order", "properties.orderID", "GO-1"},
		{"placed order", "eventTime", "2026-11-27T09:00:01Z"},
		{"started checkout", "contact.email", "py@example.com"},
		{"started checkout", "properties.abandonedCheckoutURL", "https://shop/checkout/1"},
		{"signed up", "contact.phone", "+14155552671"},
		{"signed up", "properties.signUpMethod", "google"},
	}
	for _, c := range checks {
		var cur any = byName[c.event]
		for _, seg := range strings.Split(c.path, ".") {
			m, _ := cur.(map[string]any)
			cur = m[seg]
		}
		if cur != c.want {
			t.Errorf("%s %s = %v, want %s", c.event, c.path, cur, c.want)
		}
	}
}
