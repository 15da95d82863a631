// Package admin is the Management API under /v1/admin: authentication,
// pipelines, the integration catalog and integrations, and Live Events.
package admin

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/token"
)

// Store is the storage the Management API uses.
type Store interface {
	store.PipelineStore
	store.UserStore
	store.AuditStore
	store.IntegrationStore
	store.BlueprintStore
	ListLiveEvents(ctx context.Context, p store.ListLiveEventsParams) ([]*signal.LiveEvent, string, error)
	CountLiveEvents(ctx context.Context, p store.ListLiveEventsParams) (store.LiveCounts, error)
	GetLiveEvent(ctx context.Context, p store.GetLiveEventParams) (*signal.LiveEventDetail, error)
	IntegrationHealth(ctx context.Context, p store.IntegrationHealthParams) (*store.IntegrationHealth, error)
	RequeueDeliveries(ctx context.Context, p store.RequeueDeliveriesParams) (int, error)
	ReplayableDeliveries(ctx context.Context, p store.ReplayableParams) ([]store.Replayable, error)
	ReplaceDeliveries(ctx context.Context, p store.ReplaceDeliveriesParams) (int, error)
	GetAlertSettings(ctx context.Context) (*signal.AlertSettings, error)
	PutAlertSettings(ctx context.Context, p store.PutAlertSettingsParams) error
	store.ContactStore
	CreateBackfill(ctx context.Context, p store.CreateBackfillParams) error
	GetBackfill(ctx context.Context, p store.GetBackfillParams) (*store.Backfill, error)
	ListBackfills(ctx context.Context, p store.ListBackfillsParams) ([]*store.Backfill, error)
}

// Tester sends one test event through an integration now.
type Tester interface {
	SendTest(ctx context.Context, in *signal.Integration, email string) (*TestResult, error)
}

// TestResult is the answer of POST /integrations/{id}/test.
type TestResult struct {
	Status         string          `json:"status"`
	VendorStatus   int             `json:"vendor_status"`
	VendorResponse string          `json:"vendor_response"`
	Payload        json.RawMessage `json:"payload,omitempty"`
}

// Notifier is told when an integration changed (key replaced, enabled,
// deleted) or deliveries were requeued, so delivery can react at once.
type Notifier interface {
	IntegrationChanged(id string)
}

// KeyForgetter drops a pipeline key the gateway remembers, so a deleted
// pipeline's key is refused at once.
type KeyForgetter interface {
	ForgetPipelineKey(key string)
}

// Hasher keys the hashes ids are stored as (Live Events search).
type Hasher interface {
	Hash(s string) string
}

// Config configures the Management API.
type Config struct {
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	// StreamPoll is how often the live-events stream looks for changes.
	StreamPoll time.Duration
	// UserCheckTTL is how long a node trusts that a token's user still
	// exists (default and at most 30 s): a deleted user's access tokens
	// stop working within it.
	UserCheckTTL time.Duration
	// PasswordCost is bcrypt's cost for passwords set through the API (0:
	// the default; tests use bcrypt.MinCost).
	PasswordCost int
}

// Server is the Management API handler.
type Server struct {
	cfg      Config
	store    Store
	signer   *token.Signer
	catalog  *integration.Registry
	tester   Tester
	notifier Notifier
	keys     KeyForgetter
	// hasher and rateLimits may be nil: no search, no rate-limit state.
	hasher     Hasher
	rateLimits RateLimits
	live       *liveHub
	log        *slog.Logger
	now        func() time.Time
	mux        *router
	logins     loginThrottle
	users      userCache
	sessions   sessionCache
	// backfillIntake holds the one backfill upload this node reads and
	// stores at a time (each holds up to 64 MiB decoded).
	backfillIntake chan struct{}
}

// Deps are the Server's collaborators; Tester, Notifier, Keys, Hasher and
// RateLimits may be nil.
type Deps struct {
	Store      Store
	Signer     *token.Signer
	Catalog    *integration.Registry
	Tester     Tester
	Notifier   Notifier
	Keys       KeyForgetter
	Hasher     Hasher
	RateLimits RateLimits
	Log        *slog.Logger
	Now        func() time.Time
}

