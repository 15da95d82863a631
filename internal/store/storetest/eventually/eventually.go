// Package eventually is the store tests' one way to wait for something the
// code under test does in the background: poll an observable condition (a
// counter, a queue length) until it holds, instead of sleeping and hoping.
// It imports only the standard library, so any store package's own tests
// may use it.
package eventually

import (
	"testing"
	"time"
)

// True polls cond every millisecond until it holds, and fails tb naming
// what it waited for if that takes longer than within.
func True(tb testing.TB, within time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("after %s, still waiting for %s", within, what)
		}
		time.Sleep(time.Millisecond)
	}
}
