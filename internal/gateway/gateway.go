// Package gateway is the ingestion gateway: Datafly.js routes, the Segment
// HTTP API and signed server-side events. It validates each message, stores
// the accepted ones durably and only then answers 200.
package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/signalhq/signal/internal/jsonscan"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// EventAppender stores events durably.
type EventAppender interface {
	AppendEvents(ctx context.Context, p store.AppendEventsParams) error
}

// PipelineGetter finds a pipeline by its key.
type PipelineGetter interface {
	GetPipeline(ctx context.Context, p store.GetPipelineParams) (*signal.Pipeline, error)
}

// Config is the gateway's configuration.
type Config struct {
	// MaxPayloadSize caps a request body after decompression (bytes).
	MaxPayloadSize int64
	// MaxBatchSize caps the messages of one batch.
	MaxBatchSize int
	// MaxEventSize caps one message (bytes).
	MaxEventSize int
	// CORSOrigins lists allowed origins; "*" allows any.
	CORSOrigins []string
	// RateLimitRPS limits requests per second per pipeline (0: no limit).
	RateLimitRPS float64
	// SignatureWindow is how far X-Timestamp may be from now.
	SignatureWindow time.Duration
	// PipelineCacheTTL is how long a key lookup is remembered.
	PipelineCacheTTL time.Duration
	// SecureCookie marks the _dfid cookie Secure.
	SecureCookie bool
	// TrustedProxies are the peers whose X-Forwarded-For names the client,
	// for the per-IP rate limit (SIGNAL_TRUSTED_PROXIES).
	TrustedProxies []netip.Prefix
	// ReceivedFunc, when set, is told how many events of a request for a
	// pipeline were stored and refused (metrics; it must not block).
	ReceivedFunc func(pipelineID string, accepted, rejected int)
}

// DefaultConfig returns the limits Datafly uses.
func DefaultConfig() Config {
	return Config{
		MaxPayloadSize:   524288,
		MaxBatchSize:     500,
		MaxEventSize:     32 << 10,
		CORSOrigins:      []string{"*"},
		SignatureWindow:  5 * time.Minute,
		PipelineCacheTTL: 5 * time.Second,
		SecureCookie:     true,
		TrustedProxies:   mustPrefixes(DefaultTrustedProxies),
	}
}

func mustPrefixes(s string) []netip.Prefix {
	p, err := ParsePrefixes(s)
	if err != nil {
		panic(err)
	}
	return p
}

// Server is the gateway's HTTP handler.
type Server struct {
	cfg       Config
	events    EventAppender
	pipelines *pipelineCache
	limiter   *limiter
	log       *slog.Logger
	now       func() time.Time
	mux       *http.ServeMux

	bodyLogMu      sync.Mutex
	bodyLogAt      time.Time // last log line about incomplete bodies
	bodyLogSkipped int       // incomplete bodies since then
}

