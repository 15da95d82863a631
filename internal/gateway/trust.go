package gateway

import (
	"net/http"
	"strings"

	"github.com/signalhq/signal/internal/signal"
)

// trustOf says how a request's sender is known, once it is authenticated:
// signed routes checked the HMAC; a Segment route with Basic credentials is
// a server library; everything else holds only the public pipeline key.
func trustOf(rt route, r *http.Request) string {
	switch {
	case rt.signed:
		return signal.TrustSigned
	case rt.server && isBasic(r):
		return signal.TrustServer
	}
	return signal.TrustBrowser
}

func isBasic(r *http.Request) bool {
	scheme, _, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	return strings.EqualFold(scheme, "Basic")
}
