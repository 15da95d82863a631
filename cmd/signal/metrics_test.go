package main

import (
	"bufio"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// metricSum adds the samples of name whose labels include every one of
// want (Prometheus text format).
func metricSum(text, name string, want map[string]string) (float64, bool) {
	var sum float64
	found := false
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for k, v := range want {
			if !strings.Contains(line, k+`="`+v+`"`) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err == nil {
			sum, found = sum+f, true
		}
	}
	return sum, found
}

func (n *node) metrics(t *testing.T, token string) string {
	t.Helper()
	hdr := map[string]string{}
	if token != "" {
		hdr["Authorization"] = "Bearer " + token
	}
	code, _, body := do(t, "GET", "http://"+n.admin+"/metrics", hdr, nil)
	if code != 200 {
		t.Fatalf("GET /metrics: %d %s", code, body)
	}
	return string(body)
}

// TestMetricsMoveWithEvents: the contract's series count events ingested
// (accepted and rejected), delivered, filtered and failed, vendor answers
// and pauses; the gauges show every integration; the text holds no email,
// phone number or key; /metrics needs the token when one is set.
func TestMetricsMoveWithEvents(t *testing.T) {
	t.Parallel()
	const okKey, badKey, authKey, metricsToken = "metrics-ok-key-0123456", "metrics-bad-key-012345", "metrics-401-key-012345", "metrics-token-0123456789"
	omni := newScriptedOmnisend(t, func(key string, nth int) omniReply {
		switch key {
		case badKey:
			return omniReply{status: 400, body: `{"error":"invalid contact email"}`}
		case authKey:
			return omniReply{status: 401, body: `{"error":"unauthorized"}`}
		}
		return omniReply{status: 202, header: map[string]string{"X-Rate-Limit-Remaining": "399", "X-Rate-Limit-Reset": "60"}, body: `{}`}
	})
	n := start(t, t.TempDir(), "SIGNAL_OMNISEND_API_URL="+omni.URL, "SIGNAL_METRICS_TOKEN="+metricsToken)
	tok := n.login(t)
	pl := n.createPipeline(t, tok, "metrics")
	plID, plKey := pl["id"].(string), pl["pipeline_key"].(string)
	install := func(apiKey string) string {
		return n.install(t, tok, `{"name":"Omnisend `+apiKey+`","config":{"api_key":"`+apiKey+`"},"pipeline_ids":["`+plID+`"],"confirm_duplicate":true}`)
	}
	okID, badID, authID := install(okKey), install(badKey), install(authKey)

	if code, _, _ := do(t, "GET", "http://"+n.admin+"/metrics", nil, nil); code != 401 {
		t.Errorf("GET /metrics without the token: %d, want 401", code)
	}
	n.send(t, "/v1/t", plKey, `{"userId":"u-1","messageId":"m-ok","event":"Signed Up","properties":{"method":"email"},
		"context":{"traits":{"email":"jane.metrics@example.com","phone":"+447700900123"}}}`)
	n.send(t, "/v1/t", plKey, `{"userId":"u-2","messageId":"m-filtered","event":"Cart Viewed","properties":{"cart_id":"C-1"}}`)
	// One valid event and one without any id in a batch: one rejected.
	n.send(t, "/v1/batch", plKey, `{"batch":[{"type":"track","userId":"u-3","event":"Cart Viewed"},{"type":"track","event":"No Id"}]}`)
	n.liveRow(t, tok, "integration_id="+okID, "m-ok", "delivered")
	n.liveRow(t, tok, "integration_id="+badID, "m-ok", "failed")

	want := []struct {
		name   string
		labels map[string]string
		min    float64
	}{
		{"signal_events_received_total", map[string]string{"pipeline_id": plID, "result": "accepted"}, 3},
		{"signal_events_received_total", map[string]string{"pipeline_id": plID, "result": "rejected"}, 1},
		{"signal_deliveries_total", map[string]string{"integration_id": okID, "vendor": "omnisend", "status": "delivered"}, 1},
		{"signal_deliveries_total", map[string]string{"integration_id": okID, "vendor": "omnisend", "status": "filtered"}, 2},
		{"signal_deliveries_total", map[string]string{"integration_id": badID, "vendor": "omnisend", "status": "failed"}, 1},
		{"signal_vendor_requests_total", map[string]string{"vendor": "omnisend", "code": "202"}, 1},
		{"signal_vendor_requests_total", map[string]string{"vendor": "omnisend", "code": "400"}, 1},
		{"signal_vendor_requests_total", map[string]string{"vendor": "omnisend", "code": "401"}, 1},
		{"signal_integration_pauses_total", map[string]string{"integration_id": authID}, 1},
		{"signal_vendor_request_duration_seconds_count", map[string]string{"vendor": "omnisend"}, 3},
		{"signal_delivery_backlog", map[string]string{"integration_id": okID}, 0},
		{"signal_delivery_backlog", map[string]string{"integration_id": authID}, 1},
		{"signal_delivery_oldest_pending_seconds", map[string]string{"integration_id": okID}, 0},
		{"signal_event_append_seconds_count", nil, 3},
		{"signal_group_commit_events_sum", nil, 3},
		{"signal_group_commit_seconds_count", nil, 1},
		{"signal_gateway_responses_total", map[string]string{"code": "200"}, 3},
	}
	var text string
	deadline := time.Now().Add(15 * time.Second)
	for {
		text = n.metrics(t, metricsToken)
		var missing []string
		for _, w := range want {
			if v, ok := metricSum(text, w.name, w.labels); !ok || v < w.min {
				missing = append(missing, fmt.Sprintf("%s%v = %v (found %v), want >= %v", w.name, w.labels, v, ok, w.min))
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics did not move (the gauges must within 10 s):\n%s", strings.Join(missing, "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, secret := range []string{"jane.metrics", "example.com", "447700900123", okKey, badKey, authKey, plKey, "u-1", "m-ok"} {
		if strings.Contains(text, secret) {
			t.Errorf("the metrics text holds %q", secret)
		}
	}
	if m := regexp.MustCompile(`(?m)^signal_\w+\{[^}]*@`).FindString(text); m != "" {
		t.Errorf("a label holds an email: %s", m)
	}

	for _, addr := range []string{n.gateway, n.admin} {
		for _, path := range []string{"/healthz", "/readyz"} {
			if code, _, body := do(t, "GET", "http://"+addr+path, nil, nil); code != 200 {
				t.Errorf("GET %s%s: %d %s", addr, path, code, body)
			}
		}
	}
}
