package main

import (
	"context"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/store"
)

func TestIngestActivity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		marked time.Duration // when the last mark was, -1: never
		now    time.Duration
		want   bool
	}{
		{"never marked", -1, time.Second, false},
		{"marked at start, just after", 0, time.Millisecond, true},
		{"marked just now", 5 * time.Second, 5*time.Second + time.Millisecond, true},
		{"the quiet time passed", 5 * time.Second, 5*time.Second + ingestQuiet, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newIngestActivity()
			if tt.marked >= 0 {
				a.last.Store(int64(tt.marked) + 1)
			}
			if got := a.activeAt(tt.now); got != tt.want {
				t.Fatalf("activeAt(%v) = %v, want %v", tt.now, got, tt.want)
			}
		})
	}
}

// blockingAppender holds an append until released, saying when it began.
type blockingAppender struct {
	began   chan struct{}
	release chan struct{}
}

func (b blockingAppender) AppendEvents(context.Context, store.AppendEventsParams) error {
	close(b.began)
	<-b.release
	return nil
}

// TestMarkingAppenderMarksBeforeTheCommit: an append still waiting for the
// writer (behind a long pass) already counts as activity.
func TestMarkingAppenderMarksBeforeTheCommit(t *testing.T) {
	t.Parallel()
	a := newIngestActivity()
	b := blockingAppender{began: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		done <- markingAppender{EventAppender: b, activity: a}.AppendEvents(t.Context(), store.AppendEventsParams{})
	}()
	<-b.began
	if a.last.Load() == 0 {
		t.Fatal("an append in progress left the activity unmarked")
	}
	close(b.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
