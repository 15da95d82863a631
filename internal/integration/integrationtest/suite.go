package integrationtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

var update = flag.Bool("update-golden", false, "rewrite the vendors' golden payloads (testdata/golden)")

// Harness is what a vendor package gives the conformance suite.
type Harness struct {
	// Vendor is the vendor under test, pointed at an unreachable base URL
	// (nothing here sends).
	Vendor integration.Vendor
	// Config returns a valid config holding key.
	Config func(key string) map[string]any
	// Golden is the folder of golden payloads (testdata/golden); run the
	// package's tests with -update-golden to rewrite them after a deliberate
	// change.
	Golden string
}

// secretKey is the key the suite hunts for in errors and outcomes.
const secretKey = "sk_conformance_0123456789abcdef"

// Messages are the standard messages every vendor's default blueprint is
// applied to; their payloads are the golden files.
var Messages = map[string]string{
	"order_completed": `{"type":"track","event":"Order Completed","messageId":"msg-1","userId":"user-42",
		"timestamp":"2024-05-01T10:00:00.123Z","context":{"consent":{"canonical":{"marketing":true}}},
		"properties":{"order_id":"ORD-1001","revenue":129.9,"total":134.9,"currency":"EUR","coupon":"SPRING",
		"products":[{"product_id":"SKU-1","name":"Linen shirt","price":64.95,"quantity":2}]}}`,
	"page": `{"type":"page","messageId":"msg-2","userId":"user-42","timestamp":"2024-05-01T10:00:00Z",
		"properties":{"url":"https://shop.example.com/p?a=1&b=2","title":"Shirts"}}`,
	"identify": `{"type":"identify","messageId":"msg-3","userId":"user-42","timestamp":"2024-05-01T10:00:00Z",
		"traits":{"email":"jane@example.com","first_name":"Jane","plan":"gold","visits":3}}`,
}

// contactOf is the contact the pipeline would hand over for the messages.
var testContact = integration.Contact{Email: "jane@example.com", Phone: "+447700900123", ExternalID: "user-42", FirstName: "Jane", LastName: "Doe"}

