package main

// Acceptance checks of the contract's ingestion gateway, identity and
// consent (see contract_test.go).

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestContractGatewayRoutes(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	tok := n.login(t)
	pl := n.createPipeline(t, tok, "routes")
	key, secret := pl["pipeline_key"].(string), pl["signing_secret"].(string)
	bearer := map[string]string{"Authorization": "Bearer " + key}
	basic := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"))}
	badBasic := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("dk_live_wrong:"))}
	with := func(h map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range h {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	// signed headers are made when the request is sent, not when the
	// table is built: parallel subtests may wait minutes for a slot on a
	// loaded machine, and the skew must be the one the row names.
	signed := func(h map[string]string, skew time.Duration, secret, body string) func() map[string]string {
		return func() map[string]string {
			ts := time.Now().Add(skew).UnixMilli()
			return with(h, "X-Timestamp", strconv.FormatInt(ts, 10), "X-Signature", signHMAC(secret, ts, body), "Content-Type", "application/json")
		}
	}
	static := func(h map[string]string) func() map[string]string { return func() map[string]string { return h } }
	const (
		track  = `{"userId":"u1","event":"Signed Up","properties":{"method":"email"}}`
		single = `{"type":"track","userId":"u1","event":"Signed Up"}`
		batch  = `{"batch":[{"type":"track","userId":"u1","event":"Signed Up"},{"type":"page","anonymousId":"a1","name":"Home"}]}`
	)
	tests := []struct {
		name, path string
		hdr        func() map[string]string
		body       string
		status     int
		names      []string // words the error message must hold
	}{
		{"datafly track", "/v1/t", static(bearer), track, 200, nil},
		{"datafly page", "/v1/p", static(bearer), `{"anonymousId":"a1","name":"Home","properties":{"url":"https://shop.example/"}}`, 200, nil},
		{"datafly identify", "/v1/i", static(bearer), `{"userId":"u1","anonymousId":"a1","traits":{"email":"u1@example.com"}}`, 200, nil},
		{"datafly group", "/v1/g", static(bearer), `{"userId":"u1","groupId":"g1","traits":{"name":"Acme"}}`, 200, nil},
		{"JSON labelled text/plain", "/v1/t", static(with(bearer, "Content-Type", "text/plain")), track, 200, nil},
		{"JSON labelled form", "/v1/t", static(with(bearer, "Content-Type", "application/x-www-form-urlencoded")), track, 200, nil},
		{"datafly without key", "/v1/t", static(nil), track, 401, nil},
		{"datafly unknown key", "/v1/t", static(map[string]string{"Authorization": "Bearer dk_live_wrong"}), track, 401, nil},
		{"malformed JSON", "/v1/t", static(bearer), `{"userId":"u1",`, 400, nil},
		{"no userId nor anonymousId", "/v1/t", static(bearer), `{"event":"Signed Up"}`, 400, []string{"userId", "anonymousId"}},
		{"properties not an object", "/v1/t", static(bearer), `{"userId":"u1","event":"E","properties":"x"}`, 400, []string{"properties"}},
		{"timestamp not a date", "/v1/t", static(bearer), `{"userId":"u1","event":"E","timestamp":"yesterday"}`, 400, []string{"timestamp"}},
		{"batch bearer", "/v1/batch", static(bearer), batch, 200, nil},
		{"batch basic", "/v1/batch", static(basic), batch, 200, nil},
		{"batch gzip labelled form (RudderStack)", "/v1/batch", static(with(bearer, "Content-Encoding", "gzip", "Content-Type", "application/x-www-form-urlencoded")), batch, 200, nil},
		{"batch bad basic", "/v1/batch", static(badBasic), batch, 401, nil},
		{"batch not an array", "/v1/batch", static(bearer), `{"batch":{}}`, 400, []string{"batch"}},
		{"events signed single", "/v1/events", signed(bearer, 0, secret, single), single, 200, nil},
		{"events signed batch", "/v1/events", signed(bearer, 0, secret, batch), batch, 200, nil},
		{"events 4 min skew", "/v1/events", signed(bearer, -4*time.Minute, secret, single), single, 200, nil},
		{"events unsigned", "/v1/events", static(bearer), single, 401, nil},
		{"events wrong secret", "/v1/events", signed(bearer, 0, "whsec_wrong", single), single, 401, nil},
		{"events 6 min old", "/v1/events", signed(bearer, -6*time.Minute, secret, single), single, 401, nil},
		{"events 6 min ahead", "/v1/events", signed(bearer, 6*time.Minute, secret, single), single, 401, nil},
		{"events timestamp in seconds", "/v1/events", func() map[string]string {
			return with(bearer, "X-Timestamp", strconv.FormatInt(time.Now().Unix(), 10), "X-Signature", signHMAC(secret, time.Now().Unix(), single))
		}, single, 401, nil},
		{"events signed without pipeline key", "/v1/events", signed(nil, 0, secret, single), single, 401, nil},
		{"segment track basic", "/v1/track", static(basic), `{"userId":"s1","event":"Signed Up"}`, 200, nil},
		{"segment page basic", "/v1/page", static(basic), `{"anonymousId":"s1","name":"Home"}`, 200, nil},
		{"segment identify basic", "/v1/identify", static(basic), `{"userId":"s1","traits":{"email":"s1@example.com"}}`, 200, nil},
		{"segment group basic", "/v1/group", static(basic), `{"userId":"s1","groupId":"g1"}`, 200, nil},
		{"segment alias basic", "/v1/alias", static(basic), `{"userId":"s1","previousId":"s0"}`, 200, nil},
		{"segment writeKey in body", "/v1/identify", static(nil), `{"writeKey":"` + key + `","userId":"s2","traits":{"email":"s2@example.com"}}`, 200, nil},
		{"segment without key", "/v1/track", static(nil), `{"userId":"s1","event":"E"}`, 401, nil},
		{"segment bad basic", "/v1/track", static(badBasic), `{"userId":"s1","event":"E"}`, 401, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tt.body)
			if tt.hdr()["Content-Encoding"] == "gzip" {
				body = gzipped(tt.body)
			}
			code, _, got := do(t, "POST", "http://"+n.gateway+tt.path, tt.hdr(), body)
			if code != tt.status {
				t.Fatalf("status %d %s, want %d", code, got, tt.status)
			}
			switch {
			case code == 200 && string(bytes.TrimSpace(got)) != `{"success":true}`:
				t.Fatalf("answer %s, want {\"success\":true}", got)
			case code == 400:
				wantError(t, got, "INVALID_PAYLOAD", tt.names...)
			case code != 200:
				wantError(t, got, "")
			}
		})
	}

	t.Run("batch lists refused events", func(t *testing.T) {
		t.Parallel()
		code, _, got := do(t, "POST", "http://"+n.gateway+"/v1/batch", bearer, []byte(`{"batch":[
			{"type":"track","userId":"u1","event":"Signed Up"},{"type":"track","userId":"u1","event":"Signed Up"},
			{"type":"track","event":"Signed Up"},{"type":"track","userId":"u1","event":"Signed Up"}]}`))
		var a struct {
			Success  bool
			Rejected []map[string]any
		}
		json.Unmarshal(got, &a)
		if code != 200 || !a.Success || len(a.Rejected) != 1 {
			t.Fatalf("%d %s, want 200 success with one rejected", code, got)
		}
		r := a.Rejected[0]
		if r["index"] != 2.0 || r["code"] != "INVALID_PAYLOAD" || !strings.Contains(fmt.Sprint(r["message"]), "userId") {
			t.Fatalf("rejected %v, want index 2, code INVALID_PAYLOAD, a message naming userId", r)
		}
	})
	t.Run("a deleted pipeline's key is a bad key", func(t *testing.T) {
		t.Parallel()
		pl := n.createPipeline(t, tok, "deleted")
		h := map[string]string{"Authorization": "Bearer " + pl["pipeline_key"].(string)}
		if code, _, got := do(t, "POST", "http://"+n.gateway+"/v1/t", h, []byte(track)); code != 200 {
			t.Fatalf("before the delete: %d %s", code, got)
		}
		if code := n.call(t, "DELETE", "http://"+n.admin+"/v1/admin/pipelines/"+pl["id"].(string), tok, "", nil); code/100 != 2 {
			t.Fatalf("DELETE pipeline: %d", code)
		}
		code, _, got := do(t, "POST", "http://"+n.gateway+"/v1/t", h, []byte(track))
		if code != 401 {
			t.Fatalf("the key of a deleted pipeline: %d %s, want 401", code, got)
		}
		wantError(t, got, "")
	})
	t.Run("d.js", func(t *testing.T) {
		t.Parallel()
		code, h, got := do(t, "GET", "http://"+n.gateway+"/d.js", nil, nil)
		if code != 200 || !strings.Contains(h.Get("Content-Type"), "javascript") || len(got) < 100 {
			t.Fatalf("GET /d.js: %d %q, %d bytes", code, h.Get("Content-Type"), len(got))
		}
	})
	t.Run("CORS any origin by default", func(t *testing.T) {
		t.Parallel()
		code, h, _ := do(t, "OPTIONS", "http://"+n.gateway+"/v1/t", map[string]string{"Origin": "https://any.example",
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}, nil)
		if code/100 != 2 || h.Get("Access-Control-Allow-Origin") != "https://any.example" || h.Get("Access-Control-Allow-Credentials") != "true" {
			t.Fatalf("preflight: %d %v", code, h)
		}
		code, h, _ = do(t, "POST", "http://"+n.gateway+"/v1/t", with(bearer, "Origin", "https://any.example"), []byte(track))
		if code != 200 || h.Get("Access-Control-Allow-Origin") != "https://any.example" || h.Get("Access-Control-Allow-Credentials") != "true" {
			t.Fatalf("POST from an origin: %d %v", code, h)
		}
	})
}

