package metrics

import (
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Transport counts and times requests to vendors. The vendor label comes
// from the request's host, matched against the vendors' configured base
// URLs (any other host is "other"): never the path or query, which may
// carry ids.
type Transport struct {
	Base http.RoundTripper
	m    *Metrics
	// hosts maps a base URL's host to its vendor's catalog key.
	hosts map[string]string
}

// Transport wraps base (nil: http.DefaultTransport); baseURLs are the
// vendors' API base URLs by catalog key.
func (m *Metrics) Transport(base http.RoundTripper, baseURLs map[string]string) *Transport {
	if base == nil {
		base = http.DefaultTransport
	}
	hosts := map[string]string{}
	for key, u := range baseURLs {
		if pu, err := url.Parse(u); err == nil && pu.Host != "" {
			hosts[pu.Host] = key
		}
	}
	return &Transport{Base: base, m: m, hosts: hosts}
}

func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	vendor, ok := t.hosts[r.URL.Host]
	if !ok {
		vendor = "other"
	}
	start := time.Now()
	resp, err := t.Base.RoundTrip(r)
	t.m.vendorSeconds.WithLabelValues(vendor).Observe(time.Since(start).Seconds())
	if err != nil {
		t.m.vendorRequests.WithLabelValues(vendor, "error").Inc()
		return nil, err
	}
	t.m.vendorRequests.WithLabelValues(vendor, strconv.Itoa(resp.StatusCode)).Inc()
	if resp.StatusCode == http.StatusTooManyRequests {
		wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		t.m.vendorRetryAft.WithLabelValues(vendor).Observe(float64(max(wait, 0)))
	}
	return resp, nil
}
