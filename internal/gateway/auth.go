package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// Error codes of the gateway, as Datafly names them.
const (
	codeBadKey       = "INVALID_PIPELINE_KEY"
	codeBadSignature = "INVALID_SIGNATURE"
)

type authKind int

const (
	authBearer authKind = 1 << iota // Authorization: Bearer <key>
	authBasic                       // HTTP Basic, key as user name
	authBody                        // writeKey in the body
)

// authFromHeaders authenticates with the Authorization header. It returns
// nil, nil when there is none and the route accepts a writeKey in the body.
func (s *Server) authFromHeaders(r *http.Request, rt route) (*signal.Pipeline, error) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, cred, _ := strings.Cut(h, " ")
	cred = strings.TrimSpace(cred)
	switch {
	case h == "":
		if rt.auth&authBody != 0 {
			return nil, nil
		}
		return nil, signal.Errorf(codeBadKey, "missing pipeline key: send Authorization: %s", wantAuth(rt))
	case strings.EqualFold(scheme, "Bearer") && rt.auth&authBearer != 0:
		return s.pipelineByKey(r.Context(), cred)
	case strings.EqualFold(scheme, "Basic") && rt.auth&authBasic != 0:
		if len(cred) > maxBasicCredentials {
			return nil, signal.Errorf(codeBadKey, "Basic credentials are too long to hold a pipeline key")
		}
		dec, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return nil, signal.Errorf(codeBadKey, "Basic credentials are not valid base64")
		}
		user, _, _ := strings.Cut(string(dec), ":")
		return s.pipelineByKey(r.Context(), user)
	}
	return nil, signal.Errorf(codeBadKey, "unsupported Authorization scheme %q: send %s", clip(scheme), wantAuth(rt))
}

func (s *Server) authFromBody(ctx context.Context, rt route, key string) (*signal.Pipeline, error) {
	if key == "" {
		return nil, signal.Errorf(codeBadKey, "missing pipeline key: send %s, or writeKey in the body", wantAuth(rt))
	}
	return s.pipelineByKey(ctx, key)
}

func wantAuth(rt route) string {
	var ways []string
	if rt.auth&authBearer != 0 {
		ways = append(ways, "Bearer <pipeline key>")
	}
	if rt.auth&authBasic != 0 {
		ways = append(ways, "Basic with the pipeline key as user name")
	}
	return strings.Join(ways, " or ")
}

// maxKeyLen bounds a pipeline key. The admin API generates "dk_live_" and
// at most 32 base64url letters and digits (40 bytes); keys imported from
// Datafly are "dk_…" too. 64 leaves room without letting a caller make the
// key cache hold large strings.
const maxKeyLen = 64

// maxBasicCredentials bounds the base64 Basic credentials: a key, a colon
// and a (Segment: empty) password of the same size at most.
const maxBasicCredentials = 4 * (2*maxKeyLen + 1 + 2) / 3

