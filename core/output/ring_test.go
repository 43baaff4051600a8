package output

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lineEvent returns a stdout line event whose Seq is seq and Data its decimal
// text padded to size bytes (at least the digits).
func lineEvent(seq uint64, size int) Event {
	data := []byte(strconv.FormatUint(seq, 10))
	for len(data) < size {
		data = append(data, '.')
	}
	return Event{Kind: KindLine, Attempt: 1, Stream: Stdout, Seq: seq, TsMs: 1, Data: data}
}

// fill appends events seq from..to-1 of the given size and requires success.
func fill(t testing.TB, r *Ring, from, to uint64, size int) {
	t.Helper()
	for s := from; s < to; s++ {
		require.True(t, r.Append(lineEvent(s, size), nil), "append %d", s)
	}
}

// seqs returns the Seq of each line event, and -Value for lagged events so a
// batch reads as one slice in assertions.
func seqs(evs []Event) []int64 {
	out := make([]int64, len(evs))
	for i, ev := range evs {
		if ev.Kind == KindLagged {
			out[i] = -ev.Value
			continue
		}
		out[i] = int64(ev.Seq)
	}
	return out
}

func span(from, to int64) []int64 {
	var out []int64
	for s := from; s < to; s++ {
		out = append(out, s)
	}
	return out
}

// pollAll reads with timeout 0 until caught up.
func pollAll(t testing.TB, r *Ring, cursor uint64) ([]Event, uint64) {
	t.Helper()
	var all []Event
	for {
		evs, next, err := r.Poll(cursor, 1000, 1<<30, 0, nil)
		require.NoError(t, err)
		cursor = next
		if len(evs) == 0 {
			return all, cursor
		}
		all = append(all, evs...)
	}
}

func TestRingBounds(t *testing.T) {
	const o = EventOverhead
	tests := []struct {
		name        string
		cfg         RingConfig
		appends     uint64
		size        int
		wantLen     uint64
		wantBytes   int
		wantEvicted uint64
	}{
		// Each event counts its Data plus EventOverhead (o).
		{"by count", RingConfig{Capacity: 4, MaxBytes: 1 << 20}, 10, 5, 4, 4 * (5 + o), 6},
		{"by bytes", RingConfig{Capacity: 100, MaxBytes: 5 * (10 + o)}, 10, 10, 5, 5 * (10 + o), 5},
		{"by bytes, not a multiple", RingConfig{Capacity: 100, MaxBytes: 4*(10+o) + 5}, 10, 10, 4, 4 * (10 + o), 6},
		{"an event bigger than MaxBytes is kept alone", RingConfig{Capacity: 100, MaxBytes: 8}, 3, 20, 1, 20 + o, 2},
		{"under both limits", RingConfig{Capacity: 100, MaxBytes: 10 * (10 + o)}, 10, 10, 10, 10 * (10 + o), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRing(tt.cfg)
			fill(t, r, 0, tt.appends, tt.size)
			st := r.Stats()
			assert.Equal(t, tt.wantLen, st.Len)
			assert.EqualValues(t, tt.wantBytes, st.Bytes)
			assert.Equal(t, tt.appends, st.Appended)
			assert.Equal(t, tt.appends, st.Head)
			assert.Equal(t, tt.wantEvicted, st.Evicted, "nobody read them")

			evs, next, err := r.Poll(0, 1000, 1<<20, 0, nil)
			require.NoError(t, err)
			assert.Equal(t, tt.appends, next)
			want := span(int64(tt.appends-tt.wantLen), int64(tt.appends))
			if tt.wantEvicted > 0 {
				want = append([]int64{-int64(tt.wantEvicted)}, want...)
			}
			assert.Equal(t, want, seqs(evs))
		})
	}
}

