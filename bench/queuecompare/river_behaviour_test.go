package queuecompare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
)

// EventArgs is one event of a contact, Seq its place in the contact's order.
type EventArgs struct {
	Contact string `json:"contact"`
	Seq     int    `json:"seq"`
}

func (EventArgs) Kind() string { return "event" }

// run is what a behaviour test sees of the jobs worked: each attempt's
// outcome, in order.
type run struct {
	mu      sync.Mutex
	log     []string // "c1#1 attempt 1: retry", "c1#2 attempt 1: delivered", …
	done    []EventArgs
	doneSig chan struct{}
}

func (r *run) add(args EventArgs, attempt int, outcome string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, fmt.Sprintf("%s#%d attempt %d: %s", args.Contact, args.Seq, attempt, outcome))
	if outcome == "delivered" {
		r.done = append(r.done, args)
		select {
		case r.doneSig <- struct{}{}:
		default:
		}
	}
}

// eventWorker answers the first attempt of the jobs in firstAnswer as told
// ("retry": a 5xx, retried after 300 ms; "snooze": a 429, snoozed 300 ms)
// and delivers everything else.
type eventWorker struct {
	river.WorkerDefaults[EventArgs]
	run         *run
	firstAnswer map[EventArgs]string
}

func (w *eventWorker) Work(_ context.Context, job *river.Job[EventArgs]) error {
	if job.Attempt == 1 {
		switch w.firstAnswer[job.Args] {
		case "retry":
			w.run.add(job.Args, job.Attempt, "retry")
			return errors.New("503 from the vendor")
		case "snooze":
			var meta struct {
				Snoozes int `json:"snoozes"`
			}
			json.Unmarshal(job.Metadata, &meta)
			if meta.Snoozes == 0 {
				w.run.add(job.Args, job.Attempt, "snooze")
				return river.JobSnooze(300 * time.Millisecond)
			}
		}
	}
	w.run.add(job.Args, job.Attempt, "delivered")
	return nil
}

func (w *eventWorker) NextRetry(*river.Job[EventArgs]) time.Time {
	return time.Now().Add(300 * time.Millisecond)
}

// start inserts jobs (in order, one batch), then starts a client with
// maxWorkers workers and returns what it works.
func start(t *testing.T, be backend, maxWorkers int, jobs []river.InsertManyParams, firstAnswer map[EventArgs]string) *run {
	t.Helper()
	r := &run{doneSig: make(chan struct{}, 1)}
	workers := river.NewWorkers()
	river.AddWorker(workers, &eventWorker{run: r, firstAnswer: firstAnswer})
	c := be.open(t).newClient(t, &river.Config{
		Logger: quiet, Workers: workers, FetchCooldown: time.Millisecond, FetchPollInterval: 10 * time.Millisecond,
		Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: maxWorkers}},
	})
	if _, err := c.InsertMany(t.Context(), jobs); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.Stop(ctx)
	})
	return r
}

// waitFor waits until cond holds of the jobs delivered (10 s at most).
func (r *run) waitFor(t *testing.T, cond func(done []EventArgs) bool) []EventArgs {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		done := slices.Clone(r.done)
		r.mu.Unlock()
		if cond(done) {
			return done
		}
		select {
		case <-r.doneSig:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out; worked so far: %q", r.log)
		}
	}
}

func event(contact string, seq, priority int) river.InsertManyParams {
	return river.InsertManyParams{Args: EventArgs{Contact: contact, Seq: seq}, InsertOpts: &river.InsertOpts{Priority: priority}}
}

// TestRiverBehaviour checks River against the queue-level behaviour the
// delivery engine needs (internal/store/storetest pins it for Signal's
// queue: deliveries_claim.go, Order, OnePerContact and BackOffThenDue).
// Subtests whose names start with "Not" pass when River does NOT have the
// behaviour: they record a gap, not a bug.
func TestRiverBehaviour(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Run("PriorityAheadOfBacklog", func(t *testing.T) {
				// 2,000 low-priority (4) events wait; a high-priority (1)
				// one inserted after them is worked among the first fetch.
				const backlog, maxWorkers = 2000, 10
				var jobs []river.InsertManyParams
				for i := range backlog {
					jobs = append(jobs, event(fmt.Sprintf("low%d", i), 1, 4))
				}
				jobs = append(jobs, event("high", 1, 1))
				r := start(t, be, maxWorkers, jobs, nil)
				done := r.waitFor(t, func(done []EventArgs) bool {
					return slices.ContainsFunc(done, func(a EventArgs) bool { return a.Contact == "high" })
				})
				pos := slices.IndexFunc(done, func(a EventArgs) bool { return a.Contact == "high" })
				t.Logf("the high-priority event was delivered at position %d of %d", pos+1, backlog+1)
				if pos >= maxWorkers {
					t.Fatalf("the high-priority event was delivered after %d of the backlog, want within the first fetch (%d)", pos, maxWorkers)
				}
			})
			for _, answer := range []string{"retry", "snooze"} {
				t.Run("NotContactOrderAcross_"+answer, func(t *testing.T) {
					// c1#1's first attempt fails (retry: a 5xx; snooze: a
					// 429); c1#2, received after it, should wait for it.
					// River works c1#2 meanwhile: it reaches the vendor first.
					// One worker, so that nothing runs concurrently: with
					// more, both are fetched at once and run side by side.
					first, second := EventArgs{"c1", 1}, EventArgs{"c1", 2}
					r := start(t, be, 1, []river.InsertManyParams{event("c1", 1, 2), event("c1", 2, 2)}, map[EventArgs]string{first: answer})
					done := r.waitFor(t, func(done []EventArgs) bool { return len(done) == 2 })
					t.Logf("attempts: %q", r.log)
					if !slices.Equal(done, []EventArgs{second, first}) {
						t.Fatalf("delivered %v: River kept the contact's order (want it to show the gap: %v)", done, []EventArgs{second, first})
					}
					if answer == "snooze" && !slices.Contains(r.log, "c1#1 attempt 1: delivered") {
						t.Fatalf("a snoozed job's next attempt is not still attempt 1: %q", r.log)
					}
				})
			}
		})
	}
}
