package gateway

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// dataflyMaxGzip is the contract's budget for d.js: 8,192 bytes with gzip -9.
const dataflyMaxGzip = 8192

func TestDataflyJSSize(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(dataflyJS)
	zw.Close()
	t.Logf("d.js: %d bytes raw, %d bytes gzip -9", len(dataflyJS), buf.Len())
	if buf.Len() > dataflyMaxGzip {
		t.Fatalf("d.js is %d bytes with gzip -9, over the %d-byte budget", buf.Len(), dataflyMaxGzip)
	}
}

// TestDataflyJSSource: what a CSP without 'unsafe-eval' or 'unsafe-inline'
// refuses, and console output of its own, are absent from the script.
func TestDataflyJSSource(t *testing.T) {
	t.Parallel()
	code := regexp.MustCompile(`(?s)/\*.*?\*/|//[^\n]*`).ReplaceAll(dataflyJS, nil)
	for _, bad := range []string{`eval(`, `new Function`, `Function(`, `console.`, `.style`, `setAttribute("style"`, `innerHTML`, `document.write`} {
		if bytes.Contains(code, []byte(bad)) {
			t.Errorf("d.js contains %q", bad)
		}
	}
	// Timers get functions, never strings (which a CSP treats as eval).
	if m := regexp.MustCompile(`setTimeout\(\s*["'\x60]`).Find(code); m != nil {
		t.Errorf("d.js passes a string to a timer: %s", m)
	}
}

func TestDataflyJSCaching(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.do(t, req{method: http.MethodGet, path: "/d.js"})
	etag := first.Header().Get("ETag")
	if first.Code != 200 || !strings.Contains(first.Header().Get("Cache-Control"), "max-age=") || !regexp.MustCompile(`^"[0-9a-f]+"$`).MatchString(etag) {
		t.Fatalf("GET /d.js: %d, Cache-Control %q, ETag %q", first.Code, first.Header().Get("Cache-Control"), etag)
	}
	if !bytes.Equal(first.Body.Bytes(), dataflyJS) {
		t.Fatal("GET /d.js does not serve the embedded script")
	}
	tests := []struct {
		name        string
		ifNoneMatch string
		want        int
	}{
		{"same tag", etag, http.StatusNotModified},
		{"weak form of the tag", "W/" + etag, http.StatusNotModified},
		{"in a list", `"old", ` + etag, http.StatusNotModified},
		{"any", "*", http.StatusNotModified},
		{"an older script", `"0123456789abcdef01234567"`, http.StatusOK},
		{"no header", "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hdr := map[string]string{}
			if tt.ifNoneMatch != "" {
				hdr["If-None-Match"] = tt.ifNoneMatch
			}
			w := b.do(t, req{method: http.MethodGet, path: "/d.js", header: hdr})
			if w.Code != tt.want || w.Header().Get("ETag") != etag || w.Header().Get("Cache-Control") == "" {
				t.Fatalf("If-None-Match %q: %d (ETag %q), want %d", tt.ifNoneMatch, w.Code, w.Header().Get("ETag"), tt.want)
			}
			if tt.want == http.StatusNotModified && w.Body.Len() != 0 {
				t.Fatalf("a 304 has a body of %d bytes", w.Body.Len())
			}
		})
	}
}

// TestCORSExposesRetryAfter: Datafly.js runs on the site's origin and can
// only honour a 429's Retry-After if CORS exposes it.
func TestCORSExposesRetryAfter(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.do(t, req{path: "/v1/batch", body: `{"batch":[{"type":"track","event":"A","userId":"u"}]}`,
		header: map[string]string{"Authorization": "Bearer " + testKey, "Origin": "https://shop.example.com"}})
	if w.Code != 200 || w.Header().Get("Access-Control-Expose-Headers") != "Retry-After" {
		t.Fatalf("POST /v1/batch from the site's origin: %d, Access-Control-Expose-Headers %q", w.Code, w.Header().Get("Access-Control-Expose-Headers"))
	}
}
