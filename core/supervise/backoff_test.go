package supervise

import (
	"math"
	"testing"
	"time"

	"github.com/solti-exec/solti-exec/core/model"
	"github.com/stretchr/testify/assert"
)

func fixed(v float64) Rand { return func() float64 { return v } }

func policy(j string) model.BackoffPolicy {
	return model.BackoffPolicy{Jitter: model.Jitter(j), FirstMs: 100, MaxMs: 1000, Factor: 2.0}
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestBackoffSequences(t *testing.T) {
	cases := []struct {
		jitter string
		rand   float64
		want   []time.Duration
	}{
		// base: 100 200 400 800 1000(capped) 1000
		{"none", 0.5, []time.Duration{ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000)}},
		{"full", 0.5, []time.Duration{ms(50), ms(100), ms(200), ms(400), ms(500), ms(500)}},
		{"full", 0, []time.Duration{0, 0, 0, 0, 0, 0}},
		{"equal", 0.5, []time.Duration{ms(75), ms(150), ms(300), ms(600), ms(750), ms(750)}},
		{"equal", 0, []time.Duration{ms(50), ms(100), ms(200), ms(400), ms(500), ms(500)}},
		// decorrelated: first + r*(min(3d, max) - first)
		{"decorrelated", 0.5, []time.Duration{ms(200), ms(350), ms(550), ms(550), ms(550), ms(550)}},
		{"decorrelated", 0, []time.Duration{ms(100), ms(100), ms(100), ms(100), ms(100), ms(100)}},
	}
	for _, c := range cases {
		b := NewBackoff(policy(c.jitter), fixed(c.rand))
		var got []time.Duration
		for range c.want {
			got = append(got, b.Next())
		}
		assert.Equal(t, c.want, got, "%s r=%v", c.jitter, c.rand)
	}
}

func TestBackoffBoundsWithRealRandomness(t *testing.T) {
	for _, j := range []string{"none", "full", "equal", "decorrelated"} {
		b := NewBackoff(policy(j), func() float64 { return 0.999999 })
		for i := 0; i < 50; i++ {
			d := b.Next()
			assert.GreaterOrEqual(t, d, time.Duration(0), j)
			assert.LessOrEqual(t, d, ms(1000), "%s step %d capped at maxMs", j, i)
		}
	}
}

func TestBackoffResetAfterSuccess(t *testing.T) {
	b := NewBackoff(policy("none"), fixed(0))
	b.Next()
	b.Next()
	assert.Equal(t, ms(400), b.Next())
	b.Reset()
	assert.Equal(t, ms(100), b.Next())
}

func TestBackoffHugeFactorStaysCapped(t *testing.T) {
	b := NewBackoff(model.BackoffPolicy{Jitter: "none", FirstMs: 1, MaxMs: 5000, Factor: 1e300}, fixed(0))
	for i := 0; i < 10; i++ {
		assert.LessOrEqual(t, b.Next(), ms(5000))
	}
}

// Huge delays saturate at time.Duration's maximum instead of wrapping to a
// negative (immediate) delay, for every jitter.
func TestHugeDelaysSaturate(t *testing.T) {
	for _, j := range []model.Jitter{model.JitterNone, model.JitterFull, model.JitterEqual, model.JitterDecorrelated} {
		p := model.BackoffPolicy{Jitter: j, FirstMs: 1e13, MaxMs: math.MaxUint64, Factor: 2}
		b := NewBackoff(p, func() float64 { return 0.5 })
		for i := 0; i < 3; i++ {
			d := b.Next()
			assert.Greater(t, d, time.Duration(1e12), "jitter %s step %d: %v", j, i, d)
		}
	}
}
