package storetest

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

func exerciseEvents(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()

	type testBundle struct {
		ctx   context.Context
		now   time.Time
		store store.Store
	}

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		return &testBundle{ctx: t.Context(), now: testNow(), store: newStore(t)}
	}

	listAll := func(t *testing.T, bundle *testBundle) []signal.Event {
		t.Helper()
		events, err := bundle.store.ListEvents(bundle.ctx, store.ListEventsParams{Limit: 1000})
		requireNoError(t, err)
		return events
	}

	t.Run("AppendEventsAssignsIncreasingSeq", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		first := seedEvents(bundle.ctx, t, bundle.store, bundle.now, 3)
		second := seedEvents(bundle.ctx, t, bundle.store, bundle.now, 2)
		var last int64
		for i, e := range append(first, second...) {
			if e.Seq <= last {
				t.Fatalf("event %d: Seq = %d, want > %d", i, e.Seq, last)
			}
			last = e.Seq
		}
	})

	t.Run("AppendEventsEmpty", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		requireNoError(t, bundle.store.AppendEvents(bundle.ctx, store.AppendEventsParams{}))
		if events := listAll(t, bundle); len(events) != 0 {
			t.Fatalf("ListEvents = %d events, want 0", len(events))
		}
	})

	t.Run("ListEventsRoundTrip", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		in := newEvent(bundle.now)
		in.PipelineID, in.Type, in.Event = "pip_web", signal.TypePage, "Home"
		in.Payload = []byte(`{"type":"page","name":"Home","properties":{"url":"https://shop.example/","n":1.5}}`)
		appendEvents(bundle.ctx, t, bundle.store, in)

		events := listAll(t, bundle)
		if len(events) != 1 {
			t.Fatalf("ListEvents = %d events, want 1", len(events))
		}
		got := events[0]
		if got.Seq != in.Seq || got.MessageID != in.MessageID || got.PipelineID != in.PipelineID ||
			got.Type != in.Type || got.Event != in.Event {
			t.Fatalf("ListEvents = %+v, want %+v", got, *in)
		}
		requireTime(t, "Timestamp", got.Timestamp, in.Timestamp)
		requireTime(t, "ReceivedAt", got.ReceivedAt, in.ReceivedAt)
		requireJSON(t, "Payload", got.Payload, in.Payload)
	})

	t.Run("TrustRoundTrip", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		tests := []struct{ in, want string }{
			{signal.TrustSigned, signal.TrustSigned},
			{signal.TrustServer, signal.TrustServer},
			{signal.TrustBrowser, signal.TrustBrowser},
			{"", signal.TrustBrowser}, // unset reads as the least trusted
		}
		for _, tt := range tests {
			e := newEvent(bundle.now)
			e.Trust = tt.in
			appendEvents(bundle.ctx, t, bundle.store, e)
		}
		events := listAll(t, bundle)
		if len(events) != len(tests) {
			t.Fatalf("ListEvents = %d events, want %d", len(events), len(tests))
		}
		for i, tt := range tests {
			if events[i].Trust != tt.want {
				t.Errorf("event %d stored with trust %q reads %q, want %q", i, tt.in, events[i].Trust, tt.want)
			}
		}
	})

	t.Run("ListEventsStopsAtMaxBytes", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		const size = 200 // every payload padded to it
		evs := make([]*signal.Event, 5)
		for i := range evs {
			evs[i] = newEvent(bundle.now)
			head := `{"type":"track","messageId":"` + evs[i].MessageID + `","pad":"`
			evs[i].Payload = json.RawMessage(head + strings.Repeat("x", size-len(head)-2) + `"}`)
		}
		want := appendEvents(bundle.ctx, t, bundle.store, evs...)
		tests := []struct {
			maxBytes, want int
		}{
			{0, 5},          // no bound
			{1, 1},          // at least one event
			{size, 1},       // the event that reaches the bound is included
			{2*size + 1, 3}, // ... and nothing after it
			{100 * size, 5}, // the count bounds first
		}
		for _, tt := range tests {
			got, err := bundle.store.ListEvents(bundle.ctx, store.ListEventsParams{Limit: 10, MaxBytes: tt.maxBytes})
			requireNoError(t, err)
			if len(got) != tt.want {
				t.Fatalf("MaxBytes %d (events of %d bytes): %d events, want %d", tt.maxBytes, size, len(got), tt.want)
			}
			for i := range got {
				if got[i].Seq != want[i].Seq {
					t.Fatalf("MaxBytes %d: event %d is seq %d, want %d", tt.maxBytes, i, got[i].Seq, want[i].Seq)
				}
			}
		}
	})

	t.Run("ListEventsPaging", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		want := seedEvents(bundle.ctx, t, bundle.store, bundle.now, 10)
		var (
			got   []signal.Event
			after int64
		)
		for pages := 0; ; pages++ {
			if pages > len(want) {
				t.Fatal("ListEvents paging never ends")
			}
			page, err := bundle.store.ListEvents(bundle.ctx, store.ListEventsParams{AfterSeq: after, Limit: 3})
			requireNoError(t, err)
			if len(page) > 3 {
				t.Fatalf("page of %d events, limit 3", len(page))
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1].Seq
		}
		if len(got) != len(want) {
			t.Fatalf("paged %d events, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i].Seq != want[i].Seq || got[i].MessageID != want[i].MessageID {
				t.Fatalf("event %d = seq %d %s, want seq %d %s", i, got[i].Seq, got[i].MessageID, want[i].Seq, want[i].MessageID)
			}
		}

		// AfterSeq in the middle of the log.
		rest, err := bundle.store.ListEvents(bundle.ctx, store.ListEventsParams{AfterSeq: want[6].Seq, Limit: 100})
		requireNoError(t, err)
		if len(rest) != 3 || rest[0].Seq != want[7].Seq {
			t.Fatalf("ListEvents after seq %d = %d events, want the last 3", want[6].Seq, len(rest))
		}
	})

	t.Run("AppendEventsConcurrent", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		const callers = 50
		var (
			wg     sync.WaitGroup
			errs   = make([]error, callers)
			events = make([]*signal.Event, callers)
		)
		for i := range callers {
			events[i] = newEvent(bundle.now)
			wg.Go(func() {
				errs[i] = bundle.store.AppendEvents(bundle.ctx, store.AppendEventsParams{Events: []*signal.Event{events[i]}})
			})
		}
		wg.Wait()

		bySeq := map[int64]string{}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("caller %d: AppendEvents: %v", i, err)
			}
			if other, dup := bySeq[events[i].Seq]; dup {
				t.Fatalf("seq %d given to %s and %s", events[i].Seq, other, events[i].MessageID)
			}
			bySeq[events[i].Seq] = events[i].MessageID
		}
		listed := listAll(t, bundle)
		if len(listed) != callers {
			t.Fatalf("ListEvents = %d events, want %d", len(listed), callers)
		}
		for i, e := range listed {
			if i > 0 && e.Seq <= listed[i-1].Seq {
				t.Fatalf("ListEvents not in seq order: %d after %d", e.Seq, listed[i-1].Seq)
			}
			if bySeq[e.Seq] != e.MessageID {
				t.Fatalf("seq %d lists %s, AppendEvents gave it to %s", e.Seq, e.MessageID, bySeq[e.Seq])
			}
		}
	})

	t.Run("CursorStartsAtZero", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		for _, name := range []string{processorCursor, "unknown"} {
			seq, err := bundle.store.Cursor(bundle.ctx, store.CursorParams{Name: name})
			requireNoError(t, err)
			if seq != 0 {
				t.Fatalf("Cursor(%q) = %d, want 0", name, seq)
			}
		}
	})

	t.Run("CursorMovesWithRecordProcessed", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		events := seedEvents(bundle.ctx, t, bundle.store, bundle.now, 5)
		for _, step := range []struct {
			upTo, want int64
		}{
			{upTo: events[2].Seq, want: events[2].Seq},
			{upTo: events[4].Seq, want: events[4].Seq},
			{upTo: events[1].Seq, want: events[4].Seq}, // never backwards
		} {
			requireNoError(t, bundle.store.RecordProcessed(bundle.ctx, store.RecordProcessedParams{UpToSeq: step.upTo, Now: bundle.now}))
			seq, err := bundle.store.Cursor(bundle.ctx, store.CursorParams{Name: processorCursor})
			requireNoError(t, err)
			if seq != step.want {
				t.Fatalf("after RecordProcessed up to %d: Cursor = %d, want %d", step.upTo, seq, step.want)
			}
		}
		seq, err := bundle.store.Cursor(bundle.ctx, store.CursorParams{Name: "unknown"})
		requireNoError(t, err)
		if seq != 0 {
			t.Fatalf(`Cursor("unknown") = %d, want 0`, seq)
		}
	})

	t.Run("RecordProcessedFromStaleCursorConflicts", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		events := seedEvents(bundle.ctx, t, bundle.store, bundle.now, 4)
		var zero int64
		// Two processors read the log at cursor 0; the first records.
		requireNoError(t, bundle.store.RecordProcessed(bundle.ctx, store.RecordProcessedParams{
			FromSeq: &zero, UpToSeq: events[1].Seq, Deliveries: []*signal.Delivery{pendingDelivery(events[0], "int_a")}, Now: bundle.now,
		}))
		// The second lost the race: nothing it built is written.
		err := bundle.store.RecordProcessed(bundle.ctx, store.RecordProcessedParams{
			FromSeq: &zero, UpToSeq: events[3].Seq, Deliveries: []*signal.Delivery{pendingDelivery(events[2], "int_a")}, Now: bundle.now,
		})
		requireCode(t, err, signal.ECONFLICT)
		seq, err := bundle.store.Cursor(bundle.ctx, store.CursorParams{Name: processorCursor})
		requireNoError(t, err)
		if seq != events[1].Seq {
			t.Fatalf("Cursor = %d after a conflicting record, want %d", seq, events[1].Seq)
		}
		if rows := liveEvents(bundle.ctx, t, bundle.store, store.ListLiveEventsParams{IntegrationID: "int_a", Limit: 100}); len(rows) != 1 {
			t.Fatalf("%d deliveries stored, want only the winner's 1", len(rows))
		}
		// From the cursor as it now is, the second succeeds.
		from := events[1].Seq
		requireNoError(t, bundle.store.RecordProcessed(bundle.ctx, store.RecordProcessedParams{
			FromSeq: &from, UpToSeq: events[3].Seq, Deliveries: []*signal.Delivery{pendingDelivery(events[2], "int_a")}, Now: bundle.now,
		}))
	})

	t.Run("AppendEventsAfterClose", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		requireNoError(t, bundle.store.Close())
		for i := range 20 { // the SQLite bug this pins was a coin toss
			done := make(chan error, 1)
			go func() {
				done <- bundle.store.AppendEvents(bundle.ctx, store.AppendEventsParams{Events: []*signal.Event{newEvent(bundle.now)}})
			}()
			select {
			case err := <-done:
				if err == nil {
					t.Fatalf("call %d: AppendEvents after Close succeeded", i)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("call %d: AppendEvents after Close hangs", i)
			}
		}
	})
}
