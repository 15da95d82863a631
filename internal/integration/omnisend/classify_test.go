package omnisend

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

var classifyNow = time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)

func testVendor() *Vendor {
	v := New(Options{})
	v.now = func() time.Time { return classifyNow }
	return v
}

func TestClassify(t *testing.T) {
	t.Parallel()
	h := func(kv ...string) http.Header {
		hd := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			hd.Set(kv[i], kv[i+1])
		}
		return hd
	}
	limit := func(l, r int, reset time.Duration) *integration.RateLimit {
		return &integration.RateLimit{Limit: l, Remaining: r, Reset: reset}
	}
	omnisend400 := `{"error":"validation failed","fields":{"contact":"email or phone is required"}}`
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		wantKind   integration.OutcomeKind
		wantReason signal.Reason
		wantAfter  time.Duration
		wantLimit  *integration.RateLimit
	}{
		{name: "200", status: 200, wantKind: integration.Delivered},
		{name: "202 with limits", status: 202, header: h("X-Rate-Limit-Limit", "400", "X-Rate-Limit-Remaining", "12", "X-Rate-Limit-Reset", "17"), wantKind: integration.Delivered, wantLimit: limit(400, 12, 17*time.Second)},
		{name: "204", status: 204, wantKind: integration.Delivered},
		{name: "400 keeps body", status: 400, body: omnisend400, wantKind: integration.Drop, wantReason: signal.ReasonVendorRejected},
		{name: "422", status: 422, body: `{}`, wantKind: integration.Drop, wantReason: signal.ReasonVendorRejected},
		{name: "401", status: 401, wantKind: integration.Pause, wantReason: signal.ReasonAuthFailed},
		{name: "403", status: 403, wantKind: integration.Pause, wantReason: signal.ReasonAuthFailed},
		{name: "410", status: 410, wantKind: integration.Pause, wantReason: signal.ReasonAPIVersionRetired},
		{name: "404", status: 404, wantKind: integration.Drop, wantReason: signal.ReasonVendorRejected},
		{name: "409", status: 409, wantKind: integration.Drop, wantReason: signal.ReasonVendorRejected},
		{name: "413", status: 413, wantKind: integration.Drop, wantReason: signal.ReasonVendorRejected},
		{name: "429 reset", status: 429, header: h("X-Rate-Limit-Limit", "400", "X-Rate-Limit-Remaining", "0", "X-Rate-Limit-Reset", "23"), wantKind: integration.RateLimited, wantReason: signal.ReasonRateLimited, wantAfter: 23 * time.Second, wantLimit: limit(400, 0, 23*time.Second)},
		{name: "429 reset wins over Retry-After", status: 429, header: h("X-Rate-Limit-Reset", "5", "Retry-After", "50"), wantKind: integration.RateLimited, wantReason: signal.ReasonRateLimited, wantAfter: 5 * time.Second},
		{name: "429 fractional reset", status: 429, header: h("X-Rate-Limit-Reset", "2.5"), wantKind: integration.RateLimited, wantReason: signal.ReasonRateLimited, wantAfter: 2500 * time.Millisecond},
		{name: "429 Retry-After seconds", status: 429, header: h("Retry-After", "30"), wantKind: integration.RateLimited, wantReason: signal.ReasonRateLimited, wantAfter: 30 * time.Second},
		{name: "429 Retry-After date", status: 429, header: h("Retry-After", classifyNow.Add(90*time.Second).Format(http.TimeFormat)), wantKind: integration.RateLimited, wantReason: signal.ReasonRateLimited, wantAfter: 90 * time.Second},
		{name: "429 malformed reset falls back", status: 429, header: h("X-Rate-Limit-Reset", "soon", "Retry-After", "7"), wantKind: integration.RateLimited, wantReason: signal.ReasonRateLimited, wantAfter: 7 * time.Second},
		{name: "429 no headers", status: 429, wantKind: integration.RateLimited, wantReason: signal.ReasonRateLimited, wantAfter: time.Minute},
		{name: "429 malformed everything", status: 429, header: h("X-Rate-Limit-Reset", "-3", "Retry-After", "tomorrow"), wantKind: integration.RateLimited, wantReason: signal.ReasonRateLimited, wantAfter: time.Minute},
		{name: "429 reset within the second", status: 429, header: h("X-Rate-Limit-Reset", "0.25"), wantKind: integration.RateLimited, wantReason: signal.ReasonRateLimited, wantAfter: 250 * time.Millisecond},
		{name: "429 zero reset waits a second", status: 429, header: h("X-Rate-Limit-Reset", "0"), wantKind: integration.RateLimited, wantReason: signal.ReasonRateLimited, wantAfter: time.Second},
		{name: "429 huge Retry-After capped", status: 429, header: h("Retry-After", "999999999999999999999"), wantKind: integration.RateLimited, wantReason: signal.ReasonRateLimited, wantAfter: time.Hour},
		{name: "500", status: 500, wantKind: integration.Retry, wantReason: signal.ReasonRetrying},
		{name: "502 Retry-After", status: 502, header: h("Retry-After", "120"), wantKind: integration.Retry, wantReason: signal.ReasonRetrying, wantAfter: 2 * time.Minute},
		{name: "503 Retry-After past date", status: 503, header: h("Retry-After", classifyNow.Add(-time.Minute).Format(http.TimeFormat)), wantKind: integration.Retry, wantReason: signal.ReasonRetrying},
		{name: "504 malformed Retry-After", status: 504, header: h("Retry-After", "1.5"), wantKind: integration.Retry, wantReason: signal.ReasonRetrying},
		{name: "408", status: 408, wantKind: integration.Retry, wantReason: signal.ReasonRetrying},
		{name: "302 unexpected", status: 302, wantKind: integration.Retry, wantReason: signal.ReasonRetrying},
		{name: "malformed limits ignored", status: 202, header: h("X-Rate-Limit-Limit", "lots", "X-Rate-Limit-Remaining", "3", "X-Rate-Limit-Reset", "1e3"), wantKind: integration.Delivered, wantLimit: limit(0, 3, 0)},
		{name: "no remaining, no limit", status: 202, header: h("X-Rate-Limit-Limit", "400", "X-Rate-Limit-Reset", "3"), wantKind: integration.Delivered},
		{name: "negative remaining ignored", status: 202, header: h("X-Rate-Limit-Remaining", "-1"), wantKind: integration.Delivered},
		{name: "absurd reset ignored", status: 202, header: h("X-Rate-Limit-Remaining", "5", "X-Rate-Limit-Reset", "1741946400"), wantKind: integration.Delivered, wantLimit: limit(0, 5, 0)},
	}
	v := testVendor()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hd := tt.header
			if hd == nil {
				hd = http.Header{}
			}
			resp := &http.Response{StatusCode: tt.status, Header: hd}
			out := v.Classify(resp, []byte(tt.body), nil)
			if out.Kind != tt.wantKind || out.Reason != tt.wantReason {
				t.Errorf("Kind, Reason = %v, %q; want %v, %q", out.Kind, out.Reason, tt.wantKind, tt.wantReason)
			}
			if out.RetryAfter != tt.wantAfter {
				t.Errorf("RetryAfter = %v, want %v", out.RetryAfter, tt.wantAfter)
			}
			if out.Status != tt.status || out.Body != tt.body {
				t.Errorf("Status, Body = %d, %q; want %d, %q", out.Status, out.Body, tt.status, tt.body)
			}
			switch {
			case tt.wantLimit == nil && out.Limit != nil:
				t.Errorf("Limit = %+v, want nil", out.Limit)
			case tt.wantLimit != nil && (out.Limit == nil || *out.Limit != *tt.wantLimit):
				t.Errorf("Limit = %+v, want %+v", out.Limit, tt.wantLimit)
			}
		})
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

