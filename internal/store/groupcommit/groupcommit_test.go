package groupcommit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

func TestGroup(t *testing.T) {
	t.Parallel()
	type testBundle struct {
		commits atomic.Int64
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
		time.Sleep(50 * time.Millisecond) // the first commit holds; the rest queue
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
		for b.commits.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		for i := 0; i < cap(g.reqc); i++ { // fill the queue
			go g.Append(context.Background(), ev())
		}
		for len(g.reqc) < cap(g.reqc) {
			time.Sleep(time.Millisecond)
		}
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
	for !started.Load() {
		time.Sleep(time.Millisecond)
	}
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		p := "ok"
		if i == 7 {
			p = "poison"
		}
		go func() { errs <- g.Append(context.Background(), []*signal.Event{{Payload: []byte(p)}}) }()
	}
	for len(g.reqc) < 20 {
		time.Sleep(time.Millisecond)
	}
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
