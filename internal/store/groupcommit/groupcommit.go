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

	"github.com/signalhq/signal/internal/signal"
)

// CommitFunc writes events durably in one transaction, sealed[i] being the
// stored form of events[i].Payload, and sets each event's Seq.
type CommitFunc func(events []*signal.Event, sealed [][]byte) error

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
	if len(events) == 0 {
		return nil
	}
	req := &request{events: events, sealed: make([][]byte, len(events)), done: make(chan error, 1)}
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
	events, sealed := group[0].events, group[0].sealed
	if len(group) > 1 {
		events, sealed = nil, nil
		for _, r := range group {
			events, sealed = append(events, r.events...), append(sealed, r.sealed...)
		}
	}
	err := g.commit(events, sealed)
	if err != nil && len(group) > 1 {
		// Nothing of the group was stored. Commit each request alone, so
		// that one request the database refuses fails only its caller.
		for _, r := range group {
			if err := g.commit(r.events, r.sealed); err != nil {
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