// New returns the Management API.
func New(cfg Config, d Deps) *Server {
	if cfg.AccessTTL == 0 {
		cfg.AccessTTL = 15 * time.Minute
	}
	if cfg.RefreshTTL == 0 {
		cfg.RefreshTTL = 7 * 24 * time.Hour
	}
	if cfg.StreamPoll == 0 {
		cfg.StreamPoll = 500 * time.Millisecond
	}
	if cfg.UserCheckTTL <= 0 || cfg.UserCheckTTL > maxUserCheckTTL {
		cfg.UserCheckTTL = maxUserCheckTTL
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Catalog == nil {
		d.Catalog = integration.NewRegistry()
	}
	s := &Server{cfg: cfg, store: d.Store, signer: d.Signer, catalog: d.Catalog, tester: d.Tester, notifier: d.Notifier, keys: d.Keys,
		hasher: d.Hasher, rateLimits: d.RateLimits, log: d.Log, now: d.Now, mux: &router{mux: http.NewServeMux()}, users: userCache{m: map[string]cachedUser{}},
		backfillIntake: make(chan struct{}, 1)}
	s.live = newLiveHub(d.Store, cfg.StreamPoll, d.Log)
	s.routes()
	return s
}

func (s *Server) routes() {
	s.mux.handle("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.handle("POST /v1/admin/auth/login", s.handleLogin)
	s.mux.handle("POST /v1/admin/auth/refresh", s.handleRefresh)
	s.mux.handle("POST /v1/admin/auth/logout", s.handleLogout)
	s.mux.handle("GET /v1/admin/me", s.authed(s.handleMe))

	s.mux.handle("POST /v1/admin/pipelines", s.authed(s.handleCreatePipeline))
	s.mux.handle("GET /v1/admin/pipelines", s.authed(s.handleListPipelines))
	s.mux.handle("GET /v1/admin/pipelines/{id}", s.authed(s.handleGetPipeline))
	s.mux.handle("PATCH /v1/admin/pipelines/{id}", s.authed(s.handleUpdatePipeline))
	s.mux.handle("DELETE /v1/admin/pipelines/{id}", s.authed(s.handleDeletePipeline))

	s.mux.handle("GET /v1/admin/integration-catalog", s.authed(s.handleListCatalog))
	s.mux.handle("GET /v1/admin/integration-catalog/{key}", s.authed(s.handleGetCatalog))
	s.mux.handle("POST /v1/admin/integration-catalog/{key}/install", s.authed(s.handleInstall))
	s.mux.handle("GET /v1/admin/integrations", s.authed(s.handleListIntegrations))
	s.mux.handle("GET /v1/admin/integrations/{id}", s.authed(s.handleGetIntegration))
	s.mux.handle("PATCH /v1/admin/integrations/{id}", s.authed(s.handleUpdateIntegration))
	s.mux.handle("DELETE /v1/admin/integrations/{id}", s.authed(s.handleDeleteIntegration))
	s.mux.handle("GET /v1/admin/integrations/{id}/blueprint", s.authed(s.handleGetBlueprint))
	s.mux.handle("PUT /v1/admin/integrations/{id}/blueprint", s.authed(s.handlePutBlueprint))
	s.mux.handle("POST /v1/admin/integrations/{id}/test", s.authed(s.handleTest))
	s.mux.handle("POST /v1/admin/integrations/{id}/replay", s.authed(s.handleReplay))
	s.mux.handle("POST /v1/admin/integrations/{id}/backfill", s.authed(s.handleCreateBackfill))
	s.mux.handle("GET /v1/admin/integrations/{id}/backfill", s.authed(s.handleListBackfills))
	s.mux.handle("GET /v1/admin/integrations/{id}/backfill/{bf_id}", s.authed(s.handleGetBackfill))
	s.mux.handle("GET /v1/admin/integrations/{id}/health", s.authed(s.handleIntegrationHealth))
	s.mux.handle("POST /v1/admin/integrations/{id}/blueprint/preview", s.authed(s.handlePreviewBlueprint))
	s.mux.handle("GET /v1/admin/integrations/{id}/blueprint/versions", s.authed(s.handleListBlueprintVersions))
	s.mux.handle("POST /v1/admin/integrations/{id}/blueprint/versions/{n}/rollback", s.authed(s.handleRollbackBlueprint))
	s.mux.handle("POST /v1/admin/integrations/{id}/blueprint/reset", s.authed(s.handleResetBlueprint))
	s.mux.handle("PATCH /v1/admin/integrations/{id}/blueprint/events/{name}", s.authed(s.handlePatchBlueprintEvent))

	s.mux.handle("GET /v1/admin/live-events", s.authed(s.handleListLiveEvents))
	s.mux.handle("GET "+liveStreamPath, s.authed(s.handleStreamLiveEvents))
	s.mux.handle("GET /v1/admin/live-events/counts", s.authed(s.handleCountLiveEvents))
	s.mux.handle("GET /v1/admin/live-events/{id}", s.authed(s.handleGetLiveEvent))
	s.mux.handle("POST /v1/admin/live-events/{id}/replay", s.authed(s.handleReplayLiveEvent))

	s.mux.handle("GET /v1/admin/users", s.authed(s.handleListUsers))
	s.mux.handle("POST /v1/admin/users", s.authed(s.handleCreateUser))
	s.mux.handle("PATCH /v1/admin/users/{id}", s.authed(s.handleUpdateUser))
	s.mux.handle("DELETE /v1/admin/users/{id}", s.authed(s.handleDeleteUser))
	s.mux.handle("GET /v1/admin/audit-log", s.authed(s.handleListAudit))
	s.mux.handle("GET /v1/admin/alerts", s.authed(s.handleGetAlerts))
	s.mux.handle("PUT /v1/admin/alerts", s.authed(s.handlePutAlerts))
	s.mux.handle("POST /v1/admin/pipelines/{id}/rotate", s.authed(s.handleRotatePipeline))
	s.mux.handle("POST /v1/admin/contacts/export", s.authed(s.handleExportContact))
	s.mux.handle("POST /v1/admin/contacts/erase", s.authed(s.handleEraseContact))

	s.mux.handle("/v1/admin/", func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.authenticate(r); err != nil {
			writeErr(w, err)
			return
		}
		writeError(w, http.StatusNotFound, signal.ENOTFOUND, "no such route: "+r.Method+" "+r.URL.Path, "")
	})
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	s.mux.mux.ServeHTTP(w, r)
}

type (
	ctxKey  struct{} // *token.Claims
	userKey struct{} // *signal.User: id, email and role, no password hash
)

// authed wraps a handler that needs a valid access token of a user who
// still exists, whose role (as the token says) may use the route.
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.authenticate(r)
		if err != nil {
			writeErr(w, err)
			return
		}
		u, err := s.user(r.Context(), c.Subject)
		if err == nil {
			err = s.checkSession(r.Context(), c.SessionID)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		method, path, _ := strings.Cut(r.Pattern, " ")
		if !allowed(c.Role, method, path) {
			writeErr(w, forbidden(c.Role))
			return
		}
		ctx := context.WithValue(context.WithValue(r.Context(), ctxKey{}, c), userKey{}, u)
		h(w, r.WithContext(ctx))
	}
}