var _ net.Error = timeoutError{}

func TestClassifyTransportErrors(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) }) // runs first: frees the handler
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	send := func(base string, timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		v := New(Options{BaseURL: base})
		req, err := v.Request(ctx, &signal.Integration{Config: map[string]any{"api_key": testAPIKey}}, []byte(`{}`))
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			return errors.New("no error")
		}
		return err
	}
	tests := []struct {
		name string
		err  func() error
	}{
		{name: "real timeout", err: func() error { return send(slow.URL, 50*time.Millisecond) }},
		{name: "connection refused", err: func() error { return send(closedURL, 5*time.Second) }},
		{name: "net.Error timeout", err: func() error { return &net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}} }},
		{name: "connection reset", err: func() error { return &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")} }},
		{name: "cancelled", err: func() error { return context.Canceled }},
	}
	v := testVendor()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.err()
			if err == nil || err.Error() == "no error" {
				t.Fatalf("setup gave no transport error: %v", err)
			}
			if strings.Contains(err.Error(), testAPIKey) {
				t.Errorf("transport error %q carries the API key", err)
			}
			out := v.Classify(nil, nil, err)
			if out.Kind != integration.Retry || out.Status != 0 || out.Body != "" || out.Limit != nil {
				t.Errorf("Classify(%v) = %+v, want a bare Retry", err, out)
			}
		})
	}
}

