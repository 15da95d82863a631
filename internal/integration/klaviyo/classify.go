package klaviyo

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

const (
	// steadyWindow is the window RateLimit-* headers describe.
	steadyWindow = time.Minute
	// defaultWait is the wait after a 429 without a readable Retry-After
	// (the burst window is one second).
	defaultWait = time.Second
	// maxWait caps any wait Klaviyo asks for.
	maxWait = 10 * time.Minute
)

// Classify reads Klaviyo's answer:
//   - 2xx (202 for events, 200/201 for profile import): Delivered.
//   - 401, 403: Pause, auth_failed (a revoked key or one without scopes).
//   - 429: RateLimited, waiting Retry-After (seconds), spending no attempt.
//   - 408, 5xx, 3xx and no answer: Retry.
//   - 400 and other 4xx: Drop, vendor_rejected, Klaviyo's body kept.
//
// A request that could not be built pauses the integration when the key is
// at fault, else drops the event. RateLimit-Limit/-Remaining/-Reset fill
// Limit (the steady, one-minute window).
func (v *Vendor) Classify(resp *http.Response, body []byte, err error) integration.Outcome {
	if resp == nil && integration.IsRequestError(err) {
		if integration.ConfigFieldError(err, "config."+ConfigAPIKey) {
			return integration.Outcome{Kind: integration.Pause, Reason: signal.ReasonAuthFailed, Body: err.Error()}
		}
		return integration.Outcome{Kind: integration.Drop, Reason: signal.ReasonPayloadError, Body: err.Error()}
	}
	if resp == nil {
		return integration.Outcome{Kind: integration.Retry, Reason: signal.ReasonRetrying}
	}
	out := integration.Outcome{Status: resp.StatusCode, Body: truncate(body), Limit: rateLimit(resp.Header)}
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		out.Kind = integration.Delivered
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		out.Kind, out.Reason = integration.Pause, signal.ReasonAuthFailed
	case code == http.StatusTooManyRequests:
		out.Kind, out.Reason = integration.RateLimited, signal.ReasonRateLimited
		out.RetryAfter = defaultWait
		if d, ok := seconds(resp.Header.Get("Retry-After")); ok {
			out.RetryAfter = max(d, time.Millisecond)
		}
	case code == http.StatusRequestTimeout || code >= 500 || code < 200 || (code >= 300 && code < 400):
		out.Kind, out.Reason = integration.Retry, signal.ReasonRetrying
		if d, ok := seconds(resp.Header.Get("Retry-After")); ok {
			out.RetryAfter = d
		}
	default:
		out.Kind, out.Reason = integration.Drop, signal.ReasonVendorRejected
	}
	return out
}

// rateLimit reads RateLimit-Limit (a count, optionally "n;w=60"),
// RateLimit-Remaining and RateLimit-Reset (seconds); nil unless Remaining
// and Reset are both readable.
func rateLimit(h http.Header) *integration.RateLimit {
	rem, ok1 := count(h.Get("RateLimit-Remaining"))
	reset, ok2 := seconds(h.Get("RateLimit-Reset"))
	if !ok1 || !ok2 {
		return nil
	}
	rl := &integration.RateLimit{Remaining: rem, Reset: reset, Window: steadyWindow}
	lim := h.Get("RateLimit-Limit")
	if n, ok := count(lim); ok {
		rl.Limit = n
	}
	if i := strings.Index(lim, "w="); i >= 0 {
		if w, ok := seconds(strings.TrimRight(lim[i+2:], ", ")); ok && w > 0 {
			rl.Window = w
		}
	}
	return rl
}

// count reads the leading whole number of s ("700", "700;w=60").
func count(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, ";,"); i >= 0 {
		s = s[:i]
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 1<<30 {
		return 0, false
	}
	return n, true
}

// seconds reads a non-negative number of seconds, capped at maxWait.
func seconds(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, ";,"); i >= 0 {
		s = s[:i]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f != f {
		return 0, false
	}
	if f > maxWait.Seconds() {
		return maxWait, true
	}
	return time.Duration(f * float64(time.Second)), true
}

// truncate keeps the first 4 KiB of a body, on a rune boundary.
func truncate(b []byte) string {
	const limit = 4096
	if len(b) > limit {
		b = b[:limit]
		for len(b) > 0 && !utf8.Valid(b) {
			b = b[:len(b)-1]
		}
	}
	return string(b)
}
