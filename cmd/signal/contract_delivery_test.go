package main

// Acceptance checks of the contract's delivery to Omnisend and default
// blueprint (see contract_test.go).

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var uuidV5 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// omniReply is one answer of a scriptedOmnisend.
type omniReply struct {
	status int
	header map[string]string
	body   string
}

// scriptedOmnisend is a fakeOmnisend (bodies and keys recorded alike)
// whose answer a test chooses by API key and by how many requests that key
// made before; it also records when each request came.
type scriptedOmnisend struct {
	*fakeOmnisend
	times []time.Time // under mu
}

func newScriptedOmnisend(t *testing.T, reply func(key string, nth int) omniReply) *scriptedOmnisend {
	t.Helper()
	s := &scriptedOmnisend{fakeOmnisend: &fakeOmnisend{status: http.StatusAccepted}}
	seen := map[string]int{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v5/events" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, `{"error":"unexpected request"}`, http.StatusNotFound)
			return
		}
		b, _ := io.ReadAll(r.Body)
		key := r.Header.Get("X-API-KEY")
		s.mu.Lock()
		s.bodies, s.apiKeys, s.times = append(s.bodies, b), append(s.apiKeys, key), append(s.times, time.Now())
		nth := seen[key]
		seen[key]++
		s.mu.Unlock()
		rep := reply(key, nth)
		for k, v := range rep.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(rep.status)
		io.WriteString(w, rep.body)
	}))
	t.Cleanup(s.Close)
	return s
}

// sent returns the bodies and arrival times of the requests made with key.
func (s *scriptedOmnisend) sent(key string) ([]map[string]any, []time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var bodies []map[string]any
	var times []time.Time
	for i, k := range s.apiKeys {
		if k == key {
			var m map[string]any
			json.Unmarshal(s.bodies[i], &m)
			bodies, times = append(bodies, m), append(times, s.times[i])
		}
	}
	return bodies, times
}

