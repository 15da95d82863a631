package admin

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strconv"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// What an install or an update of an integration must check or say beyond
// its own fields: a duplicate key, and changes in words for the audit log.

// configChange says in words that config field k changed; a secret's value
// is never named ("API key replaced").
func configChange(k string, secret bool) string {
	switch {
	case k == "api_key":
		return "API key replaced"
	case secret:
		return k + " replaced"
	}
	return k + " changed"
}

// checkDuplicateKey refuses a config whose secret equals that of an
// installed integration of the same vendor: both would send every event.
// Keys are compared in constant time and never echoed.
func (s *Server) checkDuplicateKey(ctx context.Context, entry integration.CatalogEntry, cfg map[string]any) error {
	after := ""
	for {
		ins, err := s.store.ListIntegrations(ctx, store.ListParams{After: after, Limit: 100})
		if err != nil {
			return fmt.Errorf("check duplicate key: %w", err)
		}
		for _, in := range ins {
			if in.CatalogKey != entry.Key {
				continue
			}
			for _, f := range entry.ConfigFields {
				mine, _ := cfg[f.Key].(string)
				theirs, _ := in.Config[f.Key].(string)
				if f.Type != "secret" || mine == "" || subtle.ConstantTimeCompare([]byte(mine), []byte(theirs)) != 1 {
					continue
				}
				return signal.FieldErrorf(signal.ECONFLICT, "config."+f.Key,
					"integration %s (%s) already uses this key: a second one would send every event twice; send \"confirm_duplicate\": true to install it anyway",
					strconv.Quote(in.Name), in.ID)
			}
		}
		if len(ins) < 100 {
			return nil
		}
		after = ins[len(ins)-1].ID
	}
}
