package omnisend

import (
	"slices"
	"strings"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

// maxAPIKeyLen bounds the key; Omnisend's keys are far shorter.
const maxAPIKeyLen = 512

// ValidateConfig checks an integration's config: api_key (required),
// api_version, default_phone_region, dry_run and sync_consent (optional). Unknown keys are refused.
// Errors name the field ("config.api_key") and never quote the key.
func (v *Vendor) ValidateConfig(cfg map[string]any) error {
	if err := checkAPIKey(cfg[ConfigAPIKey]); err != nil {
		return err
	}
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		val := cfg[k]
		switch k {
		case ConfigAPIKey:
		case ConfigAPIVersion:
			if _, err := apiVersion(val); err != nil {
				return err
			}
		case ConfigSyncConsent:
			if _, ok := val.(bool); val != nil && !ok {
				return signal.FieldErrorf(signal.EINVALID, "config."+k, "must be true or false")
			}
		default:
			if common, err := integration.CheckCommonConfig(k, val); common {
				if err != nil {
					return err
				}
				continue
			}
			return signal.FieldErrorf(signal.EINVALID, "config."+k, "is not an Omnisend setting (expected api_key, api_version, default_phone_region, dry_run or sync_consent)")
		}
	}
	return nil
}

// checkAPIKey checks the api_key value. Keys are case-sensitive and used as
// given: one with spaces or control characters (a bad paste) is refused
// rather than silently repaired.
func checkAPIKey(val any) error {
	const field = "config." + ConfigAPIKey
	if val == nil {
		return signal.FieldErrorf(signal.EINVALID, field, "is required: paste your Omnisend API key")
	}
	key, ok := val.(string)
	if !ok {
		return signal.FieldErrorf(signal.EINVALID, field, "must be a string")
	}
	if strings.TrimSpace(key) == "" {
		return signal.FieldErrorf(signal.EINVALID, field, "is required: paste your Omnisend API key")
	}
	if len(key) > maxAPIKeyLen {
		return signal.FieldErrorf(signal.EINVALID, field, "is too long to be an Omnisend API key")
	}
	if !validAPIKey(key) {
		return signal.FieldErrorf(signal.EINVALID, field, "must not contain spaces, line breaks or other invisible characters; paste the key exactly as Omnisend shows it")
	}
	return nil
}

// validAPIKey reports whether key is non-empty printable ASCII without
// spaces, safe to send as a header value.
func validAPIKey(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] <= ' ' || key[i] >= 0x7f {
			return false
		}
	}
	return true
}