// Run runs the conformance suite against h.
func Run(t *testing.T, h Harness) {
	t.Helper()
	v := h.Vendor
	in := &signal.Integration{ID: "int_conf", CatalogKey: v.Entry().Key, Config: h.Config(secretKey), Enabled: true}

	t.Run("Declarations", func(t *testing.T) {
		t.Parallel()
		if err := v.ValidateConfig(h.Config(secretKey)); err != nil {
			t.Fatalf("ValidateConfig(valid) = %v", err)
		}
		if len(v.Calls()) == 0 || !integration.Takes(v, integration.CallTrack) {
			t.Fatalf("Calls() = %v, want track at least", v.Calls())
		}
		if v.Timeout() <= 0 || v.Timeout() > time.Minute {
			t.Fatalf("Timeout() = %v, want within (0, 1m]", v.Timeout())
		}
		if len(v.Entry().SetupSteps) == 0 {
			t.Fatalf("the catalog entry has no setup steps")
		}
		if v.Entry().RateLimitPerMinute <= 0 {
			t.Fatalf("RateLimitPerMinute = %d, want > 0", v.Entry().RateLimitPerMinute)
		}
		if got := v.RateLimitKey(in); got != secretKey {
			t.Fatalf("RateLimitKey = %q, want the account's key", got)
		}
		if v.Identified(integration.Contact{FirstName: "Jane"}) {
			t.Fatalf("Identified(name only) = true, want false")
		}
		if !v.Identified(integration.Contact{Email: "jane@example.com"}) {
			t.Fatalf("Identified(email) = false, want true")
		}
		vr, ok := v.Entry().Variant("default")
		if !ok {
			t.Fatalf("no default variant")
		}
		if err := blueprint.Validate(vr.Blueprint, v.ValidateTarget); err != nil {
			t.Fatalf("default blueprint fails the vendor's own rules: %v", err)
		}
		if _, err := v.Payload(v.TestEvent(in, integration.Contact{Email: "jane@example.com"}, time.Now())); err != nil {
			t.Fatalf("Payload(TestEvent) = %v", err)
		}
	})

	t.Run("GoldenPayloads", func(t *testing.T) {
		t.Parallel()
		for name := range Messages {
			ev, ok := mapped(t, v, name)
			if !ok {
				continue
			}
			got, err := v.Payload(ev)
			if err != nil {
				t.Fatalf("%s: Payload = %v", name, err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, got, "", "  "); err != nil {
				t.Fatalf("%s: payload is not JSON: %v", name, err)
			}
			pretty.WriteByte('\n')
			path := filepath.Join(h.Golden, name+".json")
			if *update {
				if err := os.MkdirAll(h.Golden, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%s: %v (run with -update-golden to create it)", name, err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Fatalf("%s: payload differs from %s:\n%s\nwant:\n%s", name, path, pretty.Bytes(), want)
			}
		}
	})

	t.Run("StableEventID", func(t *testing.T) {
		t.Parallel()
		ev, _ := mapped(t, v, "order_completed")
		a, err1 := v.Payload(ev)
		b, err2 := v.Payload(ev)
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Fatalf("two builds of one message differ (%v, %v):\n%s\n%s", err1, err2, a, b)
		}
		other := *ev
		other.MessageID = "msg-other"
		c, _ := v.Payload(&other)
		if bytes.Equal(a, c) {
			t.Fatalf("two messages give one payload: the vendor would drop the second as a duplicate")
		}
		other = *ev
		other.IntegrationID = "int_other"
		if d, _ := v.Payload(&other); bytes.Equal(a, d) {
			t.Fatalf("two integrations give one payload: their ids must differ")
		}
		req, err := v.Request(context.Background(), in, a)
		if err != nil {
			t.Fatalf("Request = %v", err)
		}
		sent, _ := io.ReadAll(req.Body)
		if !bytes.Equal(sent, a) {
			t.Fatalf("Request sends %s, want the stored payload byte for byte", sent)
		}
	})

	t.Run("Classification", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			status int
			header map[string]string
			want   integration.OutcomeKind
			reason signal.Reason
			wait   time.Duration
		}{
			{200, nil, integration.Delivered, "", 0},
			{202, nil, integration.Delivered, "", 0},
			{400, nil, integration.Drop, signal.ReasonVendorRejected, 0},
			{401, nil, integration.Pause, signal.ReasonAuthFailed, 0},
			{403, nil, integration.Pause, signal.ReasonAuthFailed, 0},
			{429, map[string]string{"Retry-After": "7"}, integration.RateLimited, signal.ReasonRateLimited, 7 * time.Second},
			{500, nil, integration.Retry, signal.ReasonRetrying, 0},
			{502, nil, integration.Retry, signal.ReasonRetrying, 0},
			{503, nil, integration.Retry, signal.ReasonRetrying, 0},
		} {
			resp := &http.Response{StatusCode: tc.status, Header: http.Header{}}
			for k, val := range tc.header {
				resp.Header.Set(k, val)
			}
			o := v.Classify(resp, []byte(`{"errors":[{"detail":"vendor says"}]}`), nil)
			if o.Kind != tc.want || o.Reason != tc.reason || o.RetryAfter != tc.wait || o.Status != tc.status {
				t.Errorf("%d %v: outcome %v/%q wait %v status %d; want %v/%q wait %v", tc.status, tc.header, o.Kind, o.Reason, o.RetryAfter, o.Status, tc.want, tc.reason, tc.wait)
			}
			if tc.status == 400 && !strings.Contains(o.Body, "vendor says") {
				t.Errorf("400: body %q, want the vendor's answer kept", o.Body)
			}
		}
		if o := v.Classify(nil, nil, context.DeadlineExceeded); o.Kind != integration.Retry {
			t.Errorf("timeout: %v, want retry", o.Kind)
		}
		if o := v.Classify(nil, nil, errors.New("connection reset by peer")); o.Kind != integration.Retry {
			t.Errorf("reset: %v, want retry", o.Kind)
		}
	})

	t.Run("KeyNeverShown", func(t *testing.T) {
		t.Parallel()
		// A key with a space is unusable: the request is refused, the
		// integration paused, and no text anywhere quotes the key.
		bad := &signal.Integration{ID: "int_bad", CatalogKey: in.CatalogKey, Config: h.Config(secretKey + " x")}
		_, err := v.Request(context.Background(), bad, json.RawMessage(`{}`))
		if err == nil {
			t.Fatalf("Request with a key holding a space = nil error, want a refusal")
		}
		o := v.Classify(nil, nil, &integration.RequestError{Err: err})
		if o.Kind != integration.Pause || o.Reason != signal.ReasonAuthFailed {
			t.Errorf("unusable key: outcome %v/%q, want pause/auth_failed", o.Kind, o.Reason)
		}
		verr := v.ValidateConfig(h.Config(secretKey + " x"))
		for what, s := range map[string]string{"Request error": err.Error(), "outcome": o.Body, "ValidateConfig error": errString(verr)} {
			if strings.Contains(s, "sk_conformance") {
				t.Errorf("%s quotes the key: %q", what, s)
			}
		}
		ev, _ := mapped(t, v, "order_completed")
		p, _ := v.Payload(ev)
		if bytes.Contains(p, []byte("sk_conformance")) {
			t.Errorf("payload holds the key: %s", p)
		}
		req, err := v.Request(context.Background(), in, p)
		if err != nil {
			t.Fatalf("Request = %v", err)
		}
		if strings.Contains(req.URL.String(), "sk_conformance") {
			t.Errorf("URL holds the key: %s", req.URL)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// mapped builds the event the pipeline would hand v for a standard
// message, through v's default blueprint; false when v does not take it.
func mapped(t *testing.T, v integration.Vendor, name string) (*integration.Event, bool) {
	t.Helper()
	src, err := blueprint.Decode([]byte(Messages[name]))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var key string
	var call integration.CallType
	switch src.Type() {
	case signal.TypePage:
		key, call = blueprint.PageKey, integration.CallPage
	case signal.TypeIdentify:
		key, call = blueprint.IdentifyKey, integration.CallIdentify
	default:
		e, _ := blueprint.Lookup(src, "event")
		key, call = e.(string), integration.CallTrack
	}
	if !integration.Takes(v, call) {
		return nil, false
	}
	vr, _ := v.Entry().Variant("default")
	res := blueprint.Apply(vr.Blueprint, key, src)
	if !res.Enabled {
		return nil, false
	}
	ev := &integration.Event{IntegrationID: "int_conf", PipelineID: "pip_conf", MessageID: name, VendorEventName: res.VendorEventName,
		Call: call, Timestamp: time.Date(2024, 5, 1, 10, 0, 0, 123e6, time.UTC), Contact: testContact,
		Consent: integration.ConsentGranted, Properties: res.Properties, Order: res.Order}
	if call == integration.CallIdentify {
		ev.Properties, ev.Order = map[string]any{"plan": "gold", "visits": json.Number("3")}, []string{"plan", "visits"}
	}
	return ev, true
}
