package output

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

// A flood of empty lines has no line bytes, yet each kept event costs its
// struct: MaxBytes must bound that too, whatever Capacity allows.
func TestMaxBytesBoundsEmptyLines(t *testing.T) {
	for _, mode := range []WhenFull{DropOldest, Block} {
		const maxBytes = 64 << 10
		r := NewRing(RingConfig{Capacity: 1 << 20, MaxBytes: maxBytes, WhenFull: mode})
		var cursor uint64
		for i := range 100_000 {
			if !r.Append(Event{Kind: KindLine, Stream: Stdout, Seq: uint64(i)}, nil) {
				t.Fatalf("append %d refused", i)
			}
			if mode == Block && i%100 == 0 {
				_, cursor, _ = r.Poll(cursor, 1<<20, 0, 0, nil) // keep the producer going
			}
		}
		st := r.Stats()
		held := st.Len * uint64(unsafe.Sizeof(Event{}))
		assert.LessOrEqual(t, held, uint64(maxBytes), "%v: the kept events' memory is within MaxBytes", mode)
		assert.GreaterOrEqual(t, st.Bytes, held, "%v: the accounted bytes count each event's struct", mode)
		assert.LessOrEqual(t, st.Bytes, uint64(maxBytes), "%v", mode)
	}
}

// The documented overhead covers the struct each kept event really costs.
func TestEventOverheadCoversTheEvent(t *testing.T) {
	assert.GreaterOrEqual(t, EventOverhead, int(unsafe.Sizeof(Event{})))
}
