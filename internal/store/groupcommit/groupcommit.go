// Package groupcommit makes concurrent appends share commits: each caller
// queues its events, one goroutine writes everything waiting in one
// transaction (one sync) and answers every caller. Durability per request
// then costs one sync per group, not per request.
package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// CommitFunc writes events durably in one transaction, sealed[i] being the
// stored form of events[i].Payload, and sets each event's Seq. In the same
// transaction it records every guard, and fails the whole transaction
// (with an error wrapping store.ErrReplayed) when one is already recorded:
// the group is then committed request by request, so only the replay fails.
type CommitFunc func(events []*signal.Event, sealed [][]byte, guards []Guard) error

// Guard makes a request's events commit at most once: its Key (a hash of a
// signed request's signature) is recorded with the events until Expires.
type Guard struct {
	Key     string
	Expires time.Time
}

// Group is a running group-commit loop.
type Group struct {
	seal   func([]byte) ([]byte, error)
	commit CommitFunc
	max    int

	reqc chan *request
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

type request struct {
	events []*signal.Event
	sealed [][]byte
	guard  *Guard
	done   chan error
}

// ErrClosed is returned by Append once the group is stopped.
var ErrClosed = errors.New("store closed")

// Start runs a group-commit loop. seal turns a payload into its stored form
// (callers seal in parallel, before queueing); commit writes one group; a
// group holds at most maxEvents events (more wait for the next commit).
func Start(seal func([]byte) ([]byte, error), commit CommitFunc, maxEvents int) *Group {
	if maxEvents <= 0 {
		maxEvents = 4096
	}
	g := &Group{seal: seal, commit: commit, max: maxEvents, reqc: make(chan *request, 1024), stop: make(chan struct{}), done: make(chan struct{})}
	go g.loop()
	return g
}

// Append queues events and waits until they are committed. Once queued, the
// commit happens whatever ctx does, and Append waits for it: a caller never
// reports a failure for events that were stored.
func (g *Group) Append(ctx context.Context, events []*signal.Event) error {
	return g.AppendGuarded(ctx, events, nil)
}

// AppendGuarded is Append with a guard (nil: none) committed atomically
// with the events: a second request with the same guard key stores nothing
// and fails with the commit's replay error.
func (g *Group) AppendGuarded(ctx context.Context, events []*signal.Event, guard *Guard) error {
	if len(events) == 0 {
		return nil
	}
	req := &request{events: events, sealed: make([][]byte, len(events)), guard: guard, done: make(chan error, 1)}
	for i, e := range events {
		b, err := g.seal(e.Payload)
		if err != nil {
			return fmt.Errorf("append events: seal: %w", err)
		}
		req.sealed[i] = b
	}
	select {
	case g.reqc <- req:
	case <-g.stop:
		return fmt.Errorf("append events: %w", ErrClosed)
	case <-ctx.Done():
		return ctx.Err()
	}
	// A request queued after the loop stopped is never answered: the
	// select above picks at random when stop is closed and reqc has room.
	select {
	case err := <-req.done:
		return err
	case <-g.done:
		select {
		case err := <-req.done:
			return err
		default:
			return fmt.Errorf("append events: %w", ErrClosed)
		}
	}
}

// Stop commits what is already queued, then ends the loop.
func (g *Group) Stop() {
	g.once.Do(func() {
		close(g.stop)
		<-g.done
	})
}

func (g *Group) loop() {
	defer close(g.done)
	for {
		var first *request
		select {
		case first = <-g.reqc:
		case <-g.stop:
			for {
				select {
				case r := <-g.reqc:
					g.commitGroup([]*request{r})
				default:
					return
				}
			}
		}
		group := []*request{first}
		n := len(first.events)
	drain:
		for n < g.max {
			select {
			case r := <-g.reqc:
				group = append(group, r)
				n += len(r.events)
			default:
				break drain
			}
		}
		g.commitGroup(group)
	}
}

func (g *Group) commitGroup(group []*request) {
	events, sealed, guards := group[0].events, group[0].sealed, group[0].guards()
	if len(group) > 1 {
		events, sealed, guards = nil, nil, nil
		for _, r := range group {
			events, sealed, guards = append(events, r.events...), append(sealed, r.sealed...), append(guards, r.guards()...)
		}
	}
	err := g.commit(events, sealed, guards)
	if err != nil && len(group) > 1 {
		// Nothing of the group was stored. Commit each request alone, so
		// that one request the database refuses (a replay among them) fails
		// only its caller.
		for _, r := range group {
			if err := g.commit(r.events, r.sealed, r.guards()); err != nil {
				r.done <- fmt.Errorf("append events: %w", err)
			} else {
				r.done <- nil
			}
		}
		return
	}
	if err != nil {
		err = fmt.Errorf("append events: %w", err)
	}
	for _, r := range group {
		r.done <- err
	}
}

func (r *request) guards() []Guard {
	if r.guard == nil {
		return nil
	}
	return []Guard{*r.guard}
}

// Observe returns commit reporting every call to f: how many events it
// wrote, how long it took (the transaction and its sync) and its error. A
// call is one shared commit, or one request of a group retried alone after
// the group failed. With f nil it returns commit itself.
func Observe(commit CommitFunc, f func(events int, took time.Duration, err error)) CommitFunc {
	if f == nil {
		return commit
	}
	return func(events []*signal.Event, sealed [][]byte, guards []Guard) error {
		start := time.Now()
		err := commit(events, sealed, guards)
		f(len(events), time.Since(start), err)
		return err
	}
}
