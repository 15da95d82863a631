package main

import (
	"context"
	"testing"
)

type countingReleaser struct{ calls int }

func (c *countingReleaser) ReleaseLeases(context.Context) error {
	c.calls++
	return nil
}

// TestReleaseLeasesAtStartOnce pins who frees leases at start-up: serve,
// once, for the embedded database, before anything claims (the engine and
// the backfills no longer do it themselves: two calls racing their first
// claims freed rows already claimed); never on PostgreSQL, where other
// nodes' leases are live.
func TestReleaseLeasesAtStartOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		databaseURL string
		want        int
	}{
		{"sqlite", "", 1},
		{"postgres", "postgres://db/signal", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var st countingReleaser
			if err := releaseLeasesAtStart(t.Context(), &config{DatabaseURL: tc.databaseURL}, &st); err != nil {
				t.Fatal(err)
			}
			if st.calls != tc.want {
				t.Fatalf("ReleaseLeases called %d times, want %d", st.calls, tc.want)
			}
		})
	}
}