// TestContractGatewayLimits: MAX_PAYLOAD_SIZE (after decompression),
// MAX_BATCH_SIZE, RATE_LIMIT_RPS and CORS_ORIGINS.
func TestContractGatewayLimits(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir(), "MAX_PAYLOAD_SIZE=4096", "MAX_BATCH_SIZE=2", "RATE_LIMIT_RPS=1", "CORS_ORIGINS=https://shop.example.com, https://m.shop.example.com")
	tok := n.login(t)
	sized := func(size int) string {
		s := `{"userId":"u1","event":"Signed Up","properties":{"pad":""}}`
		return strings.Replace(s, `""`, `"`+strings.Repeat("x", size-len(s))+`"`, 1)
	}
	bearer := func() map[string]string { return map[string]string{"Authorization": "Bearer " + n.pipeline(t, tok)} }
	gz := func(h map[string]string) map[string]string { h["Content-Encoding"] = "gzip"; return h }
	tests := []struct {
		name   string
		hdr    map[string]string
		body   []byte
		status int
	}{
		{"under the limit", bearer(), []byte(sized(4000)), 200},
		{"over the limit", bearer(), []byte(sized(4200)), 413},
		{"gzip over the limit once decompressed", gz(bearer()), gzipped(sized(6000)), 413},
		{"batch over MAX_BATCH_SIZE", bearer(), []byte(`{"batch":[{"type":"track","userId":"u","event":"E"},{"type":"track","userId":"u","event":"E"},{"type":"track","userId":"u","event":"E"}]}`), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := "/v1/t"
			if strings.HasPrefix(tt.name, "batch") {
				path = "/v1/batch"
			}
			code, _, got := do(t, "POST", "http://"+n.gateway+path, tt.hdr, tt.body)
			if code != tt.status {
				t.Fatalf("status %d %s, want %d", code, got, tt.status)
			}
			if code != 200 {
				wantError(t, got, "")
			}
		})
	}
	t.Run("rate limited", func(t *testing.T) {
		t.Parallel()
		h := bearer()
		for i := 0; i < 20; i++ {
			code, hdr, got := do(t, "POST", "http://"+n.gateway+"/v1/t", h, []byte(sized(100)))
			if code == 200 {
				continue
			}
			if code != 429 {
				t.Fatalf("status %d %s, want 200 or 429", code, got)
			}
			if s, err := strconv.Atoi(hdr.Get("Retry-After")); err != nil || s < 1 {
				t.Fatalf("429 with Retry-After %q, want whole seconds >= 1", hdr.Get("Retry-After"))
			}
			wantError(t, got, "")
			return
		}
		t.Fatal("20 requests in a row at RATE_LIMIT_RPS=1 were never refused with 429")
	})
	t.Run("CORS_ORIGINS", func(t *testing.T) {
		t.Parallel()
		for origin, allowed := range map[string]bool{"https://shop.example.com": true, "https://m.shop.example.com": true, "https://evil.example": false} {
			code, h, _ := do(t, "OPTIONS", "http://"+n.gateway+"/v1/t", map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST"}, nil)
			got := h.Get("Access-Control-Allow-Origin") == origin && h.Get("Access-Control-Allow-Credentials") == "true" && code/100 == 2
			if got != allowed || h.Get("Access-Control-Allow-Origin") == "*" {
				t.Errorf("preflight from %s: %d %v; allowed should be %v", origin, code, h, allowed)
			}
		}
	})
}

