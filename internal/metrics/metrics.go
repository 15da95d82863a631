// Package metrics exposes Signal's Prometheus series (contract, "Operations").
// The other packages know nothing of Prometheus: the gateway reports through
// its ReceivedFunc, the processor and the delivery engine through the store
// they are given (Store wraps it), vendor requests through the HTTP
// transport (Transport), and gauges are read from the store (Refresher).
// Labels are ids, status codes and reason codes: never an email, a phone
// number, a key or free text.
package metrics

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/signalhq/signal/internal/store"
)

// Metrics holds every series of one process.
type Metrics struct {
	reg *prometheus.Registry

	eventsReceived   *prometheus.CounterVec
	gatewayResponses *prometheus.CounterVec
	appendSeconds    prometheus.Histogram
	appendEvents     prometheus.Histogram
	commitEvents     prometheus.Histogram
	commitSeconds    prometheus.Histogram
	commitFailures   prometheus.Counter

	processorLag        prometheus.Gauge
	processorLagSeconds prometheus.Gauge
	processorCursor     prometheus.Gauge
	processorSeconds    prometheus.Histogram

	deliveries      *prometheus.CounterVec
	retries         *prometheus.CounterVec
	pauses          *prometheus.CounterVec
	claimSeconds    prometheus.Histogram
	limiterWaits    *prometheus.HistogramVec
	backlog         *prometheus.GaugeVec
	oldestPending   *prometheus.GaugeVec
	integrationUp   *prometheus.GaugeVec
	gaugesRefreshed prometheus.Gauge

	vendorRequests *prometheus.CounterVec
	vendorSeconds  *prometheus.HistogramVec
	vendorRetryAft *prometheus.HistogramVec

	names   []string
	vendors *vendorNames

	// head is the highest event seq this process appended (processor lag).
	mu   sync.Mutex
	head int64
}

// New registers every series (plus the Go and process collectors).
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{reg: reg, vendors: &vendorNames{m: map[string]string{}}}
	f := factory{reg: reg, names: &m.names}
	m.eventsReceived = f.counterVec("signal_events_received_total", "Events received by the gateway, by pipeline and result (accepted: durably stored; rejected: refused).", "pipeline_id", "result")
	m.gatewayResponses = f.counterVec("signal_gateway_responses_total", "Gateway answers to ingestion requests by HTTP status code.", "code")
	m.appendSeconds = f.histogram("signal_event_append_seconds", "Time to store one request's events durably (group commit: waiting for and sharing one sync).", prometheus.ExponentialBuckets(0.0005, 2, 14))
	m.appendEvents = f.histogram("signal_event_append_events", "Events stored per request (one group commit shares several requests).", prometheus.ExponentialBuckets(1, 2, 11))
	m.commitEvents = f.histogram("signal_group_commit_events", "Events written per group commit: one transaction and one sync shared by the concurrent requests.", prometheus.ExponentialBuckets(1, 2, 13))
	m.commitSeconds = f.histogram("signal_group_commit_seconds", "Duration of one group commit (the transaction and its sync), failed ones included.", prometheus.ExponentialBuckets(0.0002, 2, 16))
	m.commitFailures = f.counter("signal_group_commit_failures_total", "Group commits the database refused, replayed signed requests aside (the group's requests are then committed one by one; those still refused are answered 5xx).")
	m.processorLag = f.gauge("signal_processor_lag_events", "Events appended by this process that the processor has not yet passed.")
	m.processorLagSeconds = f.gauge("signal_processor_lag_seconds", "Age of the oldest event the processor has not passed (0: it is caught up); read from the store, the same on every node.")
	m.processorCursor = f.gauge("signal_processor_cursor", "Event log position the processor has reached.")
	m.processorSeconds = f.histogram("signal_processor_record_seconds", "Time to record one processor pass (deliveries, profiles, cursor).", prometheus.ExponentialBuckets(0.001, 2, 14))
	m.deliveries = f.counterVec("signal_deliveries_total", "Deliveries that reached a final status, by integration, vendor and status (delivered, failed, filtered).", "integration_id", "vendor", "status")
	m.retries = f.counterVec("signal_delivery_retries_total", "Delivery attempts scheduled for a retry, by integration and reason code.", "integration_id", "reason")
	m.pauses = f.counterVec("signal_integration_pauses_total", "Integrations paused by delivery (a vendor refused the key or the API version).", "integration_id", "reason")
	m.claimSeconds = f.histogram("signal_delivery_claim_seconds", "Time to claim a round of due deliveries from the store.", prometheus.ExponentialBuckets(0.0005, 2, 14))
	m.limiterWaits = f.histogramVec("signal_delivery_limiter_wait_seconds", "Waits of an integration's worker for its vendor account's rate limiter (count: how many).", prometheus.ExponentialBuckets(0.01, 2, 14), "integration_id")
	m.backlog = f.gaugeVec("signal_delivery_backlog", "Pending deliveries of an integration (read from the store every few seconds).", "integration_id")
	m.oldestPending = f.gaugeVec("signal_delivery_oldest_pending_seconds", "Age of the oldest pending delivery's event (0: none pending).", "integration_id")
	m.integrationUp = f.gaugeVec("signal_integration_active", "1 while an integration is active, 0 while paused.", "integration_id", "vendor")
	m.gaugesRefreshed = f.gauge("signal_store_gauges_refreshed_timestamp_seconds", "When the store gauges were last read (unix seconds).")
	m.vendorRequests = f.counterVec("signal_vendor_requests_total", "Requests to vendors by HTTP status code (error: no answer, a transport failure).", "vendor", "code")
	m.vendorSeconds = f.histogramVec("signal_vendor_request_duration_seconds", "Duration of vendor requests.", prometheus.ExponentialBuckets(0.01, 2, 12), "vendor")
	m.vendorRetryAft = f.histogramVec("signal_vendor_rate_limited_wait_seconds", "Waits vendors asked for with 429 answers (Retry-After, 0 when absent).", prometheus.ExponentialBuckets(1, 2, 10), "vendor")
	return m
}

