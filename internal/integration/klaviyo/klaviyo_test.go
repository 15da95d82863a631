package klaviyo_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/integration/klaviyo"
	"github.com/signalhq/signal/internal/signal"
)

func TestRequestRoutesByDocumentType(t *testing.T) {
	t.Parallel()
	v := klaviyo.New(klaviyo.Options{BaseURL: "https://k.example/", Version: "1.2.3"})
	in := &signal.Integration{ID: "int_k", Config: map[string]any{"api_key": "pk_abc"}}
	tests := []struct {
		name    string
		payload string
		want    string
	}{
		{"event", `{"data":{"type":"event","attributes":{}}}`, "https://k.example/api/events"},
		{"profile", `{"data":{"type":"profile","attributes":{}}}`, "https://k.example/api/profile-import"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := v.Request(context.Background(), in, json.RawMessage(tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			if req.URL.String() != tt.want || req.Method != http.MethodPost {
				t.Fatalf("%s %s, want POST %s", req.Method, req.URL, tt.want)
			}
			h := req.Header
			if h.Get("Authorization") != "Klaviyo-API-Key pk_abc" || h.Get("revision") != klaviyo.Revision ||
				h.Get("Content-Type") != "application/vnd.api+json" || h.Get("User-Agent") != "DataflySignal/1.2.3" {
				t.Fatalf("headers %v", h)
			}
		})
	}
	if _, err := v.Request(context.Background(), in, json.RawMessage(`not json`)); err == nil {
		t.Fatal("Request(not JSON) = nil error")
	}
}

func TestRateLimitHeadersPace(t *testing.T) {
	t.Parallel()
	v := klaviyo.New(klaviyo.Options{})
	tests := []struct {
		name   string
		header map[string]string
		want   *integration.RateLimit
	}{
		{"steady window", map[string]string{"RateLimit-Limit": "3500", "RateLimit-Remaining": "12", "RateLimit-Reset": "41"},
			&integration.RateLimit{Limit: 3500, Remaining: 12, Reset: 41 * time.Second, Window: time.Minute}},
		{"window named", map[string]string{"RateLimit-Limit": "700;w=60", "RateLimit-Remaining": "0", "RateLimit-Reset": "3"},
			&integration.RateLimit{Limit: 700, Remaining: 0, Reset: 3 * time.Second, Window: time.Minute}},
		{"no remaining", map[string]string{"RateLimit-Limit": "3500", "RateLimit-Reset": "41"}, nil},
		{"garbage", map[string]string{"RateLimit-Remaining": "lots", "RateLimit-Reset": "soon"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := &http.Response{StatusCode: http.StatusAccepted, Header: http.Header{}}
			for k, val := range tt.header {
				resp.Header.Set(k, val)
			}
			got := v.Classify(resp, nil, nil).Limit
			if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
				t.Fatalf("Limit = %+v, want %+v", got, tt.want)
			}
		})
	}
	// A 429 without Retry-After waits the one-second burst window.
	o := v.Classify(&http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{}}, nil, nil)
	if o.Kind != integration.RateLimited || o.RetryAfter != time.Second {
		t.Fatalf("429 without Retry-After: %v wait %v, want rate_limited, 1s", o.Kind, o.RetryAfter)
	}
}

func TestIdentifiersAndConfig(t *testing.T) {
	t.Parallel()
	v := klaviyo.New(klaviyo.Options{})
	if !v.Identified(integration.Contact{ExternalID: "user-1"}) {
		t.Fatal("an external id alone does not identify a Klaviyo profile")
	}
	p, err := v.Payload(&integration.Event{IntegrationID: "i", PipelineID: "p", MessageID: "m", VendorEventName: "Signed Up",
		Call: integration.CallTrack, Contact: integration.Contact{ExternalID: "user-1"}, Properties: map[string]any{"value": "not a number"}})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Data struct {
			Attributes map[string]json.RawMessage `json:"attributes"`
		} `json:"data"`
	}
	json.Unmarshal(p, &doc)
	if _, ok := doc.Data.Attributes["value"]; ok {
		t.Fatalf("a non-number value was sent as the metric's value: %s", p)
	}
	for _, tc := range []struct {
		cfg   map[string]any
		field string
	}{
		{map[string]any{}, "config.api_key"},
		{map[string]any{"api_key": "pk x"}, "config.api_key"},
		{map[string]any{"api_key": "pk_x", "dry_run": "yes"}, "config.dry_run"},
		{map[string]any{"api_key": "pk_x", "default_phone_region": "XX"}, "config.default_phone_region"},
		{map[string]any{"api_key": "pk_x", "list_id": "L1"}, "config.list_id"},
	} {
		err := v.ValidateConfig(tc.cfg)
		var se *signal.Error
		if !asSignal(err, &se) || se.Field != tc.field {
			t.Errorf("ValidateConfig(%v) = %v, want an error naming %s", tc.cfg, err, tc.field)
		}
	}
	if err := v.ValidateTarget("$value"); err == nil {
		t.Error(`ValidateTarget("$value") = nil, want Klaviyo's special properties refused`)
	}
	if err := v.ValidateTarget("Order Total (EUR)"); err != nil {
		t.Errorf("ValidateTarget with spaces = %v, want accepted (Klaviyo takes any name)", err)
	}
}

func asSignal(err error, out **signal.Error) bool {
	se, ok := err.(*signal.Error)
	*out = se
	return ok
}
