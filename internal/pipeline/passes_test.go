package pipeline

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// countingStore is the test's SQLite store with its cursor reads counted and
// the times of passes that found events recorded.
type countingStore struct {
	Store
	cursorReads atomic.Int64
	mu          sync.Mutex
	passes      []time.Time
	sizes       []passSize
}

// passSize is one pass that found events: the most it asked for and how
// many it got.
type passSize struct{ limit, got int }

func (s *countingStore) Cursor(ctx context.Context, p store.CursorParams) (int64, error) {
	if p.Name == store.ProcessorCursor { // the erasure count is read every pass, by design
		s.cursorReads.Add(1)
	}
	return s.Store.Cursor(ctx, p)
}

func (s *countingStore) ListEvents(ctx context.Context, p store.ListEventsParams) ([]signal.Event, error) {
	evs, err := s.Store.ListEvents(ctx, p)
	if len(evs) > 0 {
		s.mu.Lock()
		s.passes = append(s.passes, time.Now())
		s.sizes = append(s.sizes, passSize{p.Limit, len(evs)})
		s.mu.Unlock()
	}
	return evs, err
}

func (s *countingStore) passSizes() []passSize {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]passSize(nil), s.sizes...)
}

func (s *countingStore) passTimes() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.passes...)
}

// TestProcessorKeepsItsCursor: passes do not read back the cursor the
// processor itself moved; after another processor moved it (a conflict),
// the next pass reads it again and nothing is processed twice.
func TestProcessorKeepsItsCursor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		other     bool // another processor takes a batch in between
		wantReads int64
	}{
		{"alone: one read for every pass", false, 1},
		{"after another node's pass: read again", true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			in := b.install(t)
			cs := &countingStore{Store: b.db}
			b.proc.store = cs

			b.send(t, `{"type":"track","event":"Product Viewed","anonymousId":"v1","messageId":"m1"}`)
			b.process(t)
			if tt.other {
				other := New(Config{Batch: 100}, Deps{Store: b.db, Hasher: b.box, Vendors: b.proc.vendors, Now: b.proc.now})
				b.send(t, `{"type":"track","event":"Product Viewed","anonymousId":"v2","messageId":"m2"}`)
				if _, err := other.ProcessOnce(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			b.send(t, `{"type":"track","event":"Product Viewed","anonymousId":"v3","messageId":"m3"}`)
			b.process(t)
			b.send(t, `{"type":"track","event":"Product Viewed","anonymousId":"v4","messageId":"m4"}`)
			b.process(t)

			if got := cs.cursorReads.Load(); got != tt.wantReads {
				t.Fatalf("cursor read %d times, want %d", got, tt.wantReads)
			}
			for _, m := range []string{"m1", "m3", "m4"} {
				b.rowOf(t, m, in.ID)
			}
			if tt.other {
				if rs := b.rows(t, "m2"); len(rs) != 1 {
					t.Fatalf("m2: %d rows, want 1 (processed once): %s", len(rs), describe(rs))
				}
			}
		})
	}
}

// TestProcessorLingers: after a pass that drained the log, the next pass
// waits Linger even when woken, so passes grow under steady traffic; a full
// batch (a backlog) goes on at once.
func TestProcessorLingers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		events  int // in the log when Run starts
		linger  time.Duration
		minGap  time.Duration // between the first two passes
		another bool          // send one more event after the first pass
	}{
		{"a drained log waits Linger before the next look", 1, 300 * time.Millisecond, 300 * time.Millisecond, true},
		{"a backlog goes on at once", 150, time.Hour, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.install(t)
			cs := &countingStore{Store: b.db}
			b.proc.store = cs
			b.proc.cfg.Linger = tt.linger
			for i := range tt.events {
				b.send(t, `{"type":"track","event":"Product Viewed","anonymousId":"v`+string(rune('a'+i%26))+`"}`)
			}
			runUntilCleanup(t, b.proc)

			waitPasses := func(n int) []time.Time {
				deadline := time.Now().Add(10 * time.Second)
				for time.Now().Before(deadline) {
					if ps := cs.passTimes(); len(ps) >= n {
						return ps
					}
					time.Sleep(5 * time.Millisecond)
				}
				t.Fatalf("fewer than %d passes in 10 s", n)
				return nil
			}
			waitPasses(1)
			if tt.another {
				b.send(t, `{"type":"track","event":"Product Viewed","anonymousId":"late"}`)
				b.proc.Wake()
			}
			ps := waitPasses(2)
			if gap := ps[1].Sub(ps[0]); gap < tt.minGap {
				t.Fatalf("second pass %s after the first, want at least %s", gap, tt.minGap)
			}
		})
	}
}

// runUntilCleanup runs p until the test ends.
func runUntilCleanup(t *testing.T, p *Processor) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// busyGauge is an IngestGauge that says what it is told.
type busyGauge bool

func (g busyGauge) IngestActive() bool { return bool(g) }

// TestProcessorPassSize: while the gateway commits (the gauge says so) a
// pass takes BusyBatch events, else Batch, and at most PassBytes of
// payloads; a pass stopped by either bound goes on at once (Linger is an hour here, so a pass taken for the last one
// would stall the test).
func TestProcessorPassSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		gauge            IngestGauge
		batch, busyBatch int
		passBytes        int
		want             []passSize
	}{
		{"no gauge: Batch", nil, 100, 2, 0, []passSize{{100, 5}}},
		{"a quiet gateway: Batch", busyGauge(false), 100, 2, 0, []passSize{{100, 5}}},
		{"a busy gateway: BusyBatch, full passes go on at once", busyGauge(true), 100, 2, 0, []passSize{{2, 2}, {2, 2}, {2, 1}}},
		{"BusyBatch above Batch is Batch", busyGauge(true), 3, 10, 0, []passSize{{3, 3}, {3, 2}}},
		// Each event's payload is over 40 bytes: a pass stops after the
		// event that reaches PassBytes, and the next goes on at once.
		{"PassBytes bounds a pass", nil, 100, 0, 41, []passSize{{100, 1}, {100, 1}, {100, 1}, {100, 1}, {100, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.install(t)
			cs := &countingStore{Store: b.db}
			b.proc = New(Config{Batch: tt.batch, BusyBatch: tt.busyBatch, PassBytes: tt.passBytes, Linger: time.Hour, Idle: time.Hour},
				Deps{Store: cs, Hasher: b.box, Vendors: b.proc.vendors, Now: b.proc.now, Ingest: tt.gauge})
			for i := range 5 {
				b.send(t, `{"type":"track","event":"Product Viewed","anonymousId":"v`+string(rune('a'+i))+`"}`)
			}
			runUntilCleanup(t, b.proc)

			deadline := time.Now().Add(10 * time.Second)
			for {
				got := 0
				for _, p := range cs.passSizes() {
					got += p.got
				}
				if got == 5 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("passes %v processed %d of 5 events in 10 s", cs.passSizes(), got)
				}
				time.Sleep(5 * time.Millisecond)
			}
			if got := cs.passSizes(); !slices.Equal(got, tt.want) {
				t.Fatalf("passes (limit, events) %v, want %v", got, tt.want)
			}
		})
	}
}
