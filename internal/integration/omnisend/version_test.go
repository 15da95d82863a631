package omnisend

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

// fakeVersions is an Omnisend that serves both API versions and checks each
// request's path and headers as its API version wants them: 202 when they
// match, 400 naming what is wrong otherwise. retireV5 answers every v5
// request 410 Gone, as Omnisend does for a retired version.
type fakeVersions struct {
	*httptest.Server
	retireV5 bool
	bodies   chan string
}

func newFakeVersions(t *testing.T, retireV5 bool) *fakeVersions {
	t.Helper()
	f := &fakeVersions{retireV5: retireV5, bodies: make(chan string, 16)}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if bad := f.check(r); bad != "" {
			http.Error(w, bad, http.StatusBadRequest)
			return
		}
		if r.URL.Path == "/v5/events" && f.retireV5 {
			http.Error(w, `{"error":"this API version is retired"}`, http.StatusGone)
			return
		}
		f.bodies <- string(b)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeVersions) check(r *http.Request) string {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		return "want a JSON POST"
	}
	switch r.URL.Path {
	case "/v5/events":
		if r.Header.Get("X-API-KEY") != testAPIKey {
			return "v5 wants X-API-KEY"
		}
		if r.Header.Get("Authorization") != "" || r.Header.Get("Omnisend-Version") != "" {
			return "v5 wants no dated headers"
		}
	case "/api/events":
		if r.Header.Get("Authorization") != "Omnisend-API-Key "+testAPIKey {
			return "dated API wants Authorization: Omnisend-API-Key"
		}
		if r.Header.Get("Omnisend-Version") != "2026-03-15" {
			return "dated API wants Omnisend-Version"
		}
		if r.Header.Get("X-API-KEY") != "" {
			return "dated API wants no X-API-KEY"
		}
	default:
		return "unknown path " + r.URL.Path
	}
	return ""
}

func TestAPIVersions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		version    any // the api_version setting; nil: absent
		retireV5   bool
		wantKind   integration.OutcomeKind
		wantReason signal.Reason
	}{
		{name: "default is v5", wantKind: integration.Delivered},
		{name: "v5", version: "v5", wantKind: integration.Delivered},
		{name: "dated", version: "2026-03-15", wantKind: integration.Delivered},
		{name: "v5 retired", version: "v5", retireV5: true, wantKind: integration.Pause, wantReason: signal.ReasonAPIVersionRetired},
		{name: "dated while v5 is retired", version: "2026-03-15", retireV5: true, wantKind: integration.Delivered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeVersions(t, tt.retireV5)
			v := New(Options{BaseURL: f.URL})
			cfg := map[string]any{"api_key": testAPIKey}
			if tt.version != nil {
				cfg["api_version"] = tt.version
			}
			if err := v.ValidateConfig(cfg); err != nil {
				t.Fatalf("ValidateConfig: %v", err)
			}
			payload, err := v.Payload(pageEvent())
			if err != nil {
				t.Fatal(err)
			}
			req, err := v.Request(context.Background(), &signal.Integration{ID: testIntegrationID, Config: cfg}, payload)
			if err != nil {
				t.Fatalf("Request: %v", err)
			}
			resp, err := f.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			out := v.Classify(resp, body, nil)
			if out.Kind != tt.wantKind || out.Reason != tt.wantReason {
				t.Fatalf("outcome = %v %q (status %d, %s), want %v %q", out.Kind, out.Reason, out.Status, body, tt.wantKind, tt.wantReason)
			}
			if out.Kind == integration.Delivered {
				if got := <-f.bodies; got != string(payload) {
					t.Fatalf("body = %s, want the same body under every version: %s", got, payload)
				}
			}
		})
	}
}

// TestRetiredVersionSaysToSwitch: the text shown beside a paused
// integration tells the admin, in words, what to change.
func TestRetiredVersionSaysToSwitch(t *testing.T) {
	t.Parallel()
	text := signal.ReasonText(signal.ReasonAPIVersionRetired)
	for _, want := range []string{"api_version", "dated version", "2026-03-15"} {
		if !strings.Contains(text, want) {
			t.Errorf("reason text %q does not say %q", text, want)
		}
	}
}

// TestRequestWithBadVersionPauses: a stored api_version that is not valid
// (written before it was checked) holds the integration, never drops the
// events.
func TestRequestWithBadVersionPauses(t *testing.T) {
	t.Parallel()
	v := New(Options{})
	_, err := v.Request(context.Background(), &signal.Integration{Config: map[string]any{"api_key": testAPIKey, "api_version": "v4"}}, []byte(`{}`))
	if signal.ErrorField(err) != "config.api_version" {
		t.Fatalf("Request error = %v, want one naming config.api_version", err)
	}
	out := v.Classify(nil, nil, &integration.RequestError{Err: err})
	if out.Kind != integration.Pause || out.Reason != signal.ReasonAPIVersionRetired {
		t.Fatalf("Classify = %v %q, want a pause (api_version_retired)", out.Kind, out.Reason)
	}
}
