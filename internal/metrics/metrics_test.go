package metrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// fakeGauges is a store of integrations and their backlogs.
type fakeGauges struct {
	ins    []*signal.Integration
	health map[string]*store.IntegrationBacklog
	events []signal.Event // the log; the processor is at cursor
	cursor int64
}

func (f *fakeGauges) Cursor(ctx context.Context, p store.CursorParams) (int64, error) {
	return f.cursor, nil
}

func (f *fakeGauges) ListEvents(ctx context.Context, p store.ListEventsParams) ([]signal.Event, error) {
	var out []signal.Event
	for _, ev := range f.events {
		if ev.Seq > p.AfterSeq && len(out) < p.Limit {
			out = append(out, ev)
		}
	}
	return out, nil
}

func (f *fakeGauges) ListIntegrations(ctx context.Context, p store.ListParams) ([]*signal.Integration, error) {
	var out []*signal.Integration
	for _, in := range f.ins {
		if in.ID > p.After && len(out) < p.Limit {
			out = append(out, in)
		}
	}
	return out, nil
}

func (f *fakeGauges) IntegrationBacklog(ctx context.Context, p store.IntegrationBacklogParams) (*store.IntegrationBacklog, error) {
	if h, ok := f.health[p.IntegrationID]; ok {
		return h, nil
	}
	return &store.IntegrationBacklog{}, nil
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T) (*Metrics, *fakeGauges, *bytes.Buffer, *slog.Logger) {
		t.Helper()
		var logs bytes.Buffer
		return New(), &fakeGauges{health: map[string]*store.IntegrationBacklog{}}, &logs, slog.New(slog.NewTextHandler(&logs, nil))
	}

	t.Run("gauges follow the store; a deleted integration's series go", func(t *testing.T) {
		t.Parallel()
		m, st, _, log := setup(t)
		st.ins = []*signal.Integration{{ID: "int_a", CatalogKey: "omnisend", Status: "active"}, {ID: "int_b", CatalogKey: "klaviyo", Status: "active"}}
		st.health["int_a"] = &store.IntegrationBacklog{Backlog: 7, OldestPending: time.Now().Add(-90 * time.Second)}
		if err := m.Refresh(context.Background(), st, nil, log); err != nil {
			t.Fatal(err)
		}
		if got := testutil.ToFloat64(m.backlog.WithLabelValues("int_a")); got != 7 {
			t.Errorf("backlog %v, want 7", got)
		}
		if got := testutil.ToFloat64(m.oldestPending.WithLabelValues("int_a")); got < 89 || got > 100 {
			t.Errorf("oldest pending %v s, want about 90", got)
		}
		if k, _ := m.vendors.lookup("int_b"); k != "klaviyo" {
			t.Errorf("vendor of int_b %q", k)
		}
		st.ins = st.ins[:1]
		m.Refresh(context.Background(), st, nil, log)
		if n := testutil.CollectAndCount(m.backlog); n != 1 {
			t.Errorf("%d backlog series after int_b was deleted, want 1", n)
		}
	})

	t.Run("processor lag is the age of the oldest event not passed", func(t *testing.T) {
		t.Parallel()
		m, st, _, log := setup(t)
		now := time.Now()
		st.events = []signal.Event{{Seq: 1, ReceivedAt: now.Add(-time.Hour)}, {Seq: 2, ReceivedAt: now.Add(-30 * time.Second)}, {Seq: 3, ReceivedAt: now}}
		st.cursor = 1
		m.Refresh(context.Background(), st, nil, log)
		if got := testutil.ToFloat64(m.processorLagSeconds); got < 29 || got > 40 {
			t.Errorf("lag %v s, want about 30", got)
		}
		st.cursor = 3
		m.Refresh(context.Background(), st, nil, log)
		if got := testutil.ToFloat64(m.processorLagSeconds); got != 0 {
			t.Errorf("lag %v s once caught up, want 0", got)
		}
	})

	t.Run("pause and resume are logged once each", func(t *testing.T) {
		t.Parallel()
		m, st, logs, log := setup(t)
		in := &signal.Integration{ID: "int_a", CatalogKey: "omnisend", Status: "active"}
		st.ins = []*signal.Integration{in}
		status := map[string]string{}
		for _, s := range []string{"active", "paused", "paused", "active", "active"} {
			in.Status, in.StatusReason = s, map[string]signal.Reason{"paused": signal.ReasonAuthFailed}[s]
			if err := m.Refresh(context.Background(), st, status, log); err != nil {
				t.Fatal(err)
			}
		}
		if c := strings.Count(logs.String(), "integration paused"); c != 1 || !strings.Contains(logs.String(), "reason=auth_failed") {
			t.Errorf("paused logged %d times: %s", c, logs)
		}
		if c := strings.Count(logs.String(), "integration resumed"); c != 1 {
			t.Errorf("resumed logged %d times: %s", c, logs)
		}
		if got := testutil.ToFloat64(m.integrationUp.WithLabelValues("int_a", "omnisend")); got != 1 {
			t.Errorf("signal_integration_active %v after resume", got)
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTransport(t *testing.T) {
	t.Parallel()
	m := New()
	tr := m.Transport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		switch r.URL.Path {
		case "/down":
			return nil, errors.New("connection refused")
		case "/slow-down":
			return &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"30"}}, Body: http.NoBody}, nil
		}
		return &http.Response{StatusCode: 202, Body: http.NoBody}, nil
	}), map[string]string{"omnisend": "https://api.omnisend.com", "klaviyo": "https://a.klaviyo.com"})
	for _, u := range []string{"https://api.omnisend.com/v5/events?email=jane@example.com", "https://a.klaviyo.com/down", "https://a.klaviyo.com/slow-down", "https://elsewhere.example/x"} {
		req, _ := http.NewRequest("POST", u, nil)
		tr.RoundTrip(req)
	}
	for _, c := range []struct{ vendor, code string }{{"omnisend", "202"}, {"klaviyo", "error"}, {"klaviyo", "429"}, {"other", "202"}} {
		if got := testutil.ToFloat64(m.vendorRequests.WithLabelValues(c.vendor, c.code)); got != 1 {
			t.Errorf("vendor %s code %s: %v, want 1", c.vendor, c.code, got)
		}
	}
	if n := testutil.CollectAndCount(m.vendorRetryAft); n != 1 {
		t.Errorf("%d 429-wait series, want 1", n)
	}
	rec := httptest.NewRecorder()
	m.Handler("").ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if strings.Contains(rec.Body.String(), "example.com") || strings.Contains(rec.Body.String(), "/v5/events") {
		t.Errorf("the metrics quote a URL: %s", rec.Body)
	}
}