// TestContractIdentityAndConsent: identify and context.traits merge into
// the profile of both ids, new keys winning; consent from both shapes.
func TestContractIdentityAndConsent(t *testing.T) {
	t.Parallel()
	omni := newFakeOmnisend(t)
	n := start(t, t.TempDir(), "SIGNAL_OMNISEND_API_URL="+omni.URL)
	tok := n.login(t)
	key := n.pipeline(t, tok)
	n.install(t, tok, pageInstallBody)

	n.send(t, "/v1/i", key, `{"userId":"id-u","anonymousId":"id-a","traits":{"email":"first@example.com","first_name":"Ann"}}`)
	n.send(t, "/v1/i", key, `{"userId":"id-u","traits":{"email":" Second@Example.com","last_name":"Lee"}}`)
	n.send(t, "/v1/t", key, `{"anonymousId":"id-a","event":"Signed Up","properties":{"method":"via-anon"}}`)
	n.send(t, "/v1/t", key, `{"userId":"id-u","event":"Signed Up","properties":{"method":"via-user"}}`)
	n.send(t, "/v1/i", key, `{"anonymousId":"id-a","traits":{"phone":"+14155552671"}}`)
	n.send(t, "/v1/t", key, `{"userId":"id-u","event":"Signed Up","properties":{"method":"via-user-after-anon"}}`)
	n.send(t, "/v1/t", key, `{"anonymousId":"ctx-a","event":"Product Added","context":{"traits":{"email":"ctx@example.com","firstName":"Cy"}}}`)
	n.send(t, "/v1/t", key, `{"anonymousId":"ctx-a","event":"Signed Up","properties":{"method":"ctx-later"}}`)
	consent := map[string]struct{ consent, want string }{
		"datafly-true":   {`,"consent":{"canonical":{"marketing":true}}`, "subscribed"},
		"datafly-false":  {`,"consent":{"canonical":{"marketing":false}}`, "unsubscribed"},
		"segment-true":   {`,"consent":{"categoryPreferences":{"marketing":true}}`, "subscribed"},
		"segment-false":  {`,"consent":{"categoryPreferences":{"marketing":false}}`, "unsubscribed"},
		"absent":         {``, "nonSubscribed"},
		"other-category": {`,"consent":{"canonical":{"analytics":true}}`, "nonSubscribed"},
	}
	for m, c := range consent {
		n.send(t, "/v1/t", key, `{"userId":"c-`+m+`","event":"Signed Up","properties":{"method":"`+m+`"},
			"context":{"traits":{"email":"`+m+`@example.com"}`+c.consent+`}}`)
	}

	bodies := omni.waitFor(t, 5+len(consent))
	byMethod := map[string]map[string]any{}
	for _, b := range bodies {
		m := jsonObject(t, b)
		props, _ := m["properties"].(map[string]any)
		if method, ok := props["signUpMethod"].(string); ok {
			byMethod[method] = m
		}
	}
	contact := func(method string) map[string]any {
		c, _ := byMethod[method]["contact"].(map[string]any)
		return c
	}
	for _, method := range []string{"via-anon", "via-user"} {
		c := contact(method)
		if c["email"] != "second@example.com" || c["firstName"] != "Ann" || c["lastName"] != "Lee" {
			t.Errorf("event from %s carries contact %v, want second@example.com, Ann, Lee (merged, new keys winning)", method, c)
		}
	}
	if c := contact("via-user-after-anon"); c["phone"] != "+14155552671" || c["email"] != "second@example.com" {
		t.Errorf("event from the userId after traits came with its anonymousId: contact %v, want the phone too", c)
	}
	if c := contact("ctx-later"); c["email"] != "ctx@example.com" || c["firstName"] != "Cy" {
		t.Errorf("event after context.traits carries contact %v, want ctx@example.com, Cy", c)
	}
	for m, c := range consent {
		props, _ := byMethod[m]["properties"].(map[string]any)
		if props == nil || props["marketing_consent"] != c.want {
			t.Errorf("consent %s: properties %v, want marketing_consent %q", m, props, c.want)
		}
	}
}
