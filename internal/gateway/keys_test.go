package gateway

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// countingStore counts pipeline lookups.
type countingStore struct {
	fakeStore
	lookups atomic.Int64
	name    string // the name of every pipeline it finds
}

func (c *countingStore) GetPipeline(ctx context.Context, p store.GetPipelineParams) (*signal.Pipeline, error) {
	c.lookups.Add(1)
	if strings.HasPrefix(p.Key, "dk_live_known") {
		return &signal.Pipeline{ID: "pip_" + p.Key, Key: p.Key, Name: c.name, SigningSecret: testSecret}, nil
	}
	return nil, signal.Errorf(signal.ENOTFOUND, "no pipeline")
}

// TestImplausibleKeyRefusedBeforeLookup: what cannot be a pipeline key is
// refused with 401 before any store lookup and is not remembered, whether
// it comes as Bearer, Basic user name or writeKey.
func TestImplausibleKeyRefusedBeforeLookup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key string
	}{
		{"huge", "dk_live_" + strings.Repeat("a", 256<<10)},
		{"just over the length", "dk_live_" + strings.Repeat("a", maxKeyLen-len("dk_live_")+1)},
		{"wrong prefix", "sk_live_abcdefabcdef"},
		{"prefix only", "dk_"},
		{"bad charset", "dk_live_abc-def"},
		{"space", "dk_live_abc def"},
		{"non-ASCII", "dk_live_abcé"},
	}
	for _, tc := range tests {
		for _, via := range []string{"bearer", "basic", "writeKey"} {
			t.Run(tc.name+"/"+via, func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				cs := &countingStore{}
				b.srv.pipelines = newPipelineCache(cs, time.Minute, time.Now)
				r := req{path: "/v1/batch", body: `{"batch":[{"type":"track","event":"A","userId":"u"}]}`}
				switch via {
				case "bearer":
					r.header = bearer(tc.key)
				case "basic":
					r.header = basic(tc.key)
				case "writeKey":
					r.body = `{"writeKey":"` + tc.key + `","batch":[{"type":"track","event":"A","userId":"u"}]}`
				}
				w := b.do(t, r)
				if w.Code != 401 || decodeErr(t, w).Error.Code != codeBadKey {
					t.Fatalf("status %d %s, want 401 %s", w.Code, w.Body, codeBadKey)
				}
				if n := cs.lookups.Load(); n != 0 {
					t.Fatalf("%d store lookups for a key that cannot be one", n)
				}
				if len(b.srv.pipelines.m) != 0 {
					t.Fatalf("cache holds %d entries", len(b.srv.pipelines.m))
				}
			})
		}
	}
}

// TestGeneratedKeyShapeAccepted: every key the admin API can generate
// ("dk_live_" and up to 32 base64url letters and digits) has the shape the
// gateway accepts.
func TestGeneratedKeyShapeAccepted(t *testing.T) {
	t.Parallel()
	for _, k := range []string{testKey, "dk_live_" + strings.Repeat("aZ09", 8), "dk_live_pip_1", "dk_abc"} {
		if !plausibleKey(k) {
			t.Errorf("plausibleKey(%q) = false", k)
		}
	}
}

// TestPipelineCacheBounded: the key cache stays within its count and byte
// bounds however many distinct keys arrive, and a flood of unknown keys
// does not evict everything at once.
func TestPipelineCacheBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		maxEntries, maxBytes int
		pipelineName         string
	}{
		{"by count", 100, 1 << 30, "shop"},
		{"by bytes", 1 << 30, 20 << 10, strings.Repeat("n", 1000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cs := &countingStore{name: tc.pipelineName}
			c := newPipelineCache(cs, time.Minute, time.Now)
			c.maxEntries, c.maxBytes = tc.maxEntries, tc.maxBytes
			for i := 0; i < 2000; i++ {
				prefix := "dk_live_unknown"
				if i%2 == 0 {
					prefix = "dk_live_known"
				}
				c.get(context.Background(), prefix+strconv.Itoa(i))
				if len(c.m) > tc.maxEntries || c.bytes > tc.maxBytes {
					t.Fatalf("after %d keys: %d entries, %d bytes; bounds %d, %d", i+1, len(c.m), c.bytes, tc.maxEntries, tc.maxBytes)
				}
			}
			sum := 0
			for _, e := range c.m {
				sum += e.size
			}
			if sum != c.bytes || len(c.m) < 10 {
				t.Fatalf("accounted %d bytes, entries hold %d; %d entries left", c.bytes, sum, len(c.m))
			}
		})
	}
}
