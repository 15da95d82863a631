package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// exerciseReplayGuards: a signed request's events commit at most once per
// replay key, atomically, while the key lives; other appends in the same
// group commit are unaffected.
func exerciseReplayGuards(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	count := func(t *testing.T, s store.Store) int {
		t.Helper()
		events, err := s.ListEvents(t.Context(), store.ListEventsParams{Limit: 1000})
		requireNoError(t, err)
		return len(events)
	}
	guarded := func(s store.Store, key string, expires time.Time, n int) error {
		events := make([]*signal.Event, n)
		for i := range events {
			events[i] = newEvent(testNow())
		}
		return s.AppendEvents(t.Context(), store.AppendEventsParams{Events: events, Replay: &store.ReplayGuard{Key: key, Expires: expires}})
	}
	live := time.Now().Add(10 * time.Minute)

	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"RepeatStoresNothing", func(t *testing.T, s store.Store) {
			requireNoError(t, guarded(s, "k1", live, 2))
			if err := guarded(s, "k1", live, 2); !errors.Is(err, store.ErrReplayed) {
				t.Fatalf("second append with the key: %v, want ErrReplayed", err)
			}
			requireNoError(t, guarded(s, "k2", live, 1))
			if n := count(t, s); n != 3 {
				t.Fatalf("%d events stored, want 3", n)
			}
		}},
		{"ExpiredKeyAcceptedAgain", func(t *testing.T, s store.Store) {
			requireNoError(t, guarded(s, "k1", time.Now().Add(-time.Minute), 1))
			requireNoError(t, guarded(s, "k1", live, 1))
			if n := count(t, s); n != 2 {
				t.Fatalf("%d events stored, want 2", n)
			}
		}},
		{"ConcurrentReplaysFailAloneInTheirGroup", func(t *testing.T, s store.Store) {
			var (
				wg       sync.WaitGroup
				mu       sync.Mutex
				replayed int
			)
			for i := range 30 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var err error
					switch i % 3 {
					case 0: // ten requests with the same key
						err = guarded(s, "same", live, 1)
					case 1:
						err = guarded(s, fmt.Sprintf("own-%d", i), live, 1)
					default:
						err = s.AppendEvents(t.Context(), store.AppendEventsParams{Events: []*signal.Event{newEvent(testNow())}})
					}
					mu.Lock()
					defer mu.Unlock()
					switch {
					case errors.Is(err, store.ErrReplayed) && i%3 == 0:
						replayed++
					case err != nil:
						t.Errorf("append %d: %v", i, err)
					}
				}()
			}
			wg.Wait()
			if replayed != 9 {
				t.Fatalf("%d of 10 requests with one key refused as replays, want 9", replayed)
			}
			if n := count(t, s); n != 21 {
				t.Fatalf("%d events stored, want 21", n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newStore(t))
		})
	}
}
