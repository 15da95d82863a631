package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/storetest/eventually"
)

// overlapStore counts the passes recorded while the next pass was being
// prepared over their carry, and fails the record calls it is told to,
// once each. Each record waits (up to wait) for the next pass's
// PrepareProfiles over a carry: one that comes proves the overlap, and the
// wait makes it happen on any machine.
type overlapStore struct {
	Store
	overlapped atomic.Int32 // records that saw the next pass's PrepareProfiles
	carried    atomic.Int32 // PrepareProfiles calls over a carry
	prepared   chan struct{}
	wait       time.Duration
	mu         sync.Mutex
	records    int
	fail       map[int]error // 1-based record call → its error
}

func (s *overlapStore) PrepareProfiles(ctx context.Context, p store.ResolveProfilesParams) (*store.ProfilePass, error) {
	if p.Carry != nil {
		s.carried.Add(1)
		select {
		case s.prepared <- struct{}{}:
		default:
		}
	}
	return s.Store.PrepareProfiles(ctx, p)
}

func (s *overlapStore) RecordProcessed(ctx context.Context, p store.RecordProcessedParams) error {
	s.mu.Lock()
	s.records++
	err := s.fail[s.records]
	s.mu.Unlock()
	if s.wait > 0 {
		select {
		case <-s.prepared:
			s.overlapped.Add(1)
		case <-time.After(s.wait):
		}
	}
	if err != nil {
		return err
	}
	return s.Store.RecordProcessed(ctx, p)
}

// identityTraffic is a backlog in which visitors come back pass after
// pass: identified, merged, given traits, with and without consent.
func identityTraffic() []string {
	var msgs []string
	for i := range 60 {
		v := fmt.Sprintf("v%d", i%7)
		u := fmt.Sprintf("u%d", i%5)
		switch i % 6 {
		case 0:
			msgs = append(msgs, fmt.Sprintf(`{"type":"identify","anonymousId":%q,"userId":%q,"messageId":"m%d","traits":{"email":"%s@shop.example","visits":%d}}`, v, u, i, u, i))
		case 1:
			msgs = append(msgs, fmt.Sprintf(`{"type":"track","event":"Product Viewed","anonymousId":%q,"messageId":"m%d","properties":{"product_id":"p%d"}}`, v, i, i))
		case 2:
			msgs = append(msgs, fmt.Sprintf(`{"type":"track","event":"Order Completed","userId":%q,"messageId":"m%d","properties":{"order_id":"o%d","total":%d}}`, u, i, i, i))
		case 3:
			msgs = append(msgs, fmt.Sprintf(`{"type":"page","name":"Home","anonymousId":%q,"messageId":"m%d","context":{"consent":{"canonical":{"marketing":%v}}}}`, v, i, i%4 == 3))
		case 4:
			msgs = append(msgs, fmt.Sprintf(`{"type":"identify","anonymousId":"w%d","userId":%q,"messageId":"m%d","traits":{"firstName":"N%d"}}`, i%3, u, i, i))
		default:
			msgs = append(msgs, fmt.Sprintf(`{"type":"track","event":"Product Added","anonymousId":"w%d","messageId":"m%d","properties":{"product_id":"p%d"}}`, i%3, i, i))
		}
	}
	return msgs
}

// outcomes describes every message's rows: status, reason and payload.
func (b *testBundle) outcomes(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	for i := range n {
		id := fmt.Sprintf("m%d", i)
		for _, le := range b.rows(t, id) {
			out = append(out, fmt.Sprintf("%s %s/%s %s", id, le.Status, le.Reason, le.Payload))
		}
	}
	return out
}

// waitCursor waits until the processor has recorded the whole log. The
// bound only ends a hung test: under the race detector, with every package
// testing at once, a case here has taken 20 s.
func (b *testBundle) waitCursor(t *testing.T, want int64) {
	t.Helper()
	eventually.True(t, 2*time.Minute, fmt.Sprintf("the processor cursor at %d", want), func() bool {
		c, err := b.db.Cursor(context.Background(), store.CursorParams{Name: store.ProcessorCursor})
		if err != nil {
			t.Fatal(err)
		}
		return c >= want
	})
}

// TestRunPipelinesLikeSerialPasses: Run prepares a backlog's next pass
// while the last one is recorded, over its profile carry; what it records
// is what one pass after the other records, also when a record fails or is
// refused (the pass prepared over it is dropped and prepared again).
func TestRunPipelinesLikeSerialPasses(t *testing.T) {
	t.Parallel()
	msgs := identityTraffic()

	want := setup(t)
	want.install(t)
	want.proc.cfg.Batch = 4
	want.send(t, msgs...)
	want.process(t)
	wantRows := want.outcomes(t, len(msgs))
	if len(wantRows) < len(msgs) {
		t.Fatalf("serial run: %d rows for %d messages", len(wantRows), len(msgs))
	}

	tests := []struct {
		name        string
		fail        map[int]error
		busy        bool // the gateway appends: passes one after the other
		minOverlaps int32
	}{
		{"every record succeeds", nil, false, 5},
		{"a record fails", map[int]error{3: errors.New("disk full")}, false, 3},
		{"a record is refused", map[int]error{4: signal.Errorf(signal.ECONFLICT, "a contact was erased")}, false, 3},
		{"the gateway busy: no overlap", nil, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.install(t)
			ovs := &overlapStore{Store: b.db, fail: tt.fail, prepared: make(chan struct{}, 1), wait: 2 * time.Second}
			if tt.busy {
				ovs.wait = 0 // no pass keeps a carry: nothing to wait for
			}
			b.proc = New(Config{Batch: 4, Linger: -1, Idle: time.Hour},
				Deps{Store: ovs, Hasher: b.box, Vendors: b.proc.vendors, Now: b.proc.now, Ingest: busyGauge(tt.busy)})
			b.send(t, msgs...)
			runUntilCleanup(t, b.proc)
			b.waitCursor(t, int64(len(msgs)))

			if got := ovs.overlapped.Load(); got < tt.minOverlaps {
				t.Fatalf("%d passes recorded while the next was prepared over their carry, want at least %d", got, tt.minOverlaps)
			}
			if got := ovs.carried.Load(); tt.busy && got > 0 {
				t.Fatalf("%d passes prepared over a carry while the gateway appends, want none", got)
			}
			requireStrings(t, "rows", b.outcomes(t, len(msgs)), wantRows)
		})
	}
}

func requireStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d, want %d:\n got %q\nwant %q", what, len(got), len(want), got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s[%d]:\n got %s\nwant %s", what, i, got[i], want[i])
		}
	}
}