// New returns a gateway. now may be nil (time.Now).
func New(cfg Config, events EventAppender, pipelines PipelineGetter, log *slog.Logger, now func() time.Time) *Server {
	if now == nil {
		now = time.Now
	}
	s := &Server{
		cfg:       cfg,
		events:    events,
		pipelines: newPipelineCache(pipelines, cfg.PipelineCacheTTL, now),
		limiter:   newLimiter(cfg.RateLimitRPS),
		log:       log,
		now:       now,
		mux:       http.NewServeMux(),
	}
	datafly := authBearer
	for path, typ := range map[string]string{"/v1/t": signal.TypeTrack, "/v1/p": signal.TypePage, "/v1/i": signal.TypeIdentify, "/v1/g": signal.TypeGroup} {
		s.mux.Handle("POST "+path, s.ingest(route{typ: typ, auth: datafly, cookie: true}))
	}
	s.mux.Handle("POST /v1/batch", s.ingest(route{batch: true, auth: authBearer | authBasic | authBody, cookie: true}))
	s.mux.Handle("POST /v1/events", s.ingest(route{batch: true, single: true, auth: authBearer, signed: true}))
	for path, typ := range map[string]string{"/v1/track": signal.TypeTrack, "/v1/page": signal.TypePage, "/v1/screen": signal.TypeScreen,
		"/v1/identify": signal.TypeIdentify, "/v1/group": signal.TypeGroup, "/v1/alias": signal.TypeAlias} {
		s.mux.Handle("POST "+path, s.ingest(route{typ: typ, auth: authBasic | authBody | authBearer, server: true}))
	}
	s.mux.HandleFunc("GET /d.js", serveDataflyJS)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`))
	})
	return s
}

// ForgetPipelineKey drops a remembered key lookup: a deleted pipeline's key
// is refused at once on this node (other nodes sharing a database notice
// within PipelineCacheTTL).
func (s *Server) ForgetPipelineKey(key string) { s.pipelines.forget(key) }

// ServeHTTP applies CORS, answers preflights and routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cors(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// route says how one endpoint authenticates and what it accepts.
type route struct {
	typ    string // implied message type; "" when each message says
	batch  bool   // accepts {"batch":[…]}
	single bool   // with batch: also accepts one message
	auth   authKind
	signed bool // needs the HMAC signature
	server bool // a Segment server-library route: Basic auth means TrustServer
	cookie bool // the _dfid cookie supplies a missing anonymousId
}

type rejection struct {
	Index   int         `json:"index"`
	Code    signal.Code `json:"code"`
	Message string      `json:"message"`
	Field   string      `json:"field,omitempty"`
}

func (s *Server) ingest(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received := s.now().UTC()
		// Credentials in headers are checked before the body is read.
		pl, err := s.authFromHeaders(r, rt)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		body, wire, err := readBody(r, s.cfg.MaxPayloadSize)
		if errors.Is(err, errTooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "request body is over the "+strconv.FormatInt(s.cfg.MaxPayloadSize, 10)+"-byte limit (MAX_PAYLOAD_SIZE, after decompression)", "")
			return
		}
		if err != nil {
			if be, ok := err.(*bodyError); ok { // readBody returns it as is
				s.bodyFailed(w, be)
				return
			}
			s.fail(w, r, err)
			return
		}
		raws, fields, err := s.split(body, rt)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if pl == nil {
			if pl, err = s.authFromBody(r.Context(), rt, fields.WriteKey); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		var replay *store.ReplayGuard
		if rt.signed {
			if replay, err = s.verifySignature(r, pl, wire, body, received); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		if wait, ok := s.limiter.allow(pl.ID, received, func() sources { return sourcesOf(r, rt, raws, s.cfg.TrustedProxies) }); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
			writeError(w, http.StatusTooManyRequests, "RATE_LIMITED", "too many requests from this client or for this pipeline; retry after the Retry-After seconds", "")
			return
		}
		d := messageDefaults{Type: rt.typ, PipelineID: pl.ID, ReceivedAt: received, MaxEvent: s.cfg.MaxEventSize, SentAt: fields.SentAt, Trust: trustOf(rt, r)}
		var newCookie string
		if rt.cookie {
			d.Cookie, newCookie = visitorCookie(r, raws)
		}
		events := make([]*signal.Event, 0, len(raws))
		var rejected []rejection
		for i, raw := range raws {
			ev, _, err := decodeMessage(raw, d)
			if err == nil && !rt.signed {
				err = signedOnly(pl, ev)
			}
			if err != nil {
				if !fields.batch {
					// One event, not a batch: refused as a whole.
					s.received(pl.ID, 0, 1)
					s.fail(w, r, err)
					return
				}
				rejected = append(rejected, rejection{Index: i, Code: signal.ErrorCode(err), Message: signal.ErrorMessage(err), Field: signal.ErrorField(err)})
				continue
			}
			events = append(events, ev)
		}
		if err := s.events.AppendEvents(r.Context(), store.AppendEventsParams{Events: events, Replay: replay}); err != nil {
			if errors.Is(err, store.ErrReplayed) {
				// The same signed request was accepted before: answered as
				// a success, so the sender stops retrying, and stored once.
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"success":true,"duplicate":true}`))
				return
			}
			if clientGone(r, err) {
				// Nothing acknowledged: a client that retries sends the
				// same message ids.
				s.log.Debug("gateway: the client left before its events were stored", "pipeline", pl.ID, "events", len(events))
				w.WriteHeader(statusClientClosed)
				return
			}
			s.log.Error("gateway: store events", "pipeline", pl.ID, "events", len(events), "err", err)
			writeError(w, http.StatusServiceUnavailable, "STORAGE_UNAVAILABLE", "events could not be stored; nothing was accepted, retry", "")
			return
		}
		s.received(pl.ID, len(events), len(rejected))
		if newCookie != "" {
			http.SetCookie(w, &http.Cookie{Name: "_dfid", Value: newCookie, Path: "/", MaxAge: 2 * 365 * 24 * 3600,
				HttpOnly: true, Secure: s.cfg.SecureCookie, SameSite: http.SameSiteLaxMode})
		}
		w.Header().Set("Content-Type", "application/json")
		if rejected == nil {
			w.Write([]byte(`{"success":true}`))
			return
		}
		json.NewEncoder(w).Encode(struct {
			Success  bool        `json:"success"`
			Accepted int         `json:"accepted"`
			Rejected []rejection `json:"rejected"`
		}{true, len(events), rejected})
	})
}