func TestClassifyResponseWithError(t *testing.T) {
	t.Parallel()
	out := testVendor().Classify(&http.Response{StatusCode: 202, Header: http.Header{}}, []byte(`{"ev`), errors.New("unexpected EOF"))
	if out.Kind != integration.Delivered || out.Status != 202 {
		t.Fatalf("Classify() = %+v, want Delivered: the status was received", out)
	}
}

func TestClassifyTruncatesBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		wantLen int
	}{
		{name: "short", body: "bad", wantLen: 3},
		{name: "exactly 4 KiB", body: strings.Repeat("a", 4096), wantLen: 4096},
		{name: "long ASCII", body: strings.Repeat("a", 10000), wantLen: 4096},
		{name: "multi-byte rune across the cut", body: strings.Repeat("a", 4095) + "€€", wantLen: 4095},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := testVendor().Classify(&http.Response{StatusCode: 400, Header: http.Header{}}, []byte(tt.body), nil)
			if len(out.Body) != tt.wantLen || !strings.HasPrefix(tt.body, out.Body) {
				t.Errorf("len(Body) = %d, want %d", len(out.Body), tt.wantLen)
			}
		})
	}
}

func FuzzClassify(f *testing.F) {
	f.Add(429, "400", "0", "23", "30", []byte(`{"error":"rate"}`))
	f.Add(503, "", "", "", "Fri, 14 Mar 2025 10:01:00 GMT", []byte{})
	f.Add(202, "x", "-1", "1.5.5", "1e9", []byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, status int, lim, rem, reset, retryAfter string, body []byte) {
		hd := http.Header{}
		hd.Set("X-Rate-Limit-Limit", lim)
		hd.Set("X-Rate-Limit-Remaining", rem)
		hd.Set("X-Rate-Limit-Reset", reset)
		hd.Set("Retry-After", retryAfter)
		out := testVendor().Classify(&http.Response{StatusCode: status, Header: hd}, body, nil)
		if out.Kind < integration.Delivered || out.Kind > integration.Pause {
			t.Fatalf("bad kind %v", out.Kind)
		}
		if out.RetryAfter < 0 || out.RetryAfter > time.Hour {
			t.Fatalf("RetryAfter = %v", out.RetryAfter)
		}
		if out.Kind == integration.RateLimited && out.RetryAfter < 10*time.Millisecond {
			t.Fatalf("429 RetryAfter = %v", out.RetryAfter)
		}
		if len(out.Body) > 4096 || out.Status != status {
			t.Fatalf("Body %d bytes, Status %d", len(out.Body), out.Status)
		}
		if l := out.Limit; l != nil && (l.Limit < 0 || l.Remaining < 0 || l.Reset < 0 || l.Reset > 24*time.Hour || l.Window != 0) {
			t.Fatalf("Limit = %+v", l)
		}
	})
}