// liveStreamPath is the one route that takes its access token as a query
// parameter (access_token): EventSource cannot set headers. A token in a
// URL can reach proxy logs and browser history, so no other route takes one.
const liveStreamPath = "/v1/admin/live-events/stream"

func (s *Server) authenticate(r *http.Request) (*token.Claims, error) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		// EventSource cannot set headers: the stream may pass the token
		// as a query parameter.
		if q := r.URL.Query().Get("access_token"); q != "" && r.Method == http.MethodGet && r.URL.Path == liveStreamPath {
			tok = q
		} else {
			return nil, signal.Errorf(signal.EUNAUTHORIZED, "missing access token: send Authorization: Bearer <access_token> from /v1/admin/auth/login")
		}
	}
	c, err := s.signer.Verify(strings.TrimSpace(tok))
	if err != nil {
		return nil, signal.Errorf(signal.EUNAUTHORIZED, "access token is invalid or expired; log in again or refresh it")
	}
	return c, nil
}

// decode reads a JSON body into v, naming the field at fault.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return signal.Errorf(signal.EINVALID, "request body is empty; send a JSON object")
		case errors.As(err, &syn):
			return signal.Errorf(signal.EINVALID, "request body is not valid JSON (at byte %d)", syn.Offset)
		case errors.As(err, &typ):
			return signal.FieldErrorf(signal.EINVALID, typ.Field, "%s has the wrong type (got a JSON %s)", typ.Field, typ.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return signal.FieldErrorf(signal.EINVALID, f, "unknown field %q", f)
		}
		return signal.Errorf(signal.EINVALID, "request body is not valid JSON: %v", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, code signal.Code, msg, field string) {
	type body struct {
		Code    signal.Code `json:"code"`
		Message string      `json:"message"`
		Field   string      `json:"field,omitempty"`
	}
	writeJSON(w, status, struct {
		Error body `json:"error"`
	}{body{code, msg, field}})
}

func writeErr(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch signal.ErrorCode(err) {
	case signal.EINVALID:
		status = http.StatusBadRequest
	case signal.ENOTFOUND:
		status = http.StatusNotFound
	case signal.ECONFLICT:
		status = http.StatusConflict
	case signal.EUNAUTHORIZED:
		status = http.StatusUnauthorized
	case signal.EFORBIDDEN:
		status = http.StatusForbidden
	}
	writeError(w, status, signal.ErrorCode(err), signal.ErrorMessage(err), signal.ErrorField(err))
}

// fail writes err, logging it first when it is internal (the log line
// carries the wrapped detail; the caller sees a generic message).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if signal.ErrorCode(err) == signal.EINTERNAL {
		s.log.Error("admin: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeErr(w, err)
}

// page is the list shape.
type page[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
	HasMore    bool   `json:"has_more"`
}

// pageOf makes the list answer from items fetched with Limit: limit+1: at
// most limit views, and when there were more, the cursor after the last one
// shown.
func pageOf[T, V any](items []T, limit int, id func(T) string, view func(T) V) page[V] {
	out := page[V]{Data: make([]V, 0, min(len(items), limit))}
	for i, it := range items {
		if i == limit {
			out.HasMore, out.NextCursor = true, id(items[limit-1])
			break
		}
		out.Data = append(out.Data, view(it))
	}
	return out
}

// pageParams reads ?cursor=&limit= (default 50, max 100).
func pageParams(r *http.Request) (string, int, error) {
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return "", 0, signal.FieldErrorf(signal.EINVALID, "limit", "limit must be a whole number from 1 to 100")
		}
		limit = n
	}
	return q.Get("cursor"), limit, nil
}

// newID returns prefix + n random base32 characters (5 bits each).
func newID(prefix string, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[b[i]&31]
	}
	return prefix + string(b)
}
