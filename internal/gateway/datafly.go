package gateway

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"strings"
)

//go:embed datafly.js
var dataflyJS []byte

// dataflyETag names this build's script: a browser or CDN revalidates its
// copy with If-None-Match and gets a 304 until the script changes.
var dataflyETag = func() string {
	sum := sha256.Sum256(dataflyJS)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}()

// dataflyCacheControl lets browsers reuse the script for 5 minutes and then
// serve it stale for a day while revalidating, so a site's pages never wait
// on the gateway for it and a new release reaches visitors within minutes.
const dataflyCacheControl = "public, max-age=300, stale-while-revalidate=86400"

func serveDataflyJS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", dataflyCacheControl)
	h.Set("ETag", dataflyETag)
	if etagMatches(r.Header.Get("If-None-Match"), dataflyETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/javascript; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(dataflyJS)
}

// etagMatches reads If-None-Match as RFC 9110 does: a list of tags, weak
// ones compared weakly, or "*".
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
