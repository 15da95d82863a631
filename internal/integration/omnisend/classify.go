package omnisend

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
	// maxBody is how much of Omnisend's answer an outcome keeps.
	maxBody = 4 << 10
	// defaultRateLimitWait is the wait after a 429 that says nothing.
	defaultRateLimitWait = time.Minute
	// minRateLimitWait keeps a 429 with a zero reset (or none) from
	// retrying hot.
	minRateLimitWait = time.Second
	// minResetWait is the least wait after a 429 whose reset is positive.
	minResetWait = 10 * time.Millisecond
	// maxWait caps any wait Omnisend asks for, so a bad header cannot stall
	// an integration for days.
	maxWait = time.Hour
	// maxResetSeconds is the largest X-Rate-Limit-Reset believed.
	maxResetSeconds = 24 * 60 * 60
)

// Classify turns Omnisend's answer into an outcome:
//
//   - transport error without a response (timeout, reset, refused,
//     cancelled): Retry;
//   - 2xx: Delivered;
//   - 400, 422 and any other 4xx not below: Drop, vendor_rejected (body kept);
//   - 401, 403: Pause, auth_failed;
//   - 410: Pause, api_version_retired (the API version in use is retired:
//     the admin switches api_version, which lets the events flow again);
//   - 429: RateLimited, waiting X-Rate-Limit-Reset, else Retry-After, else
//     60 s (at most 1 h; at least 10 ms after a positive reset, else 1 s);
//   - 408, 5xx and anything unexpected (1xx, 3xx): Retry, with Retry-After
//     as RetryAfter when given.
//
// When there is a response its status and first 4 KiB of body are kept,
// even alongside an error (the status decides: a 202 whose body failed to
// read was still accepted). X-Rate-Limit-* headers fill Limit on any
// response; malformed ones are ignored.
func (v *Vendor) Classify(resp *http.Response, body []byte, err error) integration.Outcome {
	if resp == nil && integration.IsRequestError(err) {
		// Nothing was sent. A missing or malformed key holds the
		// integration until it is replaced; anything else is this event's.
		if integration.ConfigFieldError(err, "config."+ConfigAPIKey) {
			return integration.Outcome{Kind: integration.Pause, Reason: signal.ReasonAuthFailed, Body: err.Error()}
		}
		if integration.ConfigFieldError(err, "config."+ConfigAPIVersion) {
			// Only a config written before api_version was checked can
			// get here; its cure is the same as a retired version's.
			return integration.Outcome{Kind: integration.Pause, Reason: signal.ReasonAPIVersionRetired, Body: err.Error()}
		}
		return integration.Outcome{Kind: integration.Drop, Reason: signal.ReasonPayloadError, Body: err.Error()}
	}
	if resp == nil {
		return integration.Outcome{Kind: integration.Retry, Reason: signal.ReasonRetrying}
	}
	out := integration.Outcome{
		Status: resp.StatusCode,
		Body:   truncate(body),
		Limit:  rateLimit(resp.Header),
	}
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		out.Kind = integration.Delivered
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		out.Kind, out.Reason = integration.Pause, signal.ReasonAuthFailed
	case code == http.StatusGone:
		out.Kind, out.Reason = integration.Pause, signal.ReasonAPIVersionRetired
	case code == http.StatusTooManyRequests:
		out.Kind, out.Reason = integration.RateLimited, signal.ReasonRateLimited
		out.RetryAfter = v.rateLimitWait(resp.Header)
	case code == http.StatusRequestTimeout || code >= 500 || code < 200 || (code >= 300 && code < 400):
		out.Kind, out.Reason = integration.Retry, signal.ReasonRetrying
		if d, ok := v.retryAfter(resp.Header.Get("Retry-After")); ok {
			out.RetryAfter = d
		}
	default: // 400, 422 and the other 4xx
		out.Kind, out.Reason = integration.Drop, signal.ReasonVendorRejected
	}
	return out
}

// rateLimitWait is how long to wait after a 429.
func (v *Vendor) rateLimitWait(h http.Header) time.Duration {
	d := defaultRateLimitWait
	if reset, ok := parseSeconds(h.Get("X-Rate-Limit-Reset")); ok && reset > 0 {
		// A window that resets in a fraction of a second (a short
		// window, or its last moment) is waited for exactly: a floor of
		// a second would idle a 10 s window a tenth of its length.
		return min(max(reset, minResetWait), maxWait)
	} else if ok {
		d = 0 // "0": resetting now, or rounded down; the floor applies
	} else if ra, ok := v.retryAfter(h.Get("Retry-After")); ok {
		d = ra
	}
	return min(max(d, minRateLimitWait), maxWait)
}

// retryAfter reads a Retry-After header: delay seconds or an HTTP date.
func (v *Vendor) retryAfter(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if isDigits(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > int64(maxWait/time.Second) { // too large: capped
			return maxWait, true
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(s)
	if err != nil {
		return 0, false
	}
	d := t.Sub(v.now())
	return min(max(d, 0), maxWait), true
}

// rateLimit reads X-Rate-Limit-Limit, -Remaining and -Reset. It returns
// nil unless Remaining is readable (without it the others cannot pace);
// an unreadable Limit or Reset is left 0.
func rateLimit(h http.Header) *integration.RateLimit {
	remaining, ok := parseCount(h.Get("X-Rate-Limit-Remaining"))
	if !ok {
		return nil
	}
	// Window stays 0: Omnisend's headers do not say how long the window
	// is (an account's may differ from a minute), so delivery learns it.
	rl := &integration.RateLimit{Remaining: remaining}
	if n, ok := parseCount(h.Get("X-Rate-Limit-Limit")); ok {
		rl.Limit = n
	}
	if d, ok := parseSeconds(h.Get("X-Rate-Limit-Reset")); ok {
		rl.Reset = d
	}
	return rl
}

// parseCount reads a non-negative integer.
func parseCount(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if !isDigits(s) {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, false
	}
	return n, true
}

// parseSeconds reads a non-negative number of seconds ("30", "12.5"), at
// most a day.
func parseSeconds(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	whole, frac, hasFrac := strings.Cut(s, ".")
	if !isDigits(whole) || (hasFrac && !isDigits(frac)) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f > maxResetSeconds {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// truncate keeps the first maxBody bytes of b without splitting a UTF-8
// sequence.
func truncate(b []byte) string {
	if len(b) <= maxBody {
		return string(b)
	}
	cut := b[:maxBody]
	for i := 0; i < utf8.UTFMax-1 && len(cut) > 0; i++ {
		if r, size := utf8.DecodeLastRune(cut); r != utf8.RuneError || size != 1 {
			break
		}
		cut = cut[:len(cut)-1]
	}
	return string(cut)
}
