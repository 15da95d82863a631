package delivery

import (
	"math/rand/v2"
	"time"
)

// Backoff is the retry schedule of transient failures: exponential with
// full jitter, capped, for up to Horizon after a delivery's first transient
// failure (Engine.apply).
type Backoff struct {
	Base    time.Duration
	Max     time.Duration
	Horizon time.Duration
}

// DefaultBackoff retries after about 4 s, 8 s, 16 s… up to 30 min apart,
// for 24 hours.
func DefaultBackoff() Backoff {
	return Backoff{Base: 4 * time.Second, Max: 30 * time.Minute, Horizon: 24 * time.Hour}
}

// Next returns the delay before attempt number attempts+1, after attempts
// failed ones: a random duration in [d/2, d] with d = Base·2^(attempts-1),
// capped at Max.
func (b Backoff) Next(attempts int) time.Duration {
	d := b.Base
	for i := 1; i < attempts && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}
