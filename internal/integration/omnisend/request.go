package omnisend

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/signalhq/signal/internal/signal"
)

// Request builds the POST of payload to {base}/v5/events with the
// integration's current API key. The error never carries the key.
func (v *Vendor) Request(ctx context.Context, in *signal.Integration, payload json.RawMessage) (*http.Request, error) {
	if in == nil {
		return nil, signal.Errorf(signal.EINVALID, "omnisend: request: no integration")
	}
	key := in.ConfigString(ConfigAPIKey)
	if key == "" {
		return nil, signal.FieldErrorf(signal.EINVALID, "config."+ConfigAPIKey, "omnisend: request: the integration has no API key")
	}
	if !validAPIKey(key) {
		return nil, signal.FieldErrorf(signal.EINVALID, "config."+ConfigAPIKey, "omnisend: request: the API key contains spaces or invisible characters")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.eventsURL, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("omnisend: request: %w", err)
	}
	req.Header.Set("X-API-KEY", key)
	req.Header.Set("Content-Type", "application/json")
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
