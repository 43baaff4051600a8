package output

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Block mode protects the reader furthest ahead, and only it: with two
// readers, the one ahead gets every line of 200,000; the one behind gets a
// LAGGED event for what it missed, and lines plus missed add up.
func TestBlockProtectsTheFurthestReader(t *testing.T) {
	const total = 200_000
	r := NewRing(RingConfig{Capacity: 1024, WhenFull: Block})
	done := appendAsync(r, 0, total, 8, nil)

	var ahead, behind uint64
	var aheadLines, aheadLagged uint64
	var behindLines, behindMissed uint64
	for ahead < total {
		evs, next, err := r.Poll(ahead, 1024, 1<<20, 10*time.Second, nil)
		require.NoError(t, err)
		for _, e := range evs {
			if e.Kind == KindLagged {
				aheadLagged++
				continue
			}
			require.Equal(t, aheadLines, e.Seq, "the reader ahead gets every line in order")
			aheadLines++
		}
		ahead = next
		// The other reader takes one event at a time and never passes the
		// first, so it stays behind.
		if behind < ahead {
			evs, next, err := r.Poll(behind, 1, 1<<20, 0, nil)
			require.NoError(t, err)
			for _, e := range evs {
				if e.Kind == KindLagged {
					behindMissed += uint64(e.Value)
				} else {
					behindLines++
				}
			}
			behind = next
			require.LessOrEqual(t, behind, ahead)
		}
	}
	assert.EqualValues(t, total, waitDone(t, done))
	assert.EqualValues(t, total, aheadLines)
	assert.Zero(t, aheadLagged)
	assert.Equal(t, behind, behindLines+behindMissed, "the reader behind is told what it missed")
	assert.NotZero(t, behindMissed, "the reader behind is not protected")
}