// TestContractDeliveryAnswers: the request Omnisend receives, and what each
// of its answers does. Each subtest has its own pipeline and integration
// (its own API key) on one node.
func TestContractDeliveryAnswers(t *testing.T) {
	t.Parallel()
	const (
		flakyKey, rejectKey, oldKey, newKey           = "flaky-key-0123456789", "reject-key-0123456789", "old-key-0123456789ab", "new-key-0123456789ab"
		resetKey, retryAfterKey, forbiddenKey, offKey = "reset-key-0123456789", "retry-after-key-01234", "forbidden-key-0123456", "off-key-0123456789ab"
	)
	omni := newScriptedOmnisend(t, func(key string, nth int) omniReply {
		switch {
		case key == flakyKey && nth == 0:
			return omniReply{status: 503, body: `{"error":"unavailable"}`}
		case key == rejectKey && nth == 0:
			return omniReply{status: 400, body: `{"error":"invalid contact email"}`}
		case key == oldKey:
			return omniReply{status: 401, body: `{"error":"unauthorized"}`}
		case key == forbiddenKey:
			return omniReply{status: 403, body: `{"error":"forbidden"}`}
		case key == resetKey && nth == 0:
			return omniReply{status: 429, header: map[string]string{"X-Rate-Limit-Reset": "1", "X-Rate-Limit-Remaining": "0"}, body: `{}`}
		case key == retryAfterKey && nth == 0:
			return omniReply{status: 429, header: map[string]string{"Retry-After": "1"}, body: `{}`}
		}
		return omniReply{status: 202, header: map[string]string{"X-Rate-Limit-Remaining": "399", "X-Rate-Limit-Reset": "60"}, body: `{"status":"accepted"}`}
	})
	n := start(t, t.TempDir(), "SIGNAL_OMNISEND_API_URL="+omni.URL)
	tok := n.login(t)
	setup := func(apiKey string) (pipelineKey, integrationID string) {
		pl := n.createPipeline(t, tok, apiKey)
		return pl["pipeline_key"].(string), n.install(t, tok, `{"name":"Omnisend","config":{"api_key":"`+apiKey+`"},"pipeline_ids":["`+pl["id"].(string)+`"]}`)
	}

	t.Run("request body; a retry keeps the eventID", func(t *testing.T) {
		t.Parallel()
		key, id := setup(flakyKey)
		q := "integration_id=" + id
		n.send(t, "/v1/t", key, `{"userId":"rq","messageId":"rq-1","event":"Signed Up","timestamp":"2026-03-01T12:34:56.789+01:00","properties":{"method":"email"},
			"context":{"locale":"en-GB","traits":{"email":"  Jane.DOE@Example.COM ","phone":"07700 900123","firstName":"Jane","lastName":"Doe"}}}`)
		if row := n.liveRow(t, tok, q, "rq-1", "delivered"); row["attempts"] != 2.0 {
			t.Errorf("delivered after a 503: attempts %v, want 2", row["attempts"])
		}
		bodies, _ := omni.sent(flakyKey)
		if len(bodies) != 2 || bodies[0]["eventID"] != bodies[1]["eventID"] {
			t.Fatalf("Omnisend saw %d requests, eventIDs %v then %v: want the same eventID on the retry", len(bodies), bodies[0]["eventID"], bodies[len(bodies)-1]["eventID"])
		}
		b := bodies[1]
		keys := make([]string, 0, len(b))
		for k := range b {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !reflect.DeepEqual(keys, []string{"contact", "eventID", "eventName", "eventTime", "origin", "properties"}) {
			t.Errorf("body keys %v, want eventName, origin, eventID, eventTime, contact, properties (no eventVersion)", keys)
		}
		eventTime, err := time.Parse(time.RFC3339, b["eventTime"].(string))
		if b["eventName"] != "signed up" || b["origin"] != "api" || !uuidV5.MatchString(b["eventID"].(string)) || err != nil ||
			!eventTime.Equal(time.Date(2026, 3, 1, 11, 34, 56, 789e6, time.UTC)) {
			t.Errorf("body %v", b)
		}
		wantContact := map[string]any{"email": "jane.doe@example.com", "phone": "+447700900123", "firstName": "Jane", "lastName": "Doe"}
		if !reflect.DeepEqual(b["contact"], wantContact) {
			t.Errorf("contact %v, want %v", b["contact"], wantContact)
		}
		if want := map[string]any{"signUpMethod": "email", "marketing_consent": "nonSubscribed"}; !reflect.DeepEqual(b["properties"], want) {
			t.Errorf("properties %v, want %v", b["properties"], want)
		}

		// No messageId: one is generated; originalTimestamp is corrected
		// for the client's clock, which is an hour ahead (sentAt).
		n.send(t, "/v1/t", key, `{"userId":"rq","event":"Signed Up","originalTimestamp":"2020-01-01T01:00:00Z","sentAt":"2020-01-01T02:00:00Z"}`)
		sent := time.Now()
		eventually(t, "the second event", func() bool { b, _ := omni.sent(flakyKey); return len(b) == 3 })
		bodies, _ = omni.sent(flakyKey)
		got, _ := time.Parse(time.RFC3339, bodies[2]["eventTime"].(string))
		if d := sent.Add(-time.Hour).Sub(got); d < -5*time.Second || d > 5*time.Second {
			t.Errorf("eventTime %v, want about %v (originalTimestamp corrected with sentAt)", bodies[2]["eventTime"], sent.Add(-time.Hour).UTC())
		}
		if bodies[2]["eventID"] == bodies[0]["eventID"] || !uuidV5.MatchString(bodies[2]["eventID"].(string)) {
			t.Errorf("eventID %v of a second message", bodies[2]["eventID"])
		}
		// A Segment batch gives sentAt once for all its messages.
		n.send(t, "/v1/batch", key, `{"batch":[{"type":"track","userId":"rq","event":"Signed Up","originalTimestamp":"2020-01-01T01:00:00Z"}],"sentAt":"2020-01-01T03:00:00Z"}`)
		sent = time.Now()
		eventually(t, "the batched event", func() bool { b, _ := omni.sent(flakyKey); return len(b) == 4 })
		bodies, _ = omni.sent(flakyKey)
		got, _ = time.Parse(time.RFC3339, bodies[3]["eventTime"].(string))
		if d := sent.Add(-2 * time.Hour).Sub(got); d < -5*time.Second || d > 5*time.Second {
			t.Errorf("eventTime %v, want about %v (originalTimestamp corrected with the batch's sentAt)", bodies[3]["eventTime"], sent.Add(-2*time.Hour).UTC())
		}
		_, body := n.adminCall(t, "GET", "/v1/admin/live-events?event=Signed+Up&"+q, tok, "")
		for _, d := range wantList(t, "live events", body) {
			if d.(map[string]any)["message_id"] == "" {
				t.Errorf("an event without messageId shows no message_id: %v", d)
			}
		}
	})

	t.Run("400 fails vendor_rejected, body kept; replay", func(t *testing.T) {
		t.Parallel()
		key, id := setup(rejectKey)
		n.send(t, "/v1/t", key, `{"userId":"rj","messageId":"rj-1","event":"Signed Up","context":{"traits":{"email":"rj@example.com"}}}`)
		row := n.liveRow(t, tok, "integration_id="+id, "rj-1", "failed")
		if row["reason"] != "vendor_rejected" || row["vendor_status"] != 400.0 || !strings.Contains(row["vendor_response"].(string), "invalid contact email") {
			t.Fatalf("live event after a 400: %v", row)
		}
		future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		code, body := n.adminCall(t, "POST", "/v1/admin/integrations/"+id+"/replay", tok, `{"status":"failed","since":"`+future+`"}`)
		if code != 200 || !reflect.DeepEqual(jsonObject(t, []byte(body)), map[string]any{"requeued": 0.0}) {
			t.Fatalf("replay of events failed since %s: %d %s, want {\"requeued\":0}", future, code, body)
		}
		code, body = n.adminCall(t, "POST", "/v1/admin/integrations/"+id+"/replay", tok, `{"status":"failed"}`)
		if code != 200 || !reflect.DeepEqual(jsonObject(t, []byte(body)), map[string]any{"requeued": 1.0}) {
			t.Fatalf("replay: %d %s, want {\"requeued\":1}", code, body)
		}
		n.waitLive(t, tok, "integration_id="+id, "rj-1", "delivered")
	})

	t.Run("401 pauses auth_failed until the key is replaced", func(t *testing.T) {
		t.Parallel()
		key, id := setup(oldKey)
		q := "integration_id=" + id
		n.send(t, "/v1/t", key, `{"userId":"au","messageId":"au-1","event":"Signed Up","context":{"traits":{"email":"au1@example.com"}}}`)
		if row := n.liveRow(t, tok, q, "au-1", "paused"); row["reason"] != "auth_failed" {
			t.Errorf("live event after a 401: %v", row)
		}
		if _, body := n.adminCall(t, "GET", "/v1/admin/integrations/"+id, tok, ""); jsonObject(t, []byte(body))["status"] != "paused" {
			t.Errorf("integration after a 401: %s", body)
		}
		n.send(t, "/v1/t", key, `{"userId":"au","messageId":"au-2","event":"Signed Up","context":{"traits":{"email":"au2@example.com"}}}`)
		if row := n.liveRow(t, tok, q, "au-2", "paused"); row["reason"] != "auth_failed" {
			t.Errorf("live event sent while paused: %v", row)
		}
		time.Sleep(300 * time.Millisecond) // a paused integration sends nothing
		if bodies, _ := omni.sent(oldKey); len(bodies) != 1 {
			t.Errorf("%d requests with the refused key, want 1: paused events wait", len(bodies))
		}
		if code, body := n.adminCall(t, "PATCH", "/v1/admin/integrations/"+id, tok, `{"config":{"api_key":"`+newKey+`"}}`); code != 200 {
			t.Fatalf("replace the key: %d %s", code, body)
		}
		for _, m := range []string{"au-1", "au-2"} {
			if row := n.liveRow(t, tok, q, m, "delivered"); row["attempts"] != 1.0 {
				t.Errorf("%s delivered after the key was replaced with attempts %v, want 1 (a 401 spends none)", m, row["attempts"])
			}
		}
		if bodies, _ := omni.sent(newKey); len(bodies) != 2 {
			t.Errorf("%d requests with the new key, want 2", len(bodies))
		}
	})

	for _, k := range []string{resetKey, retryAfterKey} {
		t.Run("429 waits, spends no attempt: "+k, func(t *testing.T) {
			t.Parallel()
			key, id := setup(k)
			n.send(t, "/v1/t", key, `{"userId":"sl","messageId":"sl-1","event":"Signed Up","context":{"traits":{"email":"sl@example.com"}}}`)
			if row := n.liveRow(t, tok, "integration_id="+id, "sl-1", "delivered"); row["attempts"] != 1.0 {
				t.Errorf("delivered after a 429 with attempts %v, want 1", row["attempts"])
			}
			if _, times := omni.sent(k); len(times) != 2 || times[1].Sub(times[0]) < 900*time.Millisecond {
				t.Errorf("requests at %v: want the retry 1 s after the 429, as its header says", times)
			}
		})
	}

	t.Run("403 pauses auth_failed", func(t *testing.T) {
		t.Parallel()
		key, id := setup(forbiddenKey)
		n.send(t, "/v1/t", key, `{"userId":"fb","messageId":"fb-1","event":"Signed Up","context":{"traits":{"email":"fb@example.com"}}}`)
		if row := n.liveRow(t, tok, "integration_id="+id, "fb-1", "paused"); row["reason"] != "auth_failed" {
			t.Errorf("live event after a 403: %v", row)
		}
	})

	t.Run("enabled false stops new deliveries", func(t *testing.T) {
		t.Parallel()
		key, id := setup(offKey)
		if code, body := n.adminCall(t, "PATCH", "/v1/admin/integrations/"+id, tok, `{"enabled":false}`); code != 200 {
			t.Fatalf("disable: %d %s", code, body)
		}
		n.send(t, "/v1/t", key, `{"userId":"off","messageId":"off-1","event":"Signed Up","context":{"traits":{"email":"off@example.com"}}}`)
		eventually(t, "the event of a disabled integration to show integration_disabled", func() bool {
			_, body := n.adminCall(t, "GET", "/v1/admin/live-events?integration_id="+id, tok, "")
			return strings.Contains(body, `"reason":"integration_disabled"`)
		})
		time.Sleep(300 * time.Millisecond)
		if bodies, _ := omni.sent(offKey); len(bodies) != 0 {
			t.Errorf("a disabled integration sent %d events", len(bodies))
		}
	})
}

// TestContractDefaultBlueprint: each row of the default blueprint, its
// fallbacks, the events it drops, and a blueprint edited with PUT.
func TestContractDefaultBlueprint(t *testing.T) {
	t.Parallel()
	omni := newFakeOmnisend(t)
	n := start(t, t.TempDir(), "SIGNAL_OMNISEND_API_URL="+omni.URL)
	tok := n.login(t)
	key := n.pipeline(t, tok)
	id := n.install(t, tok, `{"name":"Omnisend","variant":"default","config":{"api_key":"AjWvksZpTG4JZBdc4xxxxxxxx","default_phone_region":"US"},"delivery_mode":"server_side"}`)
	n.send(t, "/v1/i", key, `{"userId":"bp","traits":{"email":"BP@Example.com","phone":"(415) 555-2671"}}`)

	type row struct {
		msg, path, body           string
		status, reason, eventName string
		props                     string // the properties Omnisend receives, marketing_consent aside
	}
	const page = `"context":{"page":{"url":"https://shop.example/ctx","title":"Ctx title","referrer":"https://ref.example/ctx"}}`
	rows := []row{
		{"page-props", "/v1/p", `{"properties":{"url":"https://shop.example/p","title":"P title","referrer":"https://ref.example/p","path":"/p"},` + page + `}`,
			"delivered", "", "page viewed", `{"url":"https://shop.example/p","title":"P title","referrer":"https://ref.example/p"}`},
		{"page-context", "/v1/p", `{"name":"Home",` + page + `}`,
			"delivered", "", "page viewed", `{"url":"https://shop.example/ctx","title":"Ctx title","referrer":"https://ref.example/ctx"}`},
		{"page-mixed", "/v1/p", `{"properties":{"url":"https://shop.example/m"},` + page + `}`,
			"delivered", "", "page viewed", `{"url":"https://shop.example/m","title":"Ctx title","referrer":"https://ref.example/ctx"}`},
		{"signed-up", "/v1/t", `{"event":"Signed Up","properties":{"method":"google","plan":"pro"}}`,
			"delivered", "", "signed up", `{"signUpMethod":"google"}`},
		{"viewed", "/v1/t", `{"event":"Product Viewed","properties":{"product_id":"SKU-1","name":"Scarf","price":39.95,"currency":"GBP","url":"https://shop.example/scarf","image_url":"https://img.example/s.jpg","sku":"S1"}}`,
			"delivered", "", "product viewed", `{"productID":"SKU-1","title":"Scarf","price":39.95,"currency":"GBP","url":"https://shop.example/scarf","imageUrl":"https://img.example/s.jpg"}`},
		{"added", "/v1/t", `{"event":"Product Added","properties":{"product_id":"SKU-2","name":"Hat","price":10,"quantity":2,"currency":"GBP","cart_id":"C-1","variant":"red"}}`,
			"delivered", "", "added to cart", `{"productID":"SKU-2","title":"Hat","price":10,"quantity":2,"currency":"GBP","cartID":"C-1"}`},
		{"checkout-value", "/v1/t", `{"event":"Checkout Started","properties":{"value":50.5,"revenue":40,"currency":"EUR","products":[{"product_id":"SKU-1","quantity":1}],"checkout_url":"https://shop.example/co"},` + page + `}`,
			"delivered", "", "started checkout", `{"value":50.5,"currency":"EUR","products":[{"product_id":"SKU-1","quantity":1}],"abandonedCheckoutURL":"https://shop.example/co"}`},
		{"checkout-fallbacks", "/v1/t", `{"event":"Checkout Started","properties":{"revenue":40,"currency":"EUR"},` + page + `}`,
			"delivered", "", "started checkout", `{"value":40,"currency":"EUR","abandonedCheckoutURL":"https://shop.example/ctx"}`},
		{"order-total", "/v1/t", `{"event":"Order Completed","properties":{"order_id":"O-1","total":30,"currency":"USD","coupon":"TEN","products":[],"tax":2}}`,
			"delivered", "", "placed order", `{"orderID":"O-1","value":30,"currency":"USD","discountCode":"TEN","products":[]}`},
		{"order-sparse", "/v1/t", `{"event":"Order Completed","properties":{"order_id":"O-2"}}`,
			"delivered", "", "placed order", `{"orderID":"O-2"}`},
		{"not-enabled", "/v1/t", `{"event":"Cart Viewed","properties":{"cart_id":"C-1"}}`, "filtered", "event_not_enabled", "", ""},
		{"no-identifier", "/v1/t", `{"userId":"nobody","event":"Signed Up","properties":{"method":"email"}}`, "filtered", "no_identifier", "", ""},
	}
	for _, r := range rows {
		body := strings.Replace(r.body, "{", `{"messageId":"`+r.msg+`",`, 1)
		if !strings.Contains(body, `"userId"`) {
			body = strings.Replace(body, "{", `{"userId":"bp",`, 1)
		}
		n.send(t, r.path, key, body)
	}
	q := "integration_id=" + id
	check := func(r row) {
		t.Helper()
		got := n.liveRow(t, tok, q, r.msg, r.status)
		if r.status != "delivered" {
			if got["reason"] != r.reason {
				t.Errorf("%s: reason %v, want %s", r.msg, got["reason"], r.reason)
			}
			return
		}
		payload, _ := got["payload"].(map[string]any)
		var want map[string]any
		json.Unmarshal([]byte(r.props), &want)
		want["marketing_consent"] = "nonSubscribed"
		if payload["eventName"] != r.eventName || !reflect.DeepEqual(payload["properties"], want) {
			t.Errorf("%s: Omnisend received %s %v, want %s %v", r.msg, payload["eventName"], payload["properties"], r.eventName, want)
		}
		if et, err := time.Parse(time.RFC3339, payload["eventTime"].(string)); err != nil || time.Since(et).Abs() > time.Minute {
			t.Errorf("%s: eventTime %v, want the time of receipt (no timestamp sent)", r.msg, payload["eventTime"])
		}
		if c := payload["contact"]; !reflect.DeepEqual(c, map[string]any{"email": "bp@example.com", "phone": "+14155552671"}) {
			t.Errorf("%s: contact %v, want bp@example.com, +14155552671 (default_phone_region US)", r.msg, c)
		}
	}
	for _, r := range rows {
		check(r)
	}

	// An unreadable phone is left out and said on the live event.
	n.send(t, "/v1/t", key, `{"userId":"bad-phone","messageId":"bad-phone","event":"Signed Up","context":{"traits":{"email":"bp2@example.com","phone":"call me"}}}`)
	got := n.liveRow(t, tok, q, "bad-phone", "delivered")
	c, _ := got["payload"].(map[string]any)["contact"].(map[string]any)
	delete(got, "payload")
	if s, _ := json.Marshal(got); c["phone"] != nil || !strings.Contains(strings.ToLower(string(s)), "phone") {
		t.Errorf("unreadable phone: contact %v, live event %s; want it left out and said", c, s)
	}

	// Edited: a new event without mappings forwards its properties as
	// they are; Signed Up sends only its mapped targets.
	code, body := n.adminCall(t, "GET", "/v1/admin/integrations/"+id+"/blueprint", tok, "")
	var bp map[string]any
	json.Unmarshal([]byte(body), &bp)
	events := bp["events"].(map[string]any)
	events["Wishlisted"] = map[string]any{"vendor_event_name": "wishlisted", "enabled": true}
	events["Signed Up"] = map[string]any{"vendor_event_name": "signed up", "enabled": true,
		"mappings": []any{map[string]any{"source": "properties.plan", "target": "plan"}, map[string]any{"source": "properties.absent", "target": "gone"}}}
	edited, _ := json.Marshal(bp)
	if code, body = n.adminCall(t, "PUT", "/v1/admin/integrations/"+id+"/blueprint", tok, string(edited)); code != 200 {
		t.Fatalf("PUT blueprint: %d %s", code, body)
	}
	edits := []row{
		{"wishlisted", "/v1/t", `{"event":"Wishlisted","properties":{"product_id":"SKU-9","price":12.5,"qty":3,"tags":["a","b"],"gift":false}}`,
			"delivered", "", "wishlisted", `{"product_id":"SKU-9","price":12.5,"qty":3,"tags":["a","b"],"gift":false}`},
		{"signed-up-mapped", "/v1/t", `{"event":"Signed Up","properties":{"method":"google","plan":"pro"}}`,
			"delivered", "", "signed up", `{"plan":"pro"}`},
	}
	for _, r := range edits {
		n.send(t, r.path, key, strings.Replace(r.body, "{", `{"userId":"bp","messageId":"`+r.msg+`",`, 1))
	}
	for _, r := range edits {
		check(r)
	}
}