func TestHandlerToken(t *testing.T) {
	t.Parallel()
	h := New().Handler("s3cret-token")
	for _, c := range []struct {
		auth string
		code int
	}{{"", 401}, {"Bearer wrong", 401}, {"s3cret-token", 401}, {"Bearer s3cret-token", 200}} {
		req := httptest.NewRequest("GET", "/metrics", nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.code {
			t.Errorf("Authorization %q: %d, want %d", c.auth, rec.Code, c.code)
		}
	}
}

func TestGatewayLogsRefusalsSampled(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	m := New()
	h := m.Gateway(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
	}), slog.New(slog.NewTextHandler(&logs, nil)))
	for i := 0; i < 5; i++ {
		req := httptest.NewRequest("POST", "/v1/t", strings.NewReader(`{"userId":"jane@example.com"}`))
		req.Header.Set("Authorization", "Bearer dk_live_secret")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Header().Get("X-Request-Id") == "" {
			t.Fatal("no X-Request-Id")
		}
	}
	if c := strings.Count(logs.String(), "request refused"); c != 1 {
		t.Errorf("%d log lines for 5 refusals in 10 s, want 1: %s", c, logs.String())
	}
	if strings.Contains(logs.String(), "jane") || strings.Contains(logs.String(), "dk_live") || !strings.Contains(logs.String(), "request_id=") {
		t.Errorf("log line: %s", logs.String())
	}
	if got := testutil.ToFloat64(m.gatewayResponses.WithLabelValues("401")); got != 5 {
		t.Errorf("401 answers %v, want 5", got)
	}
}

