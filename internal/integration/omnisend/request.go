package omnisend

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// Request builds the POST of payload with the integration's current API
// key and API version: v5 (default) to {base}/v5/events with X-API-KEY, a
// dated version to {base}/api/events with Authorization and
// Omnisend-Version. The body is the same. The error never carries the key.
func (v *Vendor) Request(ctx context.Context, in *signal.Integration, payload json.RawMessage) (*http.Request, error) {
	if in == nil {
		return nil, signal.Errorf(signal.EINVALID, "omnisend: request: no integration")
	}
	req, err := v.newRequest(ctx, http.MethodPost, EventsPath, DatedEventsPath, in.Config, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("omnisend: request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// newRequest builds a request to Omnisend at v5Path or datedPath, as the
// config's api_version says, with the key and version headers of that API
// and Signal's integration headers. Its errors name the config field at
// fault (so Classify can pause on them) and never carry the key.
func (v *Vendor) newRequest(ctx context.Context, method, v5Path, datedPath string, cfg map[string]any, body io.Reader) (*http.Request, error) {
	key, _ := cfg[ConfigAPIKey].(string)
	if key == "" {
		return nil, signal.FieldErrorf(signal.EINVALID, "config."+ConfigAPIKey, "the integration has no API key")
	}
	if !validAPIKey(key) {
		return nil, signal.FieldErrorf(signal.EINVALID, "config."+ConfigAPIKey, "the API key contains spaces or invisible characters")
	}
	version, err := apiVersion(cfg[ConfigAPIVersion])
	if err != nil {
		return nil, err
	}
	path := v5Path
	if version != APIVersionV5 {
		path = datedPath
	}
	req, err := http.NewRequestWithContext(ctx, method, v.base+path, body)
	if err != nil {
		return nil, err
	}
	if version == APIVersionV5 {
		req.Header.Set("X-API-KEY", key)
	} else {
		req.Header.Set("Authorization", "Omnisend-API-Key "+key)
		req.Header.Set("Omnisend-Version", version)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-INTEGRATION-NAME", IntegrationName)
	ua := "DataflySignal"
	if v.version != "" {
		req.Header.Set("X-INTEGRATION-VERSION", v.version)
		ua += "/" + v.version
	}
	req.Header.Set("User-Agent", ua)
	return req, nil
}

// apiVersion reads the api_version setting: absent, null or "" is v5;
// otherwise "v5" or a dated version YYYY-MM-DD (a real calendar date).
func apiVersion(val any) (string, error) {
	const field = "config." + ConfigAPIVersion
	if val == nil {
		return APIVersionV5, nil
	}
	s, ok := val.(string)
	if !ok {
		return "", signal.FieldErrorf(signal.EINVALID, field, "must be a string: \"v5\" or a dated version such as \"2026-03-15\"")
	}
	switch {
	case s == "" || s == APIVersionV5:
		return APIVersionV5, nil
	case len(s) == len("2006-01-02"):
		if _, err := time.Parse("2006-01-02", s); err == nil {
			return s, nil
		}
	}
	return "", signal.FieldErrorf(signal.EINVALID, field, "must be \"v5\" or a dated Omnisend API version written YYYY-MM-DD, such as \"2026-03-15\"")
}
