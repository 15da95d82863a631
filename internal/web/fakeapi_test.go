package web

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// fakeAPI is an in-memory Management API answering in the shapes of the
// contract and PLAN.md, enough for every page. It checks tokens and roles
// as the real one does, and records the writes it accepted.
type fakeAPI struct {
	mu      sync.Mutex
	now     func() time.Time
	users   map[string]*fakeUser // by email
	access  map[string]fakeToken
	refresh map[string]string // refresh token → user email
	n       int
	writes  []fakeWrite
	// respond overrides the answer of "METHOD /path" (after auth).
	respond map[string]fakeAnswer
	mux     *http.ServeMux
}

type fakeUser struct{ ID, Email, Role, Password string }

type fakeToken struct {
	email string
	exp   time.Time
}

type fakeWrite struct {
	Method, Path string
	Body         map[string]any
}

type fakeAnswer struct {
	Status int
	Body   string
}

func newFakeAPI(now func() time.Time) *fakeAPI {
	f := &fakeAPI{now: now, users: map[string]*fakeUser{}, access: map[string]fakeToken{}, refresh: map[string]string{},
		respond: map[string]fakeAnswer{}, mux: http.NewServeMux()}
	for _, role := range roles {
		f.users[role+"@example.com"] = &fakeUser{ID: "usr_" + role, Email: role + "@example.com", Role: role, Password: "pw-" + role}
	}
	f.routes()
	return f
}

// issue returns a JWT-shaped token whose exp the UI can read.
func (f *fakeAPI) issue(email string, ttl time.Duration) (string, string) {
	f.n++
	exp := f.now().Add(ttl)
	claims, _ := json.Marshal(map[string]any{"sub": email, "exp": exp.Unix()})
	acc := "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(claims) + fmt.Sprintf(".sig%d", f.n)
	ref := fmt.Sprintf("rt_%d", f.n)
	f.access[acc] = fakeToken{email: email, exp: exp}
	f.refresh[ref] = email
	return acc, ref
}

func (f *fakeAPI) writeLog() []fakeWrite {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeWrite(nil), f.writes...)
}

func writeFakeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if s, ok := v.(string); ok {
		io.WriteString(w, s)
		return
	}
	json.NewEncoder(w).Encode(v)
}

