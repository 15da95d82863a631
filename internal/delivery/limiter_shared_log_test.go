package delivery

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/store"
)

// downBudgetStore is a shared-budget database that is down.
type downBudgetStore struct{}

var errDown = errors.New("connection refused")

func (downBudgetStore) TakeRateBudget(context.Context, store.TakeRateBudgetParams) (*store.RateBudget, error) {
	return nil, errDown
}
func (downBudgetStore) GiveBackRateBudget(context.Context, store.GiveBackRateBudgetParams) error {
	return errDown
}
func (downBudgetStore) ObserveRateBudget(context.Context, store.ObserveRateBudgetParams) (*store.RateBudget, error) {
	return nil, errDown
}

// While the shared budget's database is down every round fails; the log
// gets a line per key every errLogEvery, counting the failures between,
// and the node grants itself nothing (it never spends an unshared budget).
func TestSharedBudgetDownLogsSparingly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		rounds    int
		every     time.Duration
		wantLines int
	}{
		{"a burst of failures", 200, 10 * time.Millisecond, 1},
		{"failures over 25 s", 50, 500 * time.Millisecond, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			now := time.Unix(1_800_000_000, 0)
			b := &sharedBudget{local: newKeyLimiter(400), key: "kh_down", st: downBudgetStore{},
				log: slog.New(slog.NewTextHandler(&buf, nil)), now: func() time.Time { return now }}
			for range tc.rounds {
				if got, _ := b.reserve(now, 1); got != 0 {
					t.Fatalf("reserve granted %d with the shared budget down", got)
				}
				now = now.Add(tc.every)
			}
			lines := strings.Count(buf.String(), "take from the shared rate budget")
			if lines != tc.wantLines {
				t.Fatalf("%d log lines for %d failures, want %d:\n%s", lines, tc.rounds, tc.wantLines, buf.String())
			}
			if tc.wantLines > 1 && !strings.Contains(buf.String(), "failures_not_logged=19") {
				t.Fatalf("the second line does not count the failures in between:\n%s", buf.String())
			}
		})
	}
}
