package klaviyo

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/signalhq/signal/internal/signal"
)

// CheckKey asks GET {base}/api/accounts whether the key is accepted: 401
// refuses it; 2xx accepts it; anything else (403: a key without
// accounts:read, a network failure) proves nothing.
func (v *Vendor) CheckKey(ctx context.Context, client *http.Client, cfg map[string]any) error {
	key, _ := cfg[ConfigAPIKey].(string)
	if err := checkAPIKey(key); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.base+AccountsPath, nil)
	if err != nil {
		return fmt.Errorf("klaviyo: key check: %w", err)
	}
	req.Header.Set("Authorization", "Klaviyo-API-Key "+key)
	req.Header.Set("revision", Revision)
	req.Header.Set("Accept", "application/vnd.api+json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("klaviyo: the key could not be checked: Klaviyo did not answer")
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode == http.StatusUnauthorized:
		return signal.FieldErrorf(signal.EINVALID, "config."+ConfigAPIKey, "Klaviyo refused this key (401): check it is a private API key of this account")
	}
	return fmt.Errorf("klaviyo: the key could not be checked: Klaviyo answered %d (a key without Accounts: Read cannot be checked; events may still flow)", resp.StatusCode)
}
