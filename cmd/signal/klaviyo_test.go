package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// kreq is one request the fake Klaviyo saw.
type kreq struct {
	path, auth, revision, contentType string
	body                              []byte
	status                            int
	at                                time.Time
}

// fakeKlaviyo records POST /api/events and /api/profile-import; the first
// `throttle` event requests are answered 429 with Retry-After: 1.
type fakeKlaviyo struct {
	*httptest.Server
	mu       sync.Mutex
	reqs     []kreq
	throttle int
}

func newFakeKlaviyo(t *testing.T, throttle int) *fakeKlaviyo {
	t.Helper()
	f := &fakeKlaviyo{throttle: throttle}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rq := kreq{path: r.URL.Path, auth: r.Header.Get("Authorization"), revision: r.Header.Get("revision"),
			contentType: r.Header.Get("Content-Type"), body: b, at: time.Now()}
		f.mu.Lock()
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/accounts":
			rq.status = http.StatusOK
			if rq.auth == "Klaviyo-API-Key "+refusedKey {
				rq.status = http.StatusUnauthorized
			}
		case r.Method != http.MethodPost:
			rq.status = http.StatusNotFound
		case r.URL.Path == "/api/events" && f.throttle > 0:
			f.throttle--
			rq.status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", "1")
		case r.URL.Path == "/api/events":
			rq.status = http.StatusAccepted
		case r.URL.Path == "/api/profile-import":
			rq.status = http.StatusCreated
		default:
			rq.status = http.StatusNotFound
		}
		f.reqs = append(f.reqs, rq)
		f.mu.Unlock()
		w.Header().Set("RateLimit-Limit", "3500")
		w.Header().Set("RateLimit-Remaining", "3499")
		w.Header().Set("RateLimit-Reset", "60")
		w.WriteHeader(rq.status)
		if rq.status == http.StatusCreated {
			w.Write([]byte(`{"data":{"type":"profile","id":"01P"}}`))
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeKlaviyo) requests() []kreq {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]kreq(nil), f.reqs...)
}