func TestSampler(t *testing.T) {
	t.Parallel()
	s := newSampler(time.Hour)
	if n, ok := s.allow("k"); !ok || n != 1 {
		t.Fatalf("first: %d %v", n, ok)
	}
	for i := 0; i < 3; i++ {
		if _, ok := s.allow("k"); ok {
			t.Fatal("allowed within the period")
		}
	}
	if _, ok := s.allow("other"); !ok {
		t.Error("another key waits for k's period")
	}
}

func TestLimiterWait(t *testing.T) {
	t.Parallel()
	m := New()
	m.LimiterWait("int_a", 1500*time.Millisecond)
	m.LimiterWait("int_a", 500*time.Millisecond)
	if n := testutil.CollectAndCount(m.limiterWaits); n != 1 {
		t.Fatalf("%d series, want 1", n)
	}
	rec := httptest.NewRecorder()
	m.Handler("").ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{`signal_delivery_limiter_wait_seconds_count{integration_id="int_a"} 2`, `signal_delivery_limiter_wait_seconds_sum{integration_id="int_a"} 2`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestGroupCommit(t *testing.T) {
	t.Parallel()
	m := New()
	m.GroupCommit(1, 2*time.Millisecond, nil)
	m.GroupCommit(40, 8*time.Millisecond, nil)
	m.GroupCommit(5, time.Second, errors.New("disk full"))
	m.GroupCommit(3, time.Millisecond, fmt.Errorf("append: %w", store.ErrReplayed))
	rec := httptest.NewRecorder()
	m.Handler("").ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{"signal_group_commit_events_count 2", "signal_group_commit_events_sum 41",
		"signal_group_commit_seconds_count 4", "signal_group_commit_failures_total 1"} {
		if !strings.Contains(rec.Body.String(), want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestFinishCountsAndLogsFailures(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	m := New()
	m.vendors.add("int_a", "omnisend")
	st := m.WrapStore(nopDeliveries{}, slog.New(slog.NewTextHandler(&logs, nil)))
	failed := func(status signal.DeliveryStatus, reason signal.Reason) *signal.Delivery {
		return &signal.Delivery{ID: 7, IntegrationID: "int_a", Status: status, Reason: reason, VendorStatus: 400,
			VendorResponse: `{"error":"invalid email jane@example.com"}`, Attempts: 1, Attempt: &signal.Attempt{}}
	}
	ds := []*signal.Delivery{failed(signal.StatusFailed, signal.ReasonVendorRejected), failed(signal.StatusPending, signal.ReasonRetrying),
		failed(signal.StatusPending, signal.ReasonRetrying), {IntegrationID: "int_a", Status: signal.StatusDelivered, Attempt: &signal.Attempt{}}}
	if err := st.FinishDeliveries(context.Background(), store.FinishDeliveriesParams{Deliveries: ds}); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(m.retries.WithLabelValues("int_a", string(signal.ReasonRetrying))); got != 2 {
		t.Errorf("retries %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.deliveries.WithLabelValues("int_a", "omnisend", string(signal.StatusFailed))); got != 1 {
		t.Errorf("failed %v, want 1", got)
	}
	if c := strings.Count(logs.String(), "vendor request failed"); c != 1 || !strings.Contains(logs.String(), "integration=int_a") ||
		!strings.Contains(logs.String(), "delivery=7") || strings.Contains(logs.String(), "jane") {
		t.Errorf("want one sampled line naming the integration and delivery, no vendor answer: %s", logs.String())
	}
}