func fakeErr(w http.ResponseWriter, status int, code, msg, field string) {
	writeFakeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg, "field": field}})
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var body map[string]any
	if r.Body != nil {
		json.NewDecoder(r.Body).Decode(&body)
	}
	switch r.URL.Path {
	case "/v1/admin/auth/login":
		u := f.users[fmt.Sprint(body["email"])]
		if u == nil || u.Password != body["password"] {
			fakeErr(w, 401, "INVALID_CREDENTIALS", "email or password is wrong", "")
			return
		}
		acc, ref := f.issue(u.Email, 15*time.Minute)
		writeFakeJSON(w, 200, map[string]any{"access_token": acc, "refresh_token": ref, "token_type": "Bearer", "expires_in": 900})
		return
	case "/v1/admin/auth/refresh":
		email, ok := f.refresh[fmt.Sprint(body["refresh_token"])]
		if !ok {
			fakeErr(w, 401, "UNAUTHORIZED", "refresh token is unknown, already used or expired; log in again", "refresh_token")
			return
		}
		delete(f.refresh, fmt.Sprint(body["refresh_token"]))
		acc, ref := f.issue(email, 15*time.Minute)
		writeFakeJSON(w, 200, map[string]any{"access_token": acc, "refresh_token": ref, "token_type": "Bearer", "expires_in": 900})
		return
	case "/v1/admin/auth/logout":
		delete(f.refresh, fmt.Sprint(body["refresh_token"]))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	tok, ok := f.access[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok || !f.now().Before(tok.exp) {
		fakeErr(w, 401, "UNAUTHORIZED", "access token is invalid or expired", "")
		return
	}
	u := f.users[tok.email]
	adminOnly := strings.HasPrefix(r.URL.Path, "/v1/admin/users") || strings.HasPrefix(r.URL.Path, "/v1/admin/audit-log")
	if (adminOnly && u.Role != "admin") || (r.Method != http.MethodGet && u.Role == "viewer") {
		fakeErr(w, 403, "FORBIDDEN", "your role ("+u.Role+") may not do this", "")
		return
	}
	if a, ok := f.respond[r.Method+" "+r.URL.Path]; ok {
		writeFakeJSON(w, a.Status, a.Body)
		return
	}
	if r.Method != http.MethodGet {
		f.writes = append(f.writes, fakeWrite{Method: r.Method, Path: r.URL.Path, Body: body})
	}
	r = r.WithContext(r.Context())
	r.Header.Set("X-Fake-User", u.Email)
	f.mux.ServeHTTP(w, r)
}

const fakeIntegration = `{"id":"int_1","catalog_key":"omnisend","name":"Omnisend","variant":"default","delivery_mode":"server_side",
 "config":{"api_key":"****1234"},"enabled":true,"status":"paused","status_reason":"auth_failed",
 "status_text":"Omnisend refused the API key (401). Events wait; replace the key to resume.","pipeline_ids":[],"created_at":"2026-11-30T10:00:00Z"}`

const fakeCatalog = `{"key":"omnisend","name":"Omnisend","description":"Ecommerce-focused email and SMS marketing platform.",
 "category":"marketing_automation","status":"alpha",
 "config_fields":[{"key":"api_key","label":"API key","type":"secret","required":true,"help_text":"Your Omnisend API key."},
  {"key":"default_phone_region","label":"Default phone region","type":"string","required":false}],
 "variants":[{"key":"default","name":"Ecommerce (default)","description":"The default events."}],"delivery_modes":["server_side"]}`

const fakeLiveEvent = `{"id":"dlv_1","message_id":"m1","received_at":"2026-11-30T10:01:00Z","pipeline_id":"pip_1","type":"track",
 "event":"Order Completed","integration_id":"int_1","status":"failed","reason":"vendor_rejected",
 "reason_text":"Omnisend refused the event as malformed.","vendor_event_name":"placed order","attempts":1,
 "vendor_status":400,"vendor_response":"{\"error\":\"bad\"}","payload":{"eventName":"placed order"},"updated_at":"2026-11-30T10:01:01Z",
 "warnings":[{"code":"property_type_changed","message":"property \"value\" was a number, now a string"}]}`

const fakeRetrying = `{"id":"dlv_2","message_id":"m2","received_at":"2026-11-30T10:02:00Z","pipeline_id":"pip_1","type":"page",
 "event":"","integration_id":"int_1","status":"pending","reason":"retrying","reason_text":"Omnisend did not answer; Signal retries.",
 "next_attempt_at":"2026-11-30T10:05:00Z","attempts":2,"payload":null,"updated_at":"2026-11-30T10:02:01Z"}`

func (f *fakeAPI) routes() {
	ok := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { writeFakeJSON(w, 200, body) }
	}
	m := f.mux
	m.HandleFunc("GET /v1/admin/me", func(w http.ResponseWriter, r *http.Request) {
		u := f.users[r.Header.Get("X-Fake-User")]
		writeFakeJSON(w, 200, map[string]string{"id": u.ID, "email": u.Email, "role": u.Role})
	})
	m.HandleFunc("GET /v1/admin/integrations", ok(`{"data":[`+fakeIntegration+`],"next_cursor":"","has_more":false}`))
	m.HandleFunc("GET /v1/admin/integrations/int_1", ok(fakeIntegration))
	m.HandleFunc("PATCH /v1/admin/integrations/int_1", ok(fakeIntegration))
	m.HandleFunc("DELETE /v1/admin/integrations/int_1", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	m.HandleFunc("GET /v1/admin/integrations/int_1/health", func(w http.ResponseWriter, r *http.Request) {
		var per []string
		for i := range 60 {
			per = append(per, fmt.Sprintf(`{"at":"2026-11-30T09:%02d:00Z","delivered":%d,"filtered":%d,"failed":%d}`, i, i%7, i%3, i%5/4))
		}
		writeFakeJSON(w, 200, `{"status":"paused","status_reason":"auth_failed","status_text":"key refused",
		 "last_hour":{"delivered":120,"filtered":30,"failed":4},"last_day":{"delivered":2400,"filtered":310,"failed":17},
		 "backlog":12,"oldest_pending_seconds":95,"rate_limit":{"limit":400,"remaining":380,"window_seconds":60,"used_last_minute":20},
		 "per_minute":[`+strings.Join(per, ",")+`]}`)
	})
	m.HandleFunc("GET /v1/admin/integrations/int_1/backfill", ok(`{"data":[{"id":"bf_hist","integration_id":"int_1","status":"running",
		"accepted":200,"delivered":120,"failed":30,"filtered":10,"pending":50,"created_at":"2026-11-30T12:00:00Z","updated_at":"2026-11-30T12:01:00Z"}],
		"next_cursor":"","has_more":false}`))
	m.HandleFunc("POST /v1/admin/integrations/int_1/backfill", func(w http.ResponseWriter, r *http.Request) {
		writeFakeJSON(w, 202, `{"id":"bf_new","accepted":2,"rejected":[{"line":3,"code":"INVALID_PAYLOAD","message":"timestamp is required"}]}`)
	})
	m.HandleFunc("GET /v1/admin/integrations/int_1/blueprint", ok(`{"version":2,"defaults":{"action":"drop"},"events":{
		"Order Completed":{"vendor_event_name":"placed order","enabled":true,"priority":"high","mappings":[
		 {"source":"properties.order_id","target":"orderID"},{"source":"properties.revenue","else":["properties.total"],"target":"value"}]},
		"page":{"vendor_event_name":"page viewed","enabled":true}}}`))
	m.HandleFunc("PUT /v1/admin/integrations/int_1/blueprint", ok(`{}`))
	m.HandleFunc("GET /v1/admin/integrations/int_1/blueprint/versions", ok(`{"data":[
		{"version":2,"blueprint":{},"author":{"id":"usr_editor","email":"editor@example.com"},"summary":"Replaced the blueprint","created_at":"2026-11-30T11:00:00.000Z"},
		{"version":1,"blueprint":{},"author":{"id":"usr_admin","email":"admin@example.com"},"summary":"Installed with the default blueprint of variant \"default\"","created_at":"2026-11-30T10:00:00.000Z"}],
		"next_cursor":"","has_more":false}`))
	m.HandleFunc("POST /v1/admin/integrations/int_1/blueprint/versions/1/rollback", ok(`{"version":3,"blueprint":{},"author":{},"summary":"","created_at":"2026-11-30T12:00:00.000Z"}`))
	m.HandleFunc("POST /v1/admin/integrations/int_1/blueprint/reset", ok(`{"version":3,"blueprint":{},"author":{},"summary":"","created_at":"2026-11-30T12:00:00.000Z"}`))
	m.HandleFunc("POST /v1/admin/integrations/int_1/blueprint/preview", ok(`{"status":"pending","reason":"","reason_text":"",
		"vendor_event_name":"placed order","payload":{"eventName":"placed order","properties":{"orderID":"ORD-1001"}}}`))
	m.HandleFunc("POST /v1/admin/integrations/int_1/test", ok(`{"status":"delivered","vendor_status":202,"vendor_response":"{\"eventID\":\"e1\"}"}`))
	m.HandleFunc("POST /v1/admin/integrations/int_1/replay", ok(`{"requeued":3}`))
	m.HandleFunc("POST /v1/admin/live-events/dlv_1/replay", ok(`{"requeued":1}`))
	m.HandleFunc("GET /v1/admin/integration-catalog", ok(`{"data":[`+fakeCatalog+`]}`))
	m.HandleFunc("GET /v1/admin/integration-catalog/omnisend", ok(fakeCatalog))
	m.HandleFunc("POST /v1/admin/integration-catalog/omnisend/install", func(w http.ResponseWriter, r *http.Request) {
		writeFakeJSON(w, 201, fakeIntegration)
	})
	pipeline := `{"id":"pip_1","name":"Web shop","pipeline_key":"dk_live_abc","created_at":"2026-11-30T09:00:00Z"}`
	m.HandleFunc("GET /v1/admin/pipelines", ok(`{"data":[`+pipeline+`],"next_cursor":"","has_more":false}`))
	m.HandleFunc("GET /v1/admin/pipelines/pip_1", ok(pipeline))
	m.HandleFunc("PATCH /v1/admin/pipelines/pip_1", ok(pipeline))
	m.HandleFunc("DELETE /v1/admin/pipelines/pip_1", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	m.HandleFunc("POST /v1/admin/pipelines/pip_1/rotate", ok(`{"id":"pip_1","name":"Web shop","pipeline_key":"dk_live_rotated","signing_secret":"whsec_rotated_once",
		"signed_only_events":[],"previous_key_until":"2026-12-01T09:00:00Z","created_at":"2026-11-30T09:00:00Z"}`))
	m.HandleFunc("GET /v1/admin/alerts", ok(`{"webhook_url":"https://hooks.example.com/T1","secret_set":true,"backlog_age_seconds":900}`))
	m.HandleFunc("PUT /v1/admin/alerts", ok(`{"webhook_url":"https://hooks.example.com/T1","secret_set":true,"backlog_age_seconds":600}`))
	m.HandleFunc("POST /v1/admin/pipelines", func(w http.ResponseWriter, r *http.Request) {
		writeFakeJSON(w, 201, `{"id":"pip_2","name":"New","pipeline_key":"dk_live_new","signing_secret":"whsec_once","created_at":"2026-11-30T09:00:00Z"}`)
	})
	m.HandleFunc("GET /v1/admin/live-events", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") != "" {
			writeFakeJSON(w, 200, `{"data":[`+fakeLiveEvent+`],"next_cursor":"","has_more":false}`)
			return
		}
		writeFakeJSON(w, 200, `{"data":[`+fakeRetrying+`,`+fakeLiveEvent+`],"next_cursor":"c2","has_more":true}`)
	})
	m.HandleFunc("GET /v1/admin/live-events/counts", ok(`{"pending":1,"delivered":5,"filtered":2,"failed":1,"paused":0}`))
	m.HandleFunc("GET /v1/admin/live-events/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		io.WriteString(w, "data: "+strings.Join(strings.Fields(fakeLiveEvent), " ")+"\n\n")
	})
	m.HandleFunc("GET /v1/admin/live-events/dlv_1", ok(strings.TrimSuffix(fakeLiveEvent, "}")+`,
		"input":{"type":"track","event":"Order Completed","properties":{"order_id":"ORD-1"}},
		"processed":{"user_id":"u1","traits":{"email":"jane@example.com"},"consent":"subscribed"},
		"attempts":[{"at":"2026-11-30T10:01:01Z","vendor_status":400,"vendor_response":"{\"error\":\"missing contact\"}","duration_ms":85}]}`))
	m.HandleFunc("GET /v1/admin/users", ok(`{"data":[{"id":"usr_admin","email":"admin@example.com","role":"admin","created_at":"2026-11-30T08:00:00Z"},
		{"id":"usr_viewer","email":"viewer@example.com","role":"viewer","created_at":"2026-11-30T08:00:00Z"}],"next_cursor":"","has_more":false}`))
	m.HandleFunc("POST /v1/admin/users", func(w http.ResponseWriter, r *http.Request) {
		writeFakeJSON(w, 201, `{"id":"usr_new","email":"new@example.com","role":"editor","created_at":"2026-11-30T08:00:00Z"}`)
	})
	m.HandleFunc("PATCH /v1/admin/users/{id}", ok(`{"id":"usr_viewer","email":"viewer@example.com","role":"editor"}`))
	m.HandleFunc("DELETE /v1/admin/users/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	m.HandleFunc("GET /v1/admin/audit-log", ok(`{"data":[{"id":"aud_1","at":"2026-11-30T10:00:00Z","actor":{"id":"usr_admin","email":"admin@example.com"},
		"action":"integration.install","target":{"type":"integration","id":"int_1"},"summary":"installed Omnisend"}],"next_cursor":"a2","has_more":true}`))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fakeErr(w, 404, "NOT_FOUND", "no such route: "+r.Method+" "+r.URL.Path, "")
	})
}
