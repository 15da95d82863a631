package omnisend

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signalhq/signal/internal/signal"
)

func TestRequestAgainstServer(t *testing.T) {
	t.Parallel()
	type seen struct {
		method, path string
		header       http.Header
		body         []byte
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.Path, r.Header.Clone(), b}
		w.Header().Set("X-Rate-Limit-Limit", "400")
		w.Header().Set("X-Rate-Limit-Remaining", "399")
		w.Header().Set("X-Rate-Limit-Reset", "42")
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)

	tests := []struct {
		name, base, version string
		wantVersion         string
	}{
		{name: "base without slash", base: srv.URL, version: "1.2.3", wantVersion: "1.2.3"},
		{name: "base with slash, no version", base: srv.URL + "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := New(Options{BaseURL: tt.base, Version: tt.version})
			payload, err := v.Payload(pageEvent())
			if err != nil {
				t.Fatal(err)
			}
			in := &signal.Integration{ID: testIntegrationID, Config: map[string]any{"api_key": testAPIKey}}
			req, err := v.Request(context.Background(), in, payload)
			if err != nil {
				t.Fatalf("Request() error = %v", err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			s := <-got
			if s.method != http.MethodPost || s.path != "/v5/events" {
				t.Errorf("request = %s %s, want POST /v5/events", s.method, s.path)
			}
			for h, want := range map[string]string{
				"X-API-KEY":             testAPIKey,
				"Content-Type":          "application/json",
				"Accept":                "application/json",
				"X-INTEGRATION-NAME":    "Datafly Signal",
				"X-INTEGRATION-VERSION": tt.wantVersion,
			} {
				if g := s.header.Get(h); g != want {
					t.Errorf("header %s = %q, want %q", h, g, want)
				}
			}
			if string(s.body) != string(payload) {
				t.Errorf("body = %s, want the payload as built", s.body)
			}
			out := v.Classify(resp, body, nil)
			if out.Kind.String() != "delivered" || out.Status != http.StatusAccepted {
				t.Errorf("Classify() = %+v", out)
			}
			if out.Limit == nil || out.Limit.Limit != 400 || out.Limit.Remaining != 399 || out.Limit.Reset.Seconds() != 42 {
				t.Errorf("Limit = %+v", out.Limit)
			}
		})
	}
}

func TestRequestDefaultURLAndBody(t *testing.T) {
	t.Parallel()
	payload := json.RawMessage(`{"eventName":"x"}`)
	req, err := New(Options{}).Request(context.Background(), &signal.Integration{Config: map[string]any{"api_key": testAPIKey}}, payload)
	if err != nil {
		t.Fatal(err)
	}
	if req.URL.String() != "https://api.omnisend.com/v5/events" {
		t.Errorf("URL = %s", req.URL)
	}
	if req.ContentLength != int64(len(payload)) || req.GetBody == nil {
		t.Errorf("ContentLength = %d, GetBody set = %v; want a replayable body", req.ContentLength, req.GetBody != nil)
	}
}

func TestRequestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		base      string
		in        *signal.Integration
		wantField string
	}{
		{name: "no integration", in: nil},
		{name: "no config", in: &signal.Integration{}, wantField: "config.api_key"},
		{name: "empty key", in: &signal.Integration{Config: map[string]any{"api_key": ""}}, wantField: "config.api_key"},
		{name: "key not a string", in: &signal.Integration{Config: map[string]any{"api_key": 42}}, wantField: "config.api_key"},
		{name: "key with newline", in: &signal.Integration{Config: map[string]any{"api_key": testAPIKey + "\r\nX-Evil: 1"}}, wantField: "config.api_key"},
		{name: "bad base URL", base: "http://[::1", in: &signal.Integration{Config: map[string]any{"api_key": testAPIKey}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(Options{BaseURL: tt.base}).Request(context.Background(), tt.in, json.RawMessage(`{}`))
			if err == nil {
				t.Fatal("Request() error = nil")
			}
			if f := signal.ErrorField(err); f != tt.wantField {
				t.Errorf("field = %q, want %q", f, tt.wantField)
			}
			if strings.Contains(err.Error(), testAPIKey) {
				t.Errorf("error %q carries the API key", err)
			}
		})
	}
}