func TestRingGrowsLazily(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 1000})
	assert.Empty(t, r.slots, "an idle ring allocates no slots")
	fill(t, r, 0, 1, 1)
	assert.Len(t, r.slots, firstSlots)
	fill(t, r, 1, 9, 1)
	assert.Len(t, r.slots, 2*firstSlots)
	fill(t, r, 9, 5000, 1)
	assert.Len(t, r.slots, 1000, "growth stops at Capacity")

	// Growing while wrapped keeps order: byte evictions move the oldest
	// slot before the buffer is full, then smaller events need more slots.
	maxBytes := 15 * (2 + EventOverhead) // 15 events of 2 bytes
	big := maxBytes/6 - EventOverhead    // 6 events of big bytes
	r = NewRing(RingConfig{Capacity: 100, MaxBytes: maxBytes})
	fill(t, r, 0, 20, big) // 6 kept in 8 slots, wrapped
	require.Len(t, r.slots, firstSlots)
	require.NotZero(t, r.first)
	fill(t, r, 20, 40, 2) // 15 kept
	assert.Len(t, r.slots, 2*firstSlots)
	evs, _ := pollAll(t, r, 0)
	assert.Equal(t, append([]int64{-25}, span(25, 40)...), seqs(evs))
}

func TestRingDefaults(t *testing.T) {
	r := NewRing(RingConfig{WhenFull: WhenFull(7)})
	assert.Equal(t, DefaultCapacity, r.capacity)
	assert.Equal(t, DefaultMaxBytes, r.maxBytes)
	assert.Equal(t, DropOldest, r.whenFull, "an unknown policy is the default")
}

func TestRingIndependentReaders(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 100})
	fill(t, r, 0, 10, 3)

	a, curA, err := r.Poll(0, 4, 1<<20, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, span(0, 4), seqs(a))
	assert.EqualValues(t, 4, curA)

	b, curB, err := r.Poll(0, 1000, 1<<20, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, span(0, 10), seqs(b), "a second reader starts from the beginning")
	assert.EqualValues(t, 10, curB)

	a, curA, err = r.Poll(curA, 1000, 1<<20, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, span(4, 10), seqs(a), "the first reader continues where it was")

	fill(t, r, 10, 12, 3)
	a, _, err = r.Poll(curA, 1000, 1<<20, 0, nil)
	require.NoError(t, err)
	b, _, err = r.Poll(curB, 1000, 1<<20, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, seqs(a), seqs(b))
	assert.Equal(t, span(10, 12), seqs(a))
}

func TestRingLaggedReader(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 5})
	fill(t, r, 0, 3, 1)
	_, cursor, err := r.Poll(0, 2, 1<<20, 0, nil)
	require.NoError(t, err)
	require.EqualValues(t, 2, cursor)

	r.AppendControl(Event{Kind: KindStarted, Attempt: 2, Value: 1234})
	fill(t, r, 4, 20, 1) // head 20, oldest 15

	before := time.Now().UnixMilli()
	evs, next, err := r.Poll(cursor, 3, 1<<20, 0, nil)
	require.NoError(t, err)
	require.Len(t, evs, 3, "the lagged event counts towards maxEvents")
	lag := evs[0]
	assert.Equal(t, KindLagged, lag.Kind)
	assert.EqualValues(t, 13, lag.Value, "events 2..14 were missed")
	assert.GreaterOrEqual(t, lag.TsMs, before)
	assert.EqualValues(t, 1, lag.Attempt, "attempt of the oldest kept event")
	assert.Equal(t, []int64{-13, 15, 16}, seqs(evs), "continues from the oldest kept")
	assert.EqualValues(t, 17, next)

	evs, next, err = r.Poll(next, 100, 1<<20, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, span(17, 20), seqs(evs), "one lagged event only")
	assert.EqualValues(t, 20, next)
	assert.EqualValues(t, 13, r.Stats().Evicted, "event 2..14, the furthest reader was at 2")
}

func TestRingPollBatchLimits(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 100})
	fill(t, r, 0, 10, 10)

	evs, next, err := r.Poll(0, 100, 35, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, span(0, 3), seqs(evs), "summed data must fit maxBytes")
	assert.EqualValues(t, 3, next)

	evs, next, err = r.Poll(next, 2, 1000, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, span(3, 5), seqs(evs))

	evs, next, err = r.Poll(next, 0, 1000, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, span(5, 6), seqs(evs), "maxEvents below 1 reads one")

	r.AppendControl(Event{Kind: KindFinished, ExitCode: -1})
	_, next = pollAll(t, r, next)
	assert.EqualValues(t, 11, next)

	// Events without data fit a zero budget.
	evs, _, err = r.Poll(10, 10, 0, 0, nil)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, KindFinished, evs[0].Kind)
}

