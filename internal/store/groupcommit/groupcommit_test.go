package groupcommit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store/storetest/eventually"
)

func TestGroup(t *testing.T) {
	t.Parallel()
	type testBundle struct {
		commits atomic.Int64
		held    atomic.Int64 // events of the commits under way
		mu      sync.Mutex
		stored  int
		fail    error
		release chan struct{} // when set, commits wait for it
	}
	setup := func(t *testing.T) (*testBundle, *Group) {
		t.Helper()
		b := &testBundle{}
		seal := func(p []byte) ([]byte, error) { return append([]byte("sealed:"), p...), nil }
		g := Start(seal, func(events []*signal.Event, sealed [][]byte, _ []Guard) error {
			b.commits.Add(1)
			b.held.Add(int64(len(events)))
			if b.release != nil {
				<-b.release
			}
			b.mu.Lock()
			defer b.mu.Unlock()
			if b.fail != nil {
				return b.fail
			}
			for i, e := range events {
				if string(sealed[i]) != "sealed:"+string(e.Payload) {
					t.Errorf("sealed %q for payload %q", sealed[i], e.Payload)
				}
				b.stored++
				e.Seq = int64(b.stored)
			}
			return nil
		}, 1000)
		t.Cleanup(g.Stop)
		return b, g
	}
	ev := func() []*signal.Event { return []*signal.Event{{Payload: []byte("p")}} }

	t.Run("ConcurrentAppendsShareCommits", func(t *testing.T) {
		t.Parallel()
		b, g := setup(t)
		b.release = make(chan struct{})
		var wg sync.WaitGroup
		for i := 0; i < 100; i++ {
			wg.Go(func() {
				if err := g.Append(context.Background(), ev()); err != nil {
					t.Error(err)
				}
			})
		}
		// The first commit holds; every other append queues behind it.
		eventually.True(t, 10*time.Second, "99 appends queued behind the first commit", func() bool {
			return b.commits.Load() == 1 && b.held.Load()+int64(len(g.reqc)) == 100
		})
		close(b.release)
		wg.Wait()
		if b.stored != 100 || b.commits.Load() >= 100 {
			t.Fatalf("stored %d in %d commits; want 100 in fewer commits", b.stored, b.commits.Load())
		}
	})

	t.Run("FailureReachesEveryCallerOfTheGroup", func(t *testing.T) {
		t.Parallel()
		b, g := setup(t)
		b.fail = errors.New("disk full")
		if err := g.Append(context.Background(), ev()); err == nil || !errors.Is(err, b.fail) {
			t.Fatalf("Append = %v, want the commit's error", err)
		}
	})

	t.Run("StopCommitsWhatIsQueuedThenRefuses", func(t *testing.T) {
		t.Parallel()
		b, g := setup(t)
		if err := g.Append(context.Background(), ev()); err != nil {
			t.Fatal(err)
		}
		g.Stop()
		if err := g.Append(context.Background(), ev()); !errors.Is(err, ErrClosed) {
			t.Fatalf("Append after Stop = %v, want ErrClosed", err)
		}
		if b.stored != 1 {
			t.Fatalf("stored %d", b.stored)
		}
	})

	t.Run("CancelledBeforeQueueing", func(t *testing.T) {
		t.Parallel()
		b, g := setup(t)
		b.release = make(chan struct{})
		defer close(b.release)
		go g.Append(context.Background(), ev()) // holds the loop
		eventually.True(t, 10*time.Second, "the first commit", func() bool { return b.commits.Load() > 0 })
		for i := 0; i < cap(g.reqc); i++ { // fill the queue
			go g.Append(context.Background(), ev())
		}
		eventually.True(t, 10*time.Second, "a full queue", func() bool { return len(g.reqc) == cap(g.reqc) })
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := g.Append(ctx, ev()); !errors.Is(err, context.Canceled) {
			t.Fatalf("Append with a cancelled context and a full queue = %v", err)
		}
	})
}

func TestOneBadRequestFailsOnlyItself(t *testing.T) {
	t.Parallel()
	var (
		mu      sync.Mutex
		stored  int
		release = make(chan struct{})
		started atomic.Bool
	)
	g := Start(func(p []byte) ([]byte, error) { return p, nil }, func(events []*signal.Event, _ [][]byte, _ []Guard) error {
		if started.CompareAndSwap(false, true) {
			<-release // hold the first commit so the rest group up
		}
		for _, e := range events {
			if string(e.Payload) == "poison" {
				return errors.New("the database refuses this event")
			}
		}
		mu.Lock()
		stored += len(events)
		mu.Unlock()
		return nil
	}, 1000)
	defer g.Stop()
	go g.Append(context.Background(), []*signal.Event{{Payload: []byte("first")}})
	eventually.True(t, 10*time.Second, "the first commit", started.Load)
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		p := "ok"
		if i == 7 {
			p = "poison"
		}
		go func() { errs <- g.Append(context.Background(), []*signal.Event{{Payload: []byte(p)}}) }()
	}
	eventually.True(t, 10*time.Second, "20 appends queued", func() bool { return len(g.reqc) == 20 })
	close(release)
	failed := 0
	for i := 0; i < 20; i++ {
		if <-errs != nil {
			failed++
		}
	}
	if failed != 1 || stored != 1+19 {
		t.Fatalf("%d appends failed and %d events stored; want only the poisoned one to fail", failed, stored)
	}
}

// Observe reports each shared commit with its size: the metric of events
// per sync, not per request.
func TestObserveReportsEachSharedCommit(t *testing.T) {
	t.Parallel()
	var (
		mu      sync.Mutex
		sizes   []int
		release = make(chan struct{})
		started atomic.Bool
	)
	commit := func(events []*signal.Event, _ [][]byte, _ []Guard) error {
		if started.CompareAndSwap(false, true) {
			<-release
		}
		return nil
	}
	g := Start(func(p []byte) ([]byte, error) { return p, nil }, Observe(commit, func(events int, took time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil || took < 0 {
			t.Errorf("observed err %v, took %v", err, took)
		}
		sizes = append(sizes, events)
	}), 1000)
	defer g.Stop()
	go g.Append(context.Background(), []*signal.Event{{Payload: []byte("first")}})
	eventually.True(t, 10*time.Second, "the first commit", started.Load)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if err := g.Append(context.Background(), []*signal.Event{{}, {}}); err != nil {
				t.Error(err)
			}
		})
	}
	eventually.True(t, 10*time.Second, "10 appends queued", func() bool { return len(g.reqc) == 10 })
	close(release)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(sizes) != 2 || sizes[0] != 1 || sizes[1] != 20 {
		t.Fatalf("observed commits of %v events, want [1 20] (the held one, then the 10 queued requests in one)", sizes)
	}
	if Observe(commit, nil) == nil {
		t.Fatal("Observe with no observer returned nil")
	}
}
