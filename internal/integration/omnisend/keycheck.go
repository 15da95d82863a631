package omnisend

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

// Key check paths: Omnisend's side-effect-free read of the key's brand,
// under v5 and under a dated API version.
const (
	BrandsPath      = "/v5/brands/current"
	DatedBrandsPath = "/api/brands/current"
)

var _ integration.KeyChecker = (*Vendor)(nil)

// CheckKey asks Omnisend once (GET brands/current, with the config's API
// version) whether the key is accepted: 401 refuses it, naming
// config.api_key; 2xx accepts it; anything else (403 from a key with Events
// write but no brands read, a 5xx, no answer) proves nothing, so the error
// is a plain one the install turns into a warning.
func (v *Vendor) CheckKey(ctx context.Context, client *http.Client, cfg map[string]any) error {
	if err := checkAPIKey(cfg[ConfigAPIKey]); err != nil {
		return err
	}
	req, err := v.newRequest(ctx, http.MethodGet, BrandsPath, DatedBrandsPath, cfg, nil)
	if err != nil {
		if signal.ErrorField(err) != "" {
			return err
		}
		return fmt.Errorf("omnisend: key check: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		// Never the transport error itself: it may quote the URL.
		return fmt.Errorf("the key could not be checked: Omnisend did not answer")
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode == http.StatusUnauthorized:
		return signal.FieldErrorf(signal.EINVALID, "config."+ConfigAPIKey, "Omnisend refused this key (401): check it was copied whole from Store Settings > API keys, and not revoked")
	case resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("the key could not be checked: Omnisend answered 403 (a key without the Brands read permission cannot be checked; events may still flow)")
	}
	return fmt.Errorf("the key could not be checked: Omnisend answered %d; events may still flow", resp.StatusCode)
}
