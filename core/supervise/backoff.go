package supervise

import (
	"math"
	"time"

	"github.com/solti-exec/solti-exec/core/model"
)

// Rand returns a uniform float64 in [0, 1). math/rand/v2's Float64 fits.
type Rand func() float64

// Backoff computes restart delays: first * factor^n capped at max, then jitter.
// prev is kept for decorrelated jitter. The zero value is not usable: use
// NewBackoff.
type Backoff struct {
	policy model.BackoffPolicy
	rand   Rand
	n      int
	prev   time.Duration
}

// NewBackoff starts a backoff sequence at n = 0.
func NewBackoff(p model.BackoffPolicy, r Rand) *Backoff {
	return &Backoff{policy: p, rand: r}
}

// Reset starts the sequence again; a success does this.
func (b *Backoff) Reset() { b.n, b.prev = 0, 0 }

// Base is the delay before jitter for step n: first * factor^n, capped at max.
func (b *Backoff) Base(n int) time.Duration {
	first := float64(b.policy.FirstMs)
	maxMs := float64(b.policy.MaxMs)
	d := first * math.Pow(b.policy.Factor, float64(n))
	if math.IsInf(d, 0) || math.IsNaN(d) || d > maxMs {
		d = maxMs
	}
	return saturate(d * float64(time.Millisecond))
}

// Next returns the delay before the next attempt and advances the sequence.
func (b *Backoff) Next() time.Duration {
	d := b.Base(b.n)
	if b.n < 1<<20 { // factor^n is capped anyway; keep n bounded
		b.n++
	}
	var out time.Duration
	switch b.policy.Jitter {
	case "none":
		out = d
	case "equal":
		out = d/2 + b.uniform(d/2)
	case "decorrelated":
		first, maxD := b.policy.First(), b.policy.Max()
		hi := 3 * d
		if d > maxD/3 { // also keeps 3*d from wrapping
			hi = maxD
		}
		out = first + b.uniform(hi-first)
	default: // "full", the default policy
		out = b.uniform(d)
	}
	b.prev = out
	return out
}

// saturate converts nanoseconds to a Duration, clamping at its maximum: a
// float beyond int64's range converts to an unspecified value (on amd64 the
// most negative one, an immediate restart).
func saturate(ns float64) time.Duration {
	if ns >= math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(ns)
}

// uniform returns a duration in [0, d].
func (b *Backoff) uniform(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(b.rand() * float64(d))
}