func TestRingTooSmall(t *testing.T) {
	r := NewRing(RingConfig{})
	require.True(t, r.Append(lineEvent(0, 100), nil))

	evs, next, err := r.Poll(0, 10, 99, 0, nil)
	var tooSmall *TooSmallError
	require.ErrorAs(t, err, &tooSmall)
	assert.Equal(t, 100, tooSmall.Needed)
	assert.EqualError(t, err, "buffer too small: the next event needs 100 bytes")
	assert.Empty(t, evs)
	assert.EqualValues(t, 0, next, "the cursor does not move")

	evs, next, err = r.Poll(0, 10, 100, 0, nil)
	require.NoError(t, err)
	assert.Len(t, evs, 1)
	assert.EqualValues(t, 1, next)
}

func TestRingTooSmallAfterLag(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 1})
	fill(t, r, 0, 3, 50)
	evs, next, err := r.Poll(0, 10, 10, 0, nil)
	require.NoError(t, err, "the lagged event is progress; the error comes next time")
	assert.Equal(t, []int64{-2}, seqs(evs))
	assert.EqualValues(t, 2, next)
	_, _, err = r.Poll(next, 10, 10, 0, nil)
	assert.ErrorAs(t, err, new(*TooSmallError))
}

func TestRingBadCursor(t *testing.T) {
	r := NewRing(RingConfig{})
	fill(t, r, 0, 3, 1)
	_, next, err := r.Poll(4, 10, 100, 0, nil)
	assert.ErrorIs(t, err, ErrBadCursor)
	assert.EqualValues(t, 4, next)
}

func TestRingPollWaiting(t *testing.T) {
	t.Run("timeout returns empty", func(t *testing.T) {
		r := NewRing(RingConfig{})
		start := time.Now()
		evs, next, err := r.Poll(0, 10, 100, 30*time.Millisecond, nil)
		require.NoError(t, err)
		assert.Nil(t, evs)
		assert.EqualValues(t, 0, next)
		assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
	})
	t.Run("zero timeout returns at once", func(t *testing.T) {
		r := NewRing(RingConfig{})
		evs, next, err := r.Poll(0, 10, 100, 0, nil)
		require.NoError(t, err)
		assert.Nil(t, evs)
		assert.EqualValues(t, 0, next)
	})
	t.Run("wakes on append", func(t *testing.T) {
		r := NewRing(RingConfig{})
		go func() {
			time.Sleep(30 * time.Millisecond)
			r.Append(lineEvent(0, 1), nil)
		}()
		start := time.Now()
		evs, next, err := r.Poll(0, 10, 100, 10*time.Second, nil)
		require.NoError(t, err)
		assert.Equal(t, []int64{0}, seqs(evs))
		assert.EqualValues(t, 1, next)
		assert.Less(t, time.Since(start), 5*time.Second)
	})
	t.Run("forever wakes on append", func(t *testing.T) {
		r := NewRing(RingConfig{})
		go func() {
			time.Sleep(20 * time.Millisecond)
			r.AppendControl(Event{Kind: KindStarted, Value: 42})
		}()
		evs, _, err := r.Poll(0, 10, 100, -1, nil)
		require.NoError(t, err)
		require.Len(t, evs, 1)
		assert.EqualValues(t, 42, evs[0].Value)
	})
	t.Run("wakes on close with EOF", func(t *testing.T) {
		r := NewRing(RingConfig{})
		go func() {
			time.Sleep(20 * time.Millisecond)
			r.Close()
		}()
		_, _, err := r.Poll(0, 10, 100, -1, nil)
		assert.ErrorIs(t, err, ErrEOF)
	})
	t.Run("cancel returns empty", func(t *testing.T) {
		r := NewRing(RingConfig{})
		cancel := make(chan struct{})
		go func() {
			time.Sleep(20 * time.Millisecond)
			close(cancel)
		}()
		evs, next, err := r.Poll(0, 10, 100, -1, cancel)
		require.NoError(t, err)
		assert.Nil(t, evs)
		assert.EqualValues(t, 0, next)
	})
	t.Run("many waiters all wake", func(t *testing.T) {
		r := NewRing(RingConfig{})
		done := make(chan error, 8)
		for range 8 {
			go func() {
				evs, _, err := r.Poll(0, 10, 100, 10*time.Second, nil)
				if err == nil && len(evs) != 1 {
					err = errors.New("expected one event")
				}
				done <- err
			}()
		}
		time.Sleep(20 * time.Millisecond)
		r.Append(lineEvent(0, 1), nil)
		for range 8 {
			assert.NoError(t, <-done)
		}
	})
}

