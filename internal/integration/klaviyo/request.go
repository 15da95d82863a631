package klaviyo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

// maxAPIKeyLen bounds the key; Klaviyo's private keys are far shorter.
const maxAPIKeyLen = 512

// ValidateConfig checks an integration's config: api_key (required),
// default_phone_region and dry_run (optional). Errors name the field and
// never quote the key.
func (v *Vendor) ValidateConfig(cfg map[string]any) error {
	if err := checkAPIKey(cfg[ConfigAPIKey]); err != nil {
		return err
	}
	for k, val := range cfg {
		if k == ConfigAPIKey {
			continue
		}
		common, err := integration.CheckCommonConfig(k, val)
		if err != nil {
			return err
		}
		if !common {
			return signal.FieldErrorf(signal.EINVALID, "config."+k, "is not a Klaviyo setting (expected api_key, default_phone_region or dry_run)")
		}
	}
	return nil
}

func checkAPIKey(val any) error {
	key, ok := val.(string)
	if !ok || key == "" {
		return signal.FieldErrorf(signal.EINVALID, "config."+ConfigAPIKey, "is required: a Klaviyo private API key")
	}
	if !validAPIKey(key) {
		return signal.FieldErrorf(signal.EINVALID, "config."+ConfigAPIKey, "must be the key exactly as Klaviyo shows it, without spaces or invisible characters, at most %d characters", maxAPIKeyLen)
	}
	return nil
}

func validAPIKey(key string) bool {
	return len(key) <= maxAPIKeyLen && strings.IndexFunc(key, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r > unicode.MaxASCII
	}) < 0
}

// Request builds the POST of payload: a profile document goes to
// /api/profile-import, anything else to /api/events, with the
// integration's current key and the fixed revision. The error never
// carries the key.
func (v *Vendor) Request(ctx context.Context, in *signal.Integration, payload json.RawMessage) (*http.Request, error) {
	if in == nil {
		return nil, signal.Errorf(signal.EINVALID, "klaviyo: request: no integration")
	}
	key := in.ConfigString(ConfigAPIKey)
	if err := checkAPIKey(key); err != nil {
		return nil, err
	}
	var head struct {
		Data struct {
			Type string `json:"type"`
		} `json:"data"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return nil, signal.Errorf(signal.EINVALID, "klaviyo: request: the payload is not a JSON:API document")
	}
	url := v.base + EventsPath
	if head.Data.Type == "profile" {
		url = v.base + ProfileImportPath
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("klaviyo: request: %w", err)
	}
	req.Header.Set("Authorization", "Klaviyo-API-Key "+key)
	req.Header.Set("revision", Revision)
	req.Header.Set("Content-Type", "application/vnd.api+json")
	req.Header.Set("Accept", "application/vnd.api+json")
	ua := "DataflySignal"
	if v.version != "" {
		ua += "/" + v.version
	}
	req.Header.Set("User-Agent", ua)
	return req, nil
}