func (s *Server) received(pipelineID string, accepted, rejected int) {
	if s.cfg.ReceivedFunc != nil {
		s.cfg.ReceivedFunc(pipelineID, accepted, rejected)
	}
}

// split returns the raw messages of a body and its top-level fields. The
// body is checked as JSON once; the batch is then cut into messages by a
// byte scan, not decoded.
func (s *Server) split(body []byte, rt route) ([]json.RawMessage, batchFields, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, batchFields{}, signal.Errorf(signal.EINVALID, "request body is empty; send a JSON event")
	}
	if !json.Valid(trimmed) {
		var v any
		return nil, batchFields{}, jsonError(json.Unmarshal(trimmed, &v), "request body")
	}
	if trimmed[0] != '{' {
		return nil, batchFields{}, signal.Errorf(signal.EINVALID, "request body must be a JSON object")
	}
	var (
		f        batchFields
		batchRaw []byte
		ferr     error
	)
	jsonscan.Members(trimmed, func(k []byte, _ bool, v []byte) error {
		switch string(k) {
		case "writeKey":
			f.WriteKey, ferr = stringField("writeKey", v)
		case "sentAt":
			f.SentAt, ferr = stringField("sentAt", v)
		case "batch":
			batchRaw = v
		}
		return ferr
	})
	if ferr != nil {
		return nil, f, ferr
	}
	if !rt.batch || (batchRaw == nil && rt.single) {
		return []json.RawMessage{trimmed}, batchFields{WriteKey: f.WriteKey}, nil
	}
	f.batch = true
	// The batch's messages are checked one by one (and refused one by one);
	// its other members here.
	jsonscan.Members(trimmed, func(k []byte, _ bool, v []byte) error {
		if ferr == nil && string(k) != "batch" {
			ferr = checkValues(v, string(k))
		}
		return ferr
	})
	if ferr != nil {
		return nil, f, ferr
	}
	if batchRaw == nil || isNull(batchRaw) {
		return nil, f, signal.FieldErrorf(signal.EINVALID, "batch", "batch is required: {\"batch\":[…events…]}")
	}
	// Read no more events than a batch may hold: a body of 500 KB of
	// zeros (1 KB gzipped) is 250,000 of them.
	elems, more, ok := jsonscan.ElementsUpTo(batchRaw, s.cfg.MaxBatchSize)
	if !ok {
		return nil, f, signal.FieldErrorf(signal.EINVALID, "batch", "batch must be an array of events, not a JSON %s", rawKind(batchRaw))
	}
	if len(elems) == 0 {
		return nil, f, signal.FieldErrorf(signal.EINVALID, "batch", "batch is empty")
	}
	if more {
		return nil, f, signal.FieldErrorf(signal.EINVALID, "batch", "batch has more than %d events, the most accepted (MAX_BATCH_SIZE)", s.cfg.MaxBatchSize)
	}
	raws := make([]json.RawMessage, len(elems))
	for i, e := range elems {
		raws[i] = e
	}
	return raws, f, nil
}

