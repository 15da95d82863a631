// Package integrationtest holds what tests share about vendors: a neutral
// test vendor (for the delivery engine's own tests, so they pin delivery,
// not a vendor's quirks) and the conformance suite every vendor package
// runs (Run).
package integrationtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

// Key is the test vendor's catalog key.
const Key = "testvendor"

// Wire facts of the test vendor: POST {base}/events with the key in
// X-Test-Key and a JSON body {"name","event_id","email","properties"};
// X-Rate-Limit-Limit/-Remaining/-Reset describe a window (a minute unless
// Window is set).
const (
	EventsPath = "/events"
	KeyHeader  = "X-Test-Key"
)

// Vendor is a neutral integration.Vendor. Its answers are classified the
// way the contract asks of every vendor: 2xx delivered; 401/403 pause
// (auth_failed), 410 pause (api_version_retired);
// 429 waits X-Rate-Limit-Reset, else Retry-After, else a minute (at least
// MinWait); 408/5xx/3xx/no answer retry; other 4xx drop.
type Vendor struct {
	base string
	// CatalogKey is the key it registers under (Key if empty): two test
	// vendors stand for two different vendors.
	CatalogKey string
	// Window is the length of the rate-limit window the headers describe
	// (a minute if zero); tests scale it down.
	Window time.Duration
	// MinWait is the least wait after a 429 (a second if zero).
	MinWait time.Duration
	// PerMinute is the default request budget (400 if zero).
	PerMinute int
}

var _ integration.Vendor = (*Vendor)(nil)

// New returns a test vendor sending to base.
func New(base string) *Vendor { return &Vendor{base: strings.TrimRight(base, "/")} }

var eventIDNamespace = uuid.MustParse("0b7f6c1e-4a0e-4c59-8d7b-2f6f9a3c5e10")

// EventID is the test vendor's event_id for a message sent through an
// integration: stable across retries.
func EventID(integrationID, pipelineID, messageID string) string {
	return uuid.NewSHA1(eventIDNamespace, []byte(integrationID+"/"+pipelineID+"/"+messageID)).String()
}

func (v *Vendor) Entry() integration.CatalogEntry {
	per := v.PerMinute
	if per == 0 {
		per = 400
	}
	key := Key
	if v.CatalogKey != "" {
		key = v.CatalogKey
	}
	return integration.CatalogEntry{Key: key, Name: "Test vendor", Category: "test", Status: "alpha",
		ConfigFields:       []integration.ConfigField{{Key: "api_key", Label: "Key", Type: "secret", Required: true}},
		Variants:           []integration.Variant{{Key: "default", Name: "Default", Blueprint: blueprint.Default()}},
		DeliveryModes:      []string{"server_side"},
		RateLimitPerMinute: per,
	}
}

func (v *Vendor) ValidateConfig(cfg map[string]any) error {
	if s, _ := cfg["api_key"].(string); s == "" {
		return signal.FieldErrorf(signal.EINVALID, "config.api_key", "is required")
	}
	return nil
}

func (v *Vendor) Calls() []integration.CallType {
	return []integration.CallType{integration.CallTrack, integration.CallPage}
}

func (v *Vendor) Identified(c integration.Contact) bool { return c.Email != "" }

func (v *Vendor) ValidateTarget(string) error { return nil }

func (v *Vendor) RateLimitKey(in *signal.Integration) string { return in.ConfigString("api_key") }

func (v *Vendor) Timeout() time.Duration { return 10 * time.Second }

func (v *Vendor) TestEvent(in *signal.Integration, c integration.Contact, now time.Time) *integration.Event {
	return &integration.Event{IntegrationID: in.ID, PipelineID: "test", MessageID: "test", VendorEventName: "test",
		Call: integration.CallTrack, Timestamp: now, Contact: c, Properties: map[string]any{}}
}

// Body is the test vendor's request body.
type Body struct {
	Name       string         `json:"name"`
	EventID    string         `json:"event_id"`
	Email      string         `json:"email"`
	Properties map[string]any `json:"properties"`
}

func (v *Vendor) Payload(ev *integration.Event) (json.RawMessage, error) {
	if ev.VendorEventName == "" || ev.Contact.Email == "" {
		return nil, signal.Errorf(signal.EINVALID, "testvendor: payload: a name and an email are needed")
	}
	b, err := json.Marshal(Body{Name: ev.VendorEventName, EventID: EventID(ev.IntegrationID, ev.PipelineID, ev.MessageID),
		Email: ev.Contact.Email, Properties: ev.Properties})
	if err != nil {
		return nil, fmt.Errorf("testvendor: payload: %w", err)
	}
	return b, nil
}

func (v *Vendor) Request(ctx context.Context, in *signal.Integration, payload json.RawMessage) (*http.Request, error) {
	key := in.ConfigString("api_key")
	if key == "" || strings.ContainsAny(key, " \t\r\n") {
		return nil, signal.FieldErrorf(signal.EINVALID, "config.api_key", "testvendor: request: no usable key")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.base+EventsPath, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("testvendor: request: %w", err)
	}
	req.Header.Set(KeyHeader, key)
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

func (v *Vendor) Classify(resp *http.Response, body []byte, err error) integration.Outcome {
	if resp == nil {
		if integration.IsRequestError(err) {
			if integration.ConfigFieldError(err, "config.api_key") {
				return integration.Outcome{Kind: integration.Pause, Reason: signal.ReasonAuthFailed, Body: err.Error()}
			}
			return integration.Outcome{Kind: integration.Drop, Reason: signal.ReasonPayloadError, Body: err.Error()}
		}
		return integration.Outcome{Kind: integration.Retry, Reason: signal.ReasonRetrying}
	}
	window := v.Window
	if window == 0 {
		window = time.Minute
	}
	out := integration.Outcome{Status: resp.StatusCode, Body: string(body)}
	if rem, err := strconv.Atoi(resp.Header.Get("X-Rate-Limit-Remaining")); err == nil && rem >= 0 {
		out.Limit = &integration.RateLimit{Remaining: rem, Window: window}
		out.Limit.Limit, _ = strconv.Atoi(resp.Header.Get("X-Rate-Limit-Limit"))
		out.Limit.Reset, _ = seconds(resp.Header.Get("X-Rate-Limit-Reset"))
	}
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		out.Kind = integration.Delivered
	case code == 401 || code == 403:
		out.Kind, out.Reason = integration.Pause, signal.ReasonAuthFailed
	case code == 410:
		out.Kind, out.Reason = integration.Pause, signal.ReasonAPIVersionRetired
	case code == 429:
		out.Kind, out.Reason = integration.RateLimited, signal.ReasonRateLimited
		wait := time.Minute
		if d, ok := seconds(resp.Header.Get("X-Rate-Limit-Reset")); ok {
			wait = d
		} else if d, ok := seconds(resp.Header.Get("Retry-After")); ok {
			wait = d
		}
		minWait := v.MinWait
		if minWait == 0 {
			minWait = time.Second
		}
		out.RetryAfter = min(max(wait, minWait), time.Hour)
	case code == 408 || code >= 500 || code < 200 || (code >= 300 && code < 400):
		out.Kind, out.Reason = integration.Retry, signal.ReasonRetrying
		if d, ok := seconds(resp.Header.Get("Retry-After")); ok {
			out.RetryAfter = d
		}
	default:
		out.Kind, out.Reason = integration.Drop, signal.ReasonVendorRejected
	}
	return out
}

func seconds(s string) (time.Duration, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || f > 86400 {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}