func TestRingCloseAndReopen(t *testing.T) {
	r := NewRing(RingConfig{})
	fill(t, r, 0, 2, 1)
	r.Close()
	r.Close() // idempotent

	evs, next, err := r.Poll(0, 10, 100, -1, nil)
	require.NoError(t, err, "events before the close are still delivered")
	assert.Equal(t, span(0, 2), seqs(evs))
	_, next, err = r.Poll(next, 10, 100, -1, nil)
	assert.ErrorIs(t, err, ErrEOF)
	assert.EqualValues(t, 2, next)

	assert.False(t, r.Append(lineEvent(2, 1), nil), "no lines after close")
	assert.EqualValues(t, 1, r.Stats().Discarded)
	r.AppendControl(Event{Kind: KindFinished, Value: 1})
	evs, next, err = r.Poll(next, 10, 100, 0, nil)
	require.NoError(t, err, "a lifecycle event after close is kept")
	require.Len(t, evs, 1)
	assert.Equal(t, KindFinished, evs[0].Kind)

	r.Reopen()
	evs, _, err = r.Poll(next, 10, 100, 0, nil)
	assert.NoError(t, err, "a reopened ring is not at EOF")
	assert.Nil(t, evs)
	require.True(t, r.Append(lineEvent(0, 1), nil))
	evs, next, err = r.Poll(next, 10, 100, 0, nil)
	require.NoError(t, err)
	assert.Len(t, evs, 1)

	r.Release()
	r.Release() // idempotent
	r.Reopen()
	_, _, err = r.Poll(next, 10, 100, 0, nil)
	assert.ErrorIs(t, err, ErrEOF, "Reopen does not undo Release")
	r.AppendControl(Event{Kind: KindWarning})
	assert.EqualValues(t, 2, r.Stats().Discarded, "nothing is kept after Release")
}

func TestAppendControlDropOldest(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 3})
	fill(t, r, 0, 3, 1)
	r.AppendControl(Event{Kind: KindFinished})
	st := r.Stats()
	assert.EqualValues(t, 3, st.Len, "evicts like a line")
	assert.EqualValues(t, 1, st.Evicted)
}

// costOfOldest is what the oldest k kept events count against MaxBytes,
// computed from scratch.
func (r *Ring) costOfOldest(k int) int {
	total := 0
	for i := 0; k > 0 && i < r.nslots; i++ {
		s := r.slotAt(i)
		if c := s.count(); c <= k {
			total += s.cost()
			k -= c
			continue
		}
		return total + s.prefixCost(k)
	}
	return total
}

// In block mode the running count of unread bytes always equals what a
// recount from the kept slots gives, through appends of runs and of single
// events, reads of every size, partial reads of runs and evictions.
func TestBlockUnreadBytesStaysExact(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 50, MaxBytes: 4096, WhenFull: Block})
	w := NewLineWriter(r, FrameConfig{}, 1, Stdout, nil, nil)
	check := func(what string) {
		t.Helper()
		r.mu.Lock()
		defer r.mu.Unlock()
		require.Equal(t, r.bytes-r.costOfOldest(r.readKept()), r.unreadBytes, what)
	}
	var cur uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 300 {
			w.Write([]byte(numbered(i*7, i*7+1+i%9)), int64(i))
			if i%50 == 0 {
				r.AppendControl(Event{Kind: KindWarning, Data: []byte("w")})
			}
		}
		w.Close(0)
		r.Close()
	}()
	for step := 0; ; step++ {
		evs, next, err := r.Poll(cur, 1+step%13, 1<<20, time.Second, nil)
		if errors.Is(err, ErrEOF) {
			break
		}
		require.NoError(t, err)
		cur = next
		_ = evs
		check("after a read")
	}
	<-done
	check("at the end")
}
