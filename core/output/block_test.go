package output

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// appendAsync starts a producer appending seq from..to-1 and returns a
// channel that receives how many were accepted when it stops.
func appendAsync(r *Ring, from, to uint64, size int, stop <-chan struct{}) <-chan uint64 {
	done := make(chan uint64, 1)
	go func() {
		var ok uint64
		for s := from; s < to; s++ {
			if !r.Append(lineEvent(s, size), stop) {
				break
			}
			ok++
		}
		done <- ok
	}()
	return done
}

// assertBlocked checks the producer has not finished after a short while.
func assertBlocked(t *testing.T, done <-chan uint64) {
	t.Helper()
	select {
	case n := <-done:
		t.Fatalf("producer should be blocked, it finished after %d appends", n)
	case <-time.After(50 * time.Millisecond):
	}
}

func waitDone(t *testing.T, done <-chan uint64) uint64 {
	t.Helper()
	select {
	case n := <-done:
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("producer still blocked")
		return 0
	}
}

func TestBlockProducerWaitsForReader(t *testing.T) {
	tests := []struct {
		name string
		cfg  RingConfig
		size int
	}{
		{"full by count", RingConfig{Capacity: 4, MaxBytes: 1 << 20, WhenFull: Block}, 3},
		{"full by bytes", RingConfig{Capacity: 100, MaxBytes: 4 * (10 + EventOverhead), WhenFull: Block}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRing(tt.cfg)
			done := appendAsync(r, 0, 50, tt.size, nil)
			assertBlocked(t, done)
			assert.EqualValues(t, 4, r.Stats().Len, "the ring is full of unread events")

			var got []Event
			var cursor uint64
			for len(got) < 50 {
				evs, next, err := r.Poll(cursor, 3, 1<<20, 10*time.Second, nil)
				require.NoError(t, err)
				got = append(got, evs...)
				cursor = next
			}
			assert.EqualValues(t, 50, waitDone(t, done))
			assert.Equal(t, span(0, 50), seqs(got), "the reader loses nothing, no lagged event")
			st := r.Stats()
			assert.Zero(t, st.Evicted)
			assert.Zero(t, st.Discarded)
		})
	}
}

func TestBlockFurthestReaderRules(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 4, WhenFull: Block})
	fill(t, r, 0, 4, 1)

	// A fast reader takes two; a slow one has read nothing.
	_, fast, err := r.Poll(0, 2, 100, 0, nil)
	require.NoError(t, err)
	fill(t, r, 4, 6, 1) // evicts 0 and 1, read by the fast reader
	done := appendAsync(r, 6, 7, 1, nil)
	assertBlocked(t, done)

	evs, _, err := r.Poll(0, 100, 100, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, []int64{-2, 2, 3, 4, 5}, seqs(evs), "a slower reader may lag in Block mode")
	assert.EqualValues(t, 1, waitDone(t, done), "the slow reader became the furthest")

	evs, _, err = r.Poll(fast, 100, 100, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, []int64{-1, 3, 4, 5, 6}, seqs(evs))
	assert.Zero(t, r.Stats().Evicted)
}

func TestBlockStopDiscards(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 2, WhenFull: Block})
	fill(t, r, 0, 2, 1)
	stop := make(chan struct{})
	done := appendAsync(r, 2, 10, 1, stop)
	assertBlocked(t, done)
	close(stop)
	assert.Zero(t, waitDone(t, done))
	st := r.Stats()
	assert.EqualValues(t, 1, st.Discarded)
	assert.EqualValues(t, 2, st.Len)
}

func TestBlockCloseUnblocks(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 2, WhenFull: Block})
	fill(t, r, 0, 2, 1)
	done := appendAsync(r, 2, 10, 1, nil)
	assertBlocked(t, done)
	r.Close()
	assert.Zero(t, waitDone(t, done))
	assert.EqualValues(t, 1, r.Stats().Discarded)
}

func TestBlockAppendControlNeverBlocks(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 2, WhenFull: Block})
	fill(t, r, 0, 2, 1)

	done := make(chan struct{})
	go func() {
		for range ControlSlack + 1 {
			r.AppendControl(Event{Kind: KindWarning, Data: []byte("w")})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("AppendControl blocked")
	}
	st := r.Stats()
	assert.EqualValues(t, 3+ControlSlack, st.Len, "overflows Capacity and ControlSlack")
	assert.Zero(t, st.Evicted, "and never evicts an unread event")

	evs, _ := pollAll(t, r, 0)
	require.Len(t, evs, 3+ControlSlack)
	assert.Equal(t, KindLine, evs[0].Kind, "the unread lines are still there")
	assert.Equal(t, KindLine, evs[1].Kind)
}

func TestBlockWaitControlRoom(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 2, WhenFull: Block})
	fill(t, r, 0, 2, 1)
	assert.True(t, r.WaitControlRoom(nil), "room left: no wait")
	for range ControlSlack - controlReserve + 1 {
		r.AppendControl(Event{Kind: KindFinished})
	}

	stop := make(chan struct{})
	close(stop)
	assert.False(t, r.WaitControlRoom(stop), "no room, stop closed")

	done := make(chan bool, 1)
	go func() { done <- r.WaitControlRoom(nil) }()
	select {
	case <-done:
		t.Fatal("WaitControlRoom returned while the reader has not read")
	case <-time.After(50 * time.Millisecond):
	}
	_, _, err := r.Poll(0, 1, 100, 0, nil) // one read event is room
	require.NoError(t, err)
	select {
	case ok := <-done:
		assert.True(t, ok)
	case <-time.After(10 * time.Second):
		t.Fatal("WaitControlRoom still waits after the reader read")
	}

	d := NewRing(RingConfig{Capacity: 1})
	fill(t, d, 0, 1, 1)
	for range ControlSlack {
		d.AppendControl(Event{Kind: KindFinished})
	}
	assert.True(t, d.WaitControlRoom(nil), "DropOldest never waits")
}

func TestBlockAppendControlEvictsReadEventsFirst(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 3, WhenFull: Block})
	fill(t, r, 0, 3, 1)
	_, _, err := r.Poll(0, 1, 100, 0, nil) // event 0 read
	require.NoError(t, err)
	r.AppendControl(Event{Kind: KindStarted})
	st := r.Stats()
	assert.EqualValues(t, 3, st.Len, "a read event made room")
	assert.Zero(t, st.Evicted)
	r.AppendControl(Event{Kind: KindFinished})
	st = r.Stats()
	assert.EqualValues(t, 4, st.Len, "no read event left: overflow instead")
	assert.Zero(t, st.Evicted)
}
