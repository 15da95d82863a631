package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeOmnisend records what reaches POST /v5/events (X-API-KEY) or, under
// a dated API version, POST /api/events (Authorization: Omnisend-API-Key,
// Omnisend-Version) and answers 202 with rate-limit headers, as Omnisend
// does. The install's key check (GET brands/current) answers 200, or 401
// for a key in refused.
type fakeOmnisend struct {
	*httptest.Server
	mu       sync.Mutex
	bodies   [][]byte
	apiKeys  []string
	paths    []string
	versions []string
	status   int
	refused  map[string]bool
	// goneV5 answers POST /v5/events 410 Gone (v5 retired).
	goneV5 bool
}

func newFakeOmnisend(t *testing.T) *fakeOmnisend {
	t.Helper()
	f := &fakeOmnisend{status: http.StatusAccepted, refused: map[string]bool{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, version := r.Header.Get("X-API-KEY"), r.Header.Get("Omnisend-Version")
		switch {
		case strings.HasPrefix(r.URL.Path, "/v5/") && version == "" && r.Header.Get("Authorization") == "":
		case strings.HasPrefix(r.URL.Path, "/api/") && version != "" && key == "":
			key, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Omnisend-API-Key ")
		default:
			http.Error(w, `{"error":"unexpected request"}`, http.StatusNotFound)
			return
		}
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/brands/current") {
			f.mu.Lock()
			refused := f.refused[key]
			f.mu.Unlock()
			if refused {
				http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
				return
			}
			w.Write([]byte(`{"brandID":"b1"}`))
			return
		}
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/events") || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, `{"error":"unexpected request"}`, http.StatusNotFound)
			return
		}
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.bodies = append(f.bodies, b)
		f.apiKeys = append(f.apiKeys, key)
		f.paths = append(f.paths, r.URL.Path)
		f.versions = append(f.versions, version)
		status := f.status
		if f.goneV5 && strings.HasPrefix(r.URL.Path, "/v5/") {
			status = http.StatusGone
		}
		f.mu.Unlock()
		w.Header().Set("X-Rate-Limit-Limit", "400")
		w.Header().Set("X-Rate-Limit-Remaining", "399")
		w.Header().Set("X-Rate-Limit-Reset", "60")
		w.WriteHeader(status)
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(f.Close)
	return f
}

// sentTo returns the paths and Omnisend-Version headers of the events
// received, in order.
func (f *fakeOmnisend) sentTo() ([]string, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.paths...), append([]string(nil), f.versions...)
}

func (f *fakeOmnisend) received() ([][]byte, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.bodies...), append([]string(nil), f.apiKeys...)
}

func (f *fakeOmnisend) waitFor(t *testing.T, n int) [][]byte {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		bodies, _ := f.received()
		if len(bodies) >= n {
			return bodies
		}
		if time.Now().After(deadline) {
			t.Fatalf("Omnisend received %d events, want %d", len(bodies), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