// plausibleKey reports whether key has the shape of a pipeline key: the
// dk_ prefix, then letters, digits and underscores, maxKeyLen bytes at most.
func plausibleKey(key string) bool {
	if len(key) > maxKeyLen || len(key) <= len("dk_") || !strings.HasPrefix(key, "dk_") {
		return false
	}
	for i := len("dk_"); i < len(key); i++ {
		c := key[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func (s *Server) pipelineByKey(ctx context.Context, key string) (*signal.Pipeline, error) {
	if key == "" {
		return nil, signal.Errorf(codeBadKey, "empty pipeline key")
	}
	if !plausibleKey(key) {
		// Refused before any lookup or caching: made-up keys of any size
		// must cost nothing to remember.
		return nil, signal.Errorf(codeBadKey, "unknown pipeline key: pipeline keys start with dk_ and hold at most %d letters, digits or underscores", maxKeyLen)
	}
	pl, err := s.pipelines.get(ctx, key)
	if signal.ErrorCode(err) == signal.ENOTFOUND {
		return nil, signal.Errorf(codeBadKey, "unknown pipeline key")
	}
	if err == nil && key != pl.Key && (key != pl.PreviousKey || !s.now().Before(pl.PreviousUntil)) {
		// A rotated-out key whose overlap ended while the lookup was
		// cached: refused from the overlap's end, whatever the cache.
		return nil, signal.Errorf(codeBadKey, "this pipeline key was rotated out and no longer works; use the pipeline's new key")
	}
	return pl, err
}

// secrets are the signing secrets a request may be signed with: the
// pipeline's, and the one rotated out while its overlap lasts.
func (s *Server) secrets(pl *signal.Pipeline, now time.Time) []string {
	if pl.PreviousSigningSecret != "" && now.Before(pl.PreviousUntil) {
		return []string{pl.SigningSecret, pl.PreviousSigningSecret}
	}
	return []string{pl.SigningSecret}
}

// verifySignature checks X-Signature: sha256=<hex HMAC-SHA256(signing secret,
// X-Timestamp + "." + body)> and that X-Timestamp (unix ms) is within the
// window. The body may be signed as sent or, for gzip, as decompressed. It
// returns the request's replay guard: the store accepts its events once.
func (s *Server) verifySignature(r *http.Request, pl *signal.Pipeline, wire, body []byte, now time.Time) (*store.ReplayGuard, error) {
	sig, tsMS, err := s.checkSignature(r, pl, wire, body, now)
	if err != nil {
		return nil, err
	}
	return replayGuard(pl.ID, sig, tsMS, s.cfg.SignatureWindow), nil
}

// replayGuard keys a signed request by a hash of its pipeline and
// signature (the signature covers the timestamp and the body). It lives
// twice the window past X-Timestamp: past one window the signature is
// refused anyway; the second covers clocks that differ between nodes.
func replayGuard(pipelineID string, sig []byte, tsMS int64, window time.Duration) *store.ReplayGuard {
	h := sha256.New()
	h.Write([]byte(pipelineID))
	h.Write([]byte{0})
	h.Write(sig)
	return &store.ReplayGuard{Key: hex.EncodeToString(h.Sum(nil)), Expires: time.UnixMilli(tsMS).Add(2 * window)}
}

func (s *Server) checkSignature(r *http.Request, pl *signal.Pipeline, wire, body []byte, now time.Time) (sig []byte, tsMS int64, err error) {
	tsHeader := strings.TrimSpace(r.Header.Get("X-Timestamp"))
	sigHeader := strings.TrimSpace(r.Header.Get("X-Signature"))
	if tsHeader == "" || sigHeader == "" {
		return nil, 0, signal.Errorf(codeBadSignature, "server-side events must be signed: send X-Timestamp (unix ms) and X-Signature: sha256=<hex HMAC-SHA256(signing secret, timestamp + \".\" + body)>")
	}
	tsMS, err = strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return nil, 0, signal.Errorf(codeBadSignature, "X-Timestamp must be a unix time in milliseconds")
	}
	if skew := now.Sub(time.UnixMilli(tsMS)); skew > s.cfg.SignatureWindow || skew < -s.cfg.SignatureWindow {
		return nil, 0, signal.Errorf(codeBadSignature, "X-Timestamp is %s away from the server's clock; at most %s is allowed", skew.Round(time.Second).Abs(), s.cfg.SignatureWindow)
	}
	hexSig, ok := strings.CutPrefix(sigHeader, "sha256=")
	if !ok {
		return nil, 0, signal.Errorf(codeBadSignature, "X-Signature must be sha256=<hex>")
	}
	sig, err = hex.DecodeString(hexSig)
	if err != nil {
		return nil, 0, signal.Errorf(codeBadSignature, "X-Signature must be sha256=<hex>")
	}
	for _, secret := range s.secrets(pl, now) {
		for _, signed := range [][]byte{wire, body} {
			m := hmac.New(sha256.New, []byte(secret))
			m.Write([]byte(tsHeader))
			m.Write([]byte("."))
			m.Write(signed)
			if hmac.Equal(m.Sum(nil), sig) {
				return sig, tsMS, nil
			}
		}
	}
	return nil, 0, signal.Errorf(codeBadSignature, "X-Signature does not match: sign X-Timestamp + \".\" + the body with the pipeline's signing secret")
}

// visitorCookie returns the visitor's _dfid, which fills a missing
// anonymousId. A browser without one is given one to keep: the first
// message's anonymousId, so the two ids agree, or a new id.
func visitorCookie(r *http.Request, raws []json.RawMessage) (id, set string) {
	if c, err := r.Cookie("_dfid"); err == nil && c.Value != "" && len(c.Value) <= 64 {
		return c.Value, ""
	}
	if len(raws) > 0 {
		var m struct {
			AnonymousID signal.ID `json:"anonymousId"`
		}
		if json.Unmarshal(raws[0], &m) == nil && m.AnonymousID != "" && len(m.AnonymousID) <= 64 {
			return "", string(m.AnonymousID)
		}
	}
	return "", uuid.NewString()
}

// pipelineCache remembers key lookups (hits and misses) for a short TTL so
// that a burst costs one store read per key.
//
// Bound: at most maxCachedKeys entries and maxCachedKeyBytes bytes of keys
// and pipelines (keys are at most maxKeyLen bytes, so about 40 bytes each;
// a pipeline row, a few hundred). A full cache first drops expired
// entries, then arbitrary ones: never everything at once, so a flood of
// unknown keys does not make every real key miss together.
type pipelineCache struct {
	store PipelineGetter
	ttl   time.Duration
	now   func() time.Time
	mu    sync.Mutex
	m     map[string]cachedPipeline
	bytes int
	// maxEntries and maxBytes are the bounds (maxCachedKeys and
	// maxCachedKeyBytes outside tests).
	maxEntries, maxBytes int
}

const (
	maxCachedKeys     = 10000
	maxCachedKeyBytes = 4 << 20
)

type cachedPipeline struct {
	p       *signal.Pipeline
	err     error
	expires time.Time
	size    int
}

// entrySize estimates the memory an entry holds: its key twice (map key
// and pipeline), the pipeline's strings and a fixed overhead.
func entrySize(key string, p *signal.Pipeline) int {
	n := 2*len(key) + 128
	if p != nil {
		n += len(p.ID) + len(p.Name) + len(p.Key) + len(p.SigningSecret) + 128
	}
	return n
}

func newPipelineCache(st PipelineGetter, ttl time.Duration, now func() time.Time) *pipelineCache {
	return &pipelineCache{store: st, ttl: ttl, now: now, m: map[string]cachedPipeline{}, maxEntries: maxCachedKeys, maxBytes: maxCachedKeyBytes}
}

func (c *pipelineCache) forget(key string) {
	c.mu.Lock()
	c.remove(key)
	c.mu.Unlock()
}

func (c *pipelineCache) remove(key string) {
	if e, ok := c.m[key]; ok {
		c.bytes -= e.size
		delete(c.m, key)
	}
}

// makeRoom evicts until one more entry of size bytes fits the bounds.
// Callers hold c.mu.
func (c *pipelineCache) makeRoom(size int, now time.Time) {
	if len(c.m) < c.maxEntries && c.bytes+size <= c.maxBytes {
		return
	}
	for k, e := range c.m {
		if !now.Before(e.expires) {
			c.remove(k)
		}
	}
	for k := range c.m { // map order is random: an arbitrary victim
		if len(c.m) < c.maxEntries && c.bytes+size <= c.maxBytes {
			return
		}
		c.remove(k)
	}
}

func (c *pipelineCache) get(ctx context.Context, key string) (*signal.Pipeline, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.p, e.err
	}
	p, err := c.store.GetPipeline(ctx, store.GetPipelineParams{Key: key})
	if err != nil && signal.ErrorCode(err) != signal.ENOTFOUND {
		return nil, err // a store failure is not remembered
	}
	size := entrySize(key, p)
	c.mu.Lock()
	c.remove(key)
	c.makeRoom(size, now)
	c.m[key] = cachedPipeline{p: p, err: err, expires: now.Add(c.ttl), size: size}
	c.bytes += size
	c.mu.Unlock()
	return p, err
}
