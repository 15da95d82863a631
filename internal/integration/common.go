package integration

import (
	"time"

	"context"
	"errors"
	"net/http"

	"github.com/signalhq/signal/internal/contact"
	"github.com/signalhq/signal/internal/signal"
)

// ConfigDefaultPhoneRegion is the setting, common to every vendor that
// takes phone numbers, naming the region national numbers are read in when
// the event's locale names none.
const ConfigDefaultPhoneRegion = "default_phone_region"

// CheckCommonConfig checks a config key every vendor accepts
// (default_phone_region, dry_run, coerce_property_types). It reports false for a key that is not
// one of them, so the vendor checks it.
func CheckCommonConfig(k string, val any) (bool, error) {
	switch k {
	case ConfigDefaultPhoneRegion:
		if val == nil {
			return true, nil
		}
		s, ok := val.(string)
		if !ok {
			return true, signal.FieldErrorf(signal.EINVALID, "config."+k, "must be a string such as \"GB\"")
		}
		if s != "" && !contact.KnownRegion(s) {
			return true, signal.FieldErrorf(signal.EINVALID, "config."+k, "must be a two-letter region code with a phone numbering plan, such as \"GB\" or \"US\"")
		}
		return true, nil
	case signal.ConfigDryRun, signal.ConfigCoercePropertyTypes:
		if val == nil {
			return true, nil
		}
		if _, ok := val.(bool); !ok {
			return true, signal.FieldErrorf(signal.EINVALID, "config."+k, "must be true or false")
		}
		return true, nil
	}
	return false, nil
}

// RequestError wraps an error from Vendor.Request when delivery hands it to
// Vendor.Classify: the request could not be built, so nothing was sent.
type RequestError struct{ Err error }

func (e *RequestError) Error() string { return "request could not be built: " + e.Err.Error() }
func (e *RequestError) Unwrap() error { return e.Err }

// IsRequestError reports whether err came from Vendor.Request.
func IsRequestError(err error) bool {
	var re *RequestError
	return errors.As(err, &re)
}

// ConfigFieldError reports whether err names the integration's config
// field (e.g. "config.api_key"): a request refused for a bad key.
func ConfigFieldError(err error, field string) bool {
	var se *signal.Error
	return errors.As(err, &se) && se.Field == field
}

// KeyChecker is implemented by vendors that can ask, once at install,
// whether a key is accepted (the contract's key check). CheckKey returns
// nil when the vendor accepted the key, a *signal.Error naming
// "config.api_key" when it refused it (the install is refused), and any
// other error when the answer proves nothing (the install goes on, with a
// warning: a key may lack the scope the check reads). Errors never quote
// the key.
type KeyChecker interface {
	CheckKey(ctx context.Context, client *http.Client, cfg map[string]any) error
}

// NewTestEvent is the test event a vendor sends for POST …/test: a track
// call named name for the person c, with one property (source "signal").
// It belongs to no pipeline: the marker "test" keeps its eventID apart from
// any real pipeline's (their ids are pip_…).
func NewTestEvent(in *signal.Integration, c Contact, name string, now time.Time) *Event {
	return &Event{
		IntegrationID:   in.ID,
		PipelineID:      "test",
		MessageID:       "test-" + now.UTC().Format("20060102T150405.000000000"),
		VendorEventName: name,
		Call:            CallTrack,
		Timestamp:       now.UTC(),
		Contact:         c,
		Properties:      map[string]any{"source": "signal"},
		Order:           []string{"source"},
	}
}