// Registry is where the series are registered (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Received counts a request's events (gateway.Config.ReceivedFunc).
func (m *Metrics) Received(pipelineID string, accepted, rejected int) {
	if accepted > 0 {
		m.eventsReceived.WithLabelValues(pipelineID, "accepted").Add(float64(accepted))
	}
	if rejected > 0 {
		m.eventsReceived.WithLabelValues(pipelineID, "rejected").Add(float64(rejected))
	}
}

// GroupCommit records one group commit of events (the store's OnCommit).
// A commit refused for a replayed signed request is no failure: the group
// is then committed request by request and only the replay is refused.
func (m *Metrics) GroupCommit(events int, took time.Duration, err error) {
	m.commitSeconds.Observe(took.Seconds())
	if err != nil {
		if !errors.Is(err, store.ErrReplayed) {
			m.commitFailures.Inc()
		}
		return
	}
	m.commitEvents.Observe(float64(events))
}

// LimiterWait records a worker waiting for its rate limiter
// (delivery.Deps.LimiterWaitFunc).
func (m *Metrics) LimiterWait(integrationID string, d time.Duration) {
	m.limiterWaits.WithLabelValues(integrationID).Observe(d.Seconds())
}

// Handler serves the text format; with a token, only to
// "Authorization: Bearer <token>".
func (m *Metrics) Handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(strings.TrimSpace(r.Header.Get("Authorization")))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":{"code":"UNAUTHORIZED","message":"metrics need Authorization: Bearer <SIGNAL_METRICS_TOKEN>"}}`))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Names lists Signal's own series (dashboards and alert rules name only
// these, or the Go and process collectors').
func (m *Metrics) Names() []string { return append([]string(nil), m.names...) }

type factory struct {
	reg   *prometheus.Registry
	names *[]string
}

func (f factory) register(name string, c prometheus.Collector) {
	f.reg.MustRegister(c)
	*f.names = append(*f.names, name)
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.register(name, c)
	return c
}

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.register(name, c)
	return c
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	f.register(name, g)
	return g
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	f.register(name, g)
	return g
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	f.register(name, h)
	return h
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	f.register(name, h)
	return h
}
