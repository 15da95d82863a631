package gateway

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// rotatedStore holds one pipeline rotated from oldKey to newKey at t0, the
// old key and secret working until t0+overlap (as the stores answer
// GetPipeline by key).
type rotatedStore struct {
	fakeStore
	pl *signal.Pipeline
}

const (
	newKey    = "dk_live_newkey"
	newSecret = "whsec_newsecret"
)

func (r *rotatedStore) GetPipeline(ctx context.Context, p store.GetPipelineParams) (*signal.Pipeline, error) {
	if p.Key == r.pl.Key || p.Key == r.pl.PreviousKey {
		return r.pl, nil
	}
	return nil, signal.Errorf(signal.ENOTFOUND, "no pipeline")
}

type rotationBundle struct {
	srv   *Server
	mu    sync.Mutex
	clock time.Time
	t0    time.Time
}

func (b *rotationBundle) advance(d time.Duration) {
	b.mu.Lock()
	b.clock = b.clock.Add(d)
	b.mu.Unlock()
}

func setupRotated(t *testing.T, signedOnly []string) *rotationBundle {
	t.Helper()
	t0 := time.Now().UTC().Truncate(time.Second)
	b := &rotationBundle{clock: t0, t0: t0}
	st := &rotatedStore{pl: &signal.Pipeline{ID: "pip_test", Key: newKey, SigningSecret: newSecret, SignedOnlyEvents: signedOnly,
		PreviousKey: testKey, PreviousSigningSecret: testSecret, PreviousUntil: t0.Add(time.Minute)}}
	cfg := DefaultConfig()
	cfg.PipelineCacheTTL = time.Hour // the overlap must end whatever the cache holds
	b.srv = New(cfg, st, st, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.clock
	})
	return b
}

func TestRotatedKeyOverlap(t *testing.T) {
	t.Parallel()
	body := `{"type":"track","event":"Order Completed","userId":"u1"}`
	signedBy := func(key, secret string, at time.Time) map[string]string {
		ts := strconv.FormatInt(at.UnixMilli(), 10)
		return map[string]string{"Authorization": "Bearer " + key, "X-Timestamp": ts, "X-Signature": sign(secret, ts, []byte(body))}
	}
	tests := []struct {
		name   string
		after  time.Duration // since the rotation
		r      func(at time.Time) req
		status int
	}{
		{"NewKey", 0, func(time.Time) req { return req{path: "/v1/t", body: body, header: bearer(newKey)} }, 200},
		{"OldKeyDuringOverlap", 30 * time.Second, func(time.Time) req { return req{path: "/v1/t", body: body, header: bearer(testKey)} }, 200},
		{"OldKeyAfterOverlap", 61 * time.Second, func(time.Time) req { return req{path: "/v1/t", body: body, header: bearer(testKey)} }, 401},
		{"NewKeyAfterOverlap", 61 * time.Second, func(time.Time) req { return req{path: "/v1/t", body: body, header: bearer(newKey)} }, 200},
		{"NewSecret", 0, func(at time.Time) req {
			return req{path: "/v1/events", body: body, header: signedBy(newKey, newSecret, at)}
		}, 200},
		{"OldSecretDuringOverlap", 30 * time.Second, func(at time.Time) req {
			return req{path: "/v1/events", body: body, header: signedBy(newKey, testSecret, at)}
		}, 200},
		{"OldSecretAfterOverlap", 61 * time.Second, func(at time.Time) req {
			return req{path: "/v1/events", body: body, header: signedBy(newKey, testSecret, at)}
		}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupRotated(t, nil)
			tb := &testBundle{srv: b.srv}
			// Cached first, at the rotation: the cache must not outlive the overlap.
			tb.do(t, req{path: "/v1/t", body: body, header: bearer(testKey)})
			b.advance(tt.after)
			if w := tb.do(t, tt.r(b.t0.Add(tt.after))); w.Code != tt.status {
				t.Fatalf("status = %d (%s), want %d", w.Code, w.Body, tt.status)
			}
		})
	}
}

func TestSignedOnlyEvents(t *testing.T) {
	t.Parallel()
	order := `{"type":"track","event":"Order Completed","userId":"u1","properties":{"email":"a@example.com"}}`
	tests := []struct {
		name     string
		r        func(b *rotationBundle) req
		status   int
		rejected int // index of the batch entry refused (-1: none)
	}{
		{"BrowserTrack", func(*rotationBundle) req { return req{path: "/v1/t", body: order, header: bearer(newKey)} }, 403, -1},
		{"SegmentTrack", func(*rotationBundle) req { return req{path: "/v1/track", body: order, header: basic(newKey)} }, 403, -1},
		{"OtherEventStillAccepted", func(*rotationBundle) req {
			return req{path: "/v1/t", body: `{"event":"Product Viewed","userId":"u1"}`, header: bearer(newKey)}
		}, 200, -1},
		{"BatchEntryRejected", func(*rotationBundle) req {
			return req{path: "/v1/batch", body: `{"batch":[{"type":"page","userId":"u1"},` + order + `]}`, header: bearer(newKey)}
		}, 200, 1},
		{"SignedAccepted", func(b *rotationBundle) req {
			ts := strconv.FormatInt(b.t0.UnixMilli(), 10)
			return req{path: "/v1/events", body: order, header: map[string]string{"Authorization": "Bearer " + newKey, "X-Timestamp": ts, "X-Signature": sign(newSecret, ts, []byte(order))}}
		}, 200, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupRotated(t, []string{"Order Completed"})
			w := (&testBundle{srv: b.srv}).do(t, tt.r(b))
			if w.Code != tt.status {
				t.Fatalf("status = %d (%s), want %d", w.Code, w.Body, tt.status)
			}
			var ans struct {
				Error    struct{ Code, Message string }
				Rejected []struct {
					Index         int
					Code, Message string
				}
			}
			json.Unmarshal(w.Body.Bytes(), &ans)
			if tt.status == 403 && (ans.Error.Code != codeSignedOnly || !strings.Contains(ans.Error.Message, "Order Completed")) {
				t.Fatalf("403 body = %s, want %s naming the event", w.Body, codeSignedOnly)
			}
			if tt.rejected >= 0 && (len(ans.Rejected) != 1 || ans.Rejected[0].Index != tt.rejected || !strings.Contains(ans.Rejected[0].Message, "Order Completed")) {
				t.Fatalf("rejected = %+v, want entry %d naming the event", ans.Rejected, tt.rejected)
			}
		})
	}
}