// waitFor waits until n requests to path were answered with a 2xx.
func (f *fakeKlaviyo) waitFor(t *testing.T, path string, n int) []kreq {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var ok []kreq
		for _, r := range f.requests() {
			if r.path == path && r.status/100 == 2 {
				ok = append(ok, r)
			}
		}
		if len(ok) >= n {
			return ok
		}
		if time.Now().After(deadline) {
			t.Fatalf("Klaviyo accepted %d requests to %s, want %d (all: %d)", len(ok), path, n, len(f.requests()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kevent is what the test reads of a Klaviyo JSON:API document.
type kevent struct {
	Data struct {
		Type       string `json:"type"`
		Attributes struct {
			Email      string         `json:"email"`
			ExternalID string         `json:"external_id"`
			Properties map[string]any `json:"properties"`
			Value      json.Number    `json:"value"`
			Currency   string         `json:"value_currency"`
			UniqueID   string         `json:"unique_id"`
			Metric     struct {
				Data struct {
					Attributes struct {
						Name string `json:"name"`
					} `json:"attributes"`
				} `json:"data"`
			} `json:"metric"`
			Profile struct {
				Data struct {
					Type       string `json:"type"`
					Attributes struct {
						Email      string `json:"email"`
						ExternalID string `json:"external_id"`
					} `json:"attributes"`
				} `json:"data"`
			} `json:"profile"`
		} `json:"attributes"`
	} `json:"data"`
}

const (
	klaviyoKey = "pk_e2e_klaviyo_private_key_1234"
	refusedKey = "pk_e2e_klaviyo_refused_key_999"
)

// TestKlaviyoBesideOmnisend: one store, both vendors installed. identify
// then Order Completed reach Omnisend as "placed order" and Klaviyo as a
// profile import and "Placed Order", for the same person; Klaviyo's 429
// with Retry-After is waited out without spending an attempt; Omnisend
// answering 401 pauses Omnisend only, while Klaviyo keeps delivering.
func TestKlaviyoBesideOmnisend(t *testing.T) {
	t.Parallel()
	omni := newFakeOmnisend(t)
	klav := newFakeKlaviyo(t, 1)
	n := start(t, t.TempDir(), "SIGNAL_OMNISEND_API_URL="+omni.URL, "SIGNAL_KLAVIYO_API_URL="+klav.URL)
	tok := n.login(t)
	key := n.pipeline(t, tok)
	var om, kl struct {
		ID string `json:"id"`
	}
	if code := n.call(t, "POST", "http://"+n.admin+"/v1/admin/integration-catalog/omnisend/install", tok, pageInstallBody, &om); code != 201 {
		t.Fatalf("install omnisend: %d", code)
	}
	// The key is checked once (GET /api/accounts): a refused key is not installed.
	var refused struct {
		Error struct {
			Field string `json:"field"`
		} `json:"error"`
	}
	if code := n.call(t, "POST", "http://"+n.admin+"/v1/admin/integration-catalog/klaviyo/install", tok,
		`{"name":"Klaviyo","variant":"default","config":{"api_key":"`+refusedKey+`"},"delivery_mode":"server_side"}`, &refused); code != 400 || refused.Error.Field != "config.api_key" {
		t.Fatalf("install with a refused key: %d %+v, want 400 naming config.api_key", code, refused)
	}
	if code := n.call(t, "POST", "http://"+n.admin+"/v1/admin/integration-catalog/klaviyo/install", tok,
		`{"name":"Klaviyo","variant":"default","config":{"api_key":"`+klaviyoKey+`"},"delivery_mode":"server_side"}`, &kl); code != 201 {
		t.Fatalf("install klaviyo: %d", code)
	}

	n.send(t, "/v1/i", key, `{"userId":"user-123","messageId":"id-1","traits":{"email":"Jane@Example.com","first_name":"Jane","plan":"gold"}}`)
	n.send(t, "/v1/t", key, `{"userId":"user-123","event":"Order Completed","messageId":"order-1","timestamp":"2026-11-27T09:30:00Z",
		"properties":{"order_id":"ORDER-1","revenue":89.90,"currency":"GBP","products":[{"product_id":"SKU-1","price":89.90,"quantity":1}]}}`)

	// Omnisend: placed order for jane.
	var ob struct {
		EventName string `json:"eventName"`
		Contact   struct {
			Email string `json:"email"`
		} `json:"contact"`
	}
	json.Unmarshal(omni.waitFor(t, 1)[0], &ob)
	if ob.EventName != "placed order" || ob.Contact.Email != "jane@example.com" {
		t.Fatalf("Omnisend received %+v, want placed order for jane@example.com", ob)
	}

	// Klaviyo: the profile first, then the order (after a 429).
	prof := klav.waitFor(t, "/api/profile-import", 1)[0]
	order := klav.waitFor(t, "/api/events", 1)[0]
	for _, r := range []kreq{prof, order} {
		if r.auth != "Klaviyo-API-Key "+klaviyoKey || r.revision != "2026-10-15" || r.contentType != "application/vnd.api+json" {
			t.Fatalf("Klaviyo request headers auth=%q revision=%q content-type=%q", r.auth, r.revision, r.contentType)
		}
	}
	var pd, ed kevent
	json.Unmarshal(prof.body, &pd)
	json.Unmarshal(order.body, &ed)
	if pd.Data.Type != "profile" || pd.Data.Attributes.Email != "jane@example.com" || pd.Data.Attributes.ExternalID != "user-123" ||
		pd.Data.Attributes.Properties["plan"] != "gold" {
		t.Fatalf("profile import %s", prof.body)
	}
	ea := ed.Data.Attributes
	if ed.Data.Type != "event" || ea.Metric.Data.Attributes.Name != "Placed Order" || ea.Profile.Data.Type != "profile" ||
		ea.Profile.Data.Attributes.Email != "jane@example.com" || ea.Profile.Data.Attributes.ExternalID != "user-123" ||
		ea.Value.String() != "89.90" || ea.Currency != "GBP" || ea.Properties["OrderId"] != "ORDER-1" || ea.UniqueID == "" {
		t.Fatalf("Klaviyo event %s", order.body)
	}
	var throttled []kreq
	for _, r := range klav.requests() {
		if r.path == "/api/events" {
			throttled = append(throttled, r)
		}
	}
	if len(throttled) != 2 || throttled[0].status != 429 || string(throttled[0].body) != string(order.body) {
		t.Fatalf("Klaviyo saw %d event requests, want the 429'd one then the same body again", len(throttled))
	}
	if waited := throttled[1].at.Sub(throttled[0].at); waited < 900*time.Millisecond {
		t.Fatalf("retried %v after a 429 with Retry-After: 1, want about a second", waited)
	}
	le := n.liveEvent(t, tok, kl.ID, "order-1", "delivered")
	if le.Attempts != 1 || le.VendorEventName != "Placed Order" || string(le.Payload) != string(order.body) {
		t.Fatalf("Klaviyo live event %+v: want 1 attempt (the 429 spends none), Placed Order, the body sent", le)
	}
	if le := n.liveEvent(t, tok, kl.ID, "id-1", "delivered"); le.VendorEventName != "profile-import" {
		t.Fatalf("identify live event shows %q, want profile-import", le.VendorEventName)
	}

	// Omnisend refuses its key: Omnisend pauses, Klaviyo goes on.
	omni.mu.Lock()
	omni.status = http.StatusUnauthorized
	omni.mu.Unlock()
	for _, id := range []string{"order-2", "order-3"} {
		n.send(t, "/v1/t", key, `{"userId":"user-123","event":"Order Completed","messageId":"`+id+`","properties":{"order_id":"`+id+`","revenue":10}}`)
	}
	klav.waitFor(t, "/api/events", 3)
	n.liveEvent(t, tok, kl.ID, "order-3", "delivered")
	deadline := time.Now().Add(10 * time.Second)
	for {
		var in struct {
			Status       string `json:"status"`
			StatusReason string `json:"status_reason"`
		}
		n.call(t, "GET", "http://"+n.admin+"/v1/admin/integrations/"+om.ID, tok, "", &in)
		if in.Status == "paused" && in.StatusReason == "auth_failed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Omnisend integration %+v, want paused/auth_failed", in)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var kin struct {
		Status string `json:"status"`
	}
	n.call(t, "GET", "http://"+n.admin+"/v1/admin/integrations/"+kl.ID, tok, "", &kin)
	if kin.Status != "active" {
		t.Fatalf("Klaviyo integration is %q, want active", kin.Status)
	}
	if strings.Contains(n.stderr.String(), klaviyoKey) || strings.Contains(n.stderr.String(), "jane@example.com") {
		t.Fatal("the Klaviyo key or the email was logged")
	}
}

// klaviyoLiveRow is the part of a Live Events row these tests read.
type klaviyoLiveRow struct {
	Status          string          `json:"status"`
	VendorEventName string          `json:"vendor_event_name"`
	Attempts        int             `json:"attempts"`
	Payload         json.RawMessage `json:"payload"`
	MessageID       string          `json:"message_id"`
}

// liveEvent waits until the message's row on integration id has status.
func (n *node) liveEvent(t *testing.T, tok, id, messageID, status string) klaviyoLiveRow {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var pg struct {
			Data []klaviyoLiveRow `json:"data"`
		}
		n.call(t, "GET", "http://"+n.admin+"/v1/admin/live-events?limit=100&integration_id="+id, tok, "", &pg)
		for _, d := range pg.Data {
			if d.MessageID == messageID && d.Status == status {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s live event for %s on %s: %+v", status, messageID, id, pg.Data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