// batchFields are the top-level fields of a body besides its messages.
type batchFields struct {
	WriteKey string `json:"writeKey"`
	// SentAt, on a Segment batch, is when the client sent it: it corrects
	// the clock skew of messages that carry only originalTimestamp.
	SentAt string `json:"sentAt"`
	// batch is true when the body was {"batch":[…]}: invalid events are
	// then refused one by one, while a single invalid event is a 400.
	batch bool
}

// bodyFailed answers a body the client did not finish: 408 when it stalled
// past the read deadline, else 400. Anyone can cause these at will, so
// they are logged at warn level, at most once per bodyLogEvery, with the
// count of those not logged.
func (s *Server) bodyFailed(w http.ResponseWriter, be *bodyError) {
	kind, status, code, msg := "aborted", http.StatusBadRequest, signal.Code("BODY_INCOMPLETE"), "the request body ended before it was complete"
	if be.timeout() {
		kind, status, code, msg = "stalled", http.StatusRequestTimeout, "REQUEST_TIMEOUT", "the request body was not sent in time"
	}
	s.bodyLogMu.Lock()
	s.bodyLogSkipped++
	now := s.now()
	if now.Sub(s.bodyLogAt) >= bodyLogEvery {
		s.log.Warn("gateway: incomplete request bodies", "last", kind, "count", s.bodyLogSkipped)
		s.bodyLogAt, s.bodyLogSkipped = now, 0
	}
	s.bodyLogMu.Unlock()
	writeError(w, status, code, msg, "")
}

// bodyLogEvery spaces the log lines about incomplete bodies.
const bodyLogEvery = time.Minute

// codeSignedOnly refuses an event the pipeline accepts only when signed.
const codeSignedOnly = "SIGNED_ONLY_EVENT"

// signedOnly refuses, on an unsigned route, an event the pipeline accepts
// only from signed /v1/events requests: the browser key is public, so
// anyone holding it could otherwise start order or sign-up flows for any
// email.
func signedOnly(pl *signal.Pipeline, ev *signal.Event) error {
	for _, name := range pl.SignedOnlyEvents {
		if ev.Event == name {
			return signal.FieldErrorf(codeSignedOnly, "event", "event %q is accepted only from signed server requests (POST /v1/events); this pipeline refuses it from browser and Segment routes", clip(name))
		}
	}
	return nil
}

// statusClientClosed answers a request whose client left before it was
// answered (nginx's 499): nobody reads it; it keeps a client's own doing
// out of the 5xx counts and the error log.
const statusClientClosed = 499

// clientGone reports whether err comes of r's client having left.
func clientGone(r *http.Request, err error) bool {
	return r.Context().Err() != nil && errors.Is(err, context.Canceled)
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if clientGone(r, err) {
		s.log.Debug("gateway: the client left before it was answered", "path", r.URL.Path)
		w.WriteHeader(statusClientClosed)
		return
	}
	code := signal.ErrorCode(err)
	status := http.StatusBadRequest
	switch code {
	case codeSignedOnly:
		status = http.StatusForbidden
	case signal.EUNAUTHORIZED, codeBadKey, codeBadSignature:
		status = http.StatusUnauthorized
	case signal.EINTERNAL:
		s.log.Error("gateway", "err", err)
		status = http.StatusInternalServerError
	}
	writeError(w, status, code, signal.ErrorMessage(err), signal.ErrorField(err))
}

func writeError(w http.ResponseWriter, status int, code signal.Code, msg, field string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	type body struct {
		Code    signal.Code `json:"code"`
		Message string      `json:"message"`
		Field   string      `json:"field,omitempty"`
	}
	json.NewEncoder(w).Encode(struct {
		Error body `json:"error"`
	}{body{code, msg, field}})
}
