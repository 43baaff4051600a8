package output

import (
	"bytes"
	"math/rand"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClassOf(t *testing.T) {
	assert.Equal(t, 2, endsBufs.class(3000), "line indexes have classes of their own")
	for _, c := range []struct{ n, class int }{
		{0, -1}, {minPooled - 1, -1}, {minPooled, 0}, {minPooled + 1, 1}, {8 << 10, 1},
		{20 << 10, 3}, {readSize, 4}, {bigPipe, 8}, {bigPipe + 1, -1},
	} {
		assert.Equal(t, c.class, bufs.class(c.n), "n=%d", c.n)
		if c.class >= 0 {
			b := bufs.get(c.n)
			assert.GreaterOrEqual(t, len(*b), c.n)
			assert.LessOrEqual(t, len(*b), max(2*c.n, minPooled), "a class is at most twice the size")
			bufs.put(b)
		} else {
			assert.Nil(t, bufs.get(c.n))
		}
	}
}

// A run stored in parts (Block mode, little room) keeps its memory until the
// last part is dropped and the append is over.
func TestPooledRunFreedWithItsLastPart(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 2, WhenFull: Block})
	b := bufs.get(minPooled)
	text := append((*b)[:0], "a\nb\nc\nd\n"...)
	ref := &bufRef{data: b, refs: 1}
	run := Run{Attempt: 1, Stream: Stdout, Text: text, Ends: []uint32{2, 4, 6, 8}, ref: ref}
	done := make(chan int)
	go func() { done <- r.AppendRun(&run, nil) }()

	var cur LineCursor
	buf := make([]byte, 4096)
	read := 0
	for read < 4 {
		res, next, err := r.ReadLines(cur, Stdout, buf, 5*time.Second, nil)
		require.NoError(t, err)
		for _, rec := range parseRecords(t, buf[:res.N]) {
			read += len(rec.lines)
		}
		cur = next
		if read < 4 {
			r.mu.Lock()
			assert.NotNil(t, ref.data, "a part still to be stored holds the memory")
			r.mu.Unlock()
		}
	}
	assert.Equal(t, 4, <-done)
	r.mu.Lock()
	assert.NotNil(t, ref.data, "the last part is still kept")
	r.mu.Unlock()
	r.AppendControl(Event{Kind: KindWarning})
	r.AppendControl(Event{Kind: KindWarning})
	r.AppendControl(Event{Kind: KindWarning})
	r.mu.Lock()
	defer r.mu.Unlock()
	assert.Nil(t, ref.data, "dropping the last part returned the memory")
}

// Events that Poll handed out keep their bytes while the stream goes on and
// the ring recycles the memory of everything it drops.
func TestPolledDataSurvivesRecycling(t *testing.T) {
	for _, bytesMode := range []bool{false, true} {
		t.Run("bytes="+strconv.FormatBool(bytesMode), func(t *testing.T) {
			r := NewRing(RingConfig{Capacity: 64, MaxBytes: 1 << 20})
			pr, pw, err := os.Pipe()
			require.NoError(t, err)
			rng := rand.New(rand.NewSource(3))
			go func() {
				defer pw.Close()
				rng := rand.New(rand.NewSource(4))
				for i := 0; i < 3000; i++ {
					var line []byte
					for len(line) < (4<<10)+rng.Intn(60<<10) {
						line = append(line, "line "+strconv.Itoa(rng.Int())+"\n"...)
					}
					if _, err := pw.Write(line); err != nil {
						return
					}
				}
			}()
			w := NewPipeWriter(r, FrameConfig{Bytes: bytesMode}, 1, Stdout, nil, nil)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				assert.NoError(t, w.ReadPipe(pr))
				w.Close(0)
				r.Close()
			}()
			type held struct{ ev, copy []byte }
			var kept []held
			for cursor := uint64(0); ; {
				evs, next, err := r.Poll(cursor, 16, 1<<20, 5*time.Second, nil)
				if err == ErrEOF {
					break
				}
				require.NoError(t, err)
				for _, ev := range evs {
					if len(ev.Data) > 0 && len(kept) < 2000 {
						kept = append(kept, held{ev.Data, bytes.Clone(ev.Data)})
					}
				}
				cursor = next
				time.Sleep(time.Duration(rng.Intn(200)) * time.Microsecond)
			}
			wg.Wait()
			pr.Close()
			require.NotEmpty(t, kept)
			for i, h := range kept {
				require.True(t, bytes.Equal(h.copy, h.ev), "event %d changed after Poll returned it", i)
			}
		})
	}
}

// PollCopy packs the events' bytes into the caller's buffer under the lock,
// so it lends nothing: the memory is still recycled.
func TestPollCopyLendsNothing(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 16})
	w := NewLineWriter(r, FrameConfig{}, 1, Stdout, nil, nil)
	text := numbered(0, 1000) // about 8 KiB: a pooled read
	w.Write([]byte(text), 1)
	data := make([]byte, 64)
	evs, next, err := r.PollCopy(nil, data, 984, 3, 0, nil)
	require.NoError(t, err)
	require.Len(t, evs, 3)
	assert.Equal(t, uint64(987), next)
	packed := ""
	for i, ev := range evs {
		assert.Equal(t, "line "+strconv.Itoa(984+i), string(ev.Data))
		packed += string(ev.Data)
	}
	assert.Equal(t, packed, string(data[:len(packed)]), "the bytes are packed in order into data")
	r.mu.Lock()
	ref := r.slotAt(0).ref
	require.NotNil(t, ref)
	assert.False(t, ref.lent)
	r.mu.Unlock()

	_, _, err = r.PollInto(nil, 990, 1, 64, 0, nil)
	require.NoError(t, err)
	r.mu.Lock()
	assert.True(t, ref.lent, "PollInto hands out the ring's own bytes")
	r.mu.Unlock()
}

// A read of a grown pipe (up to 1 MiB) is stored as chunks of at most
// 64 KiB sharing its buffer: a poll reader sized for a default pipe still
// gets each whole, a bulk reader gets the whole read in one call, and the
// buffer comes back only when the last of them is dropped.
func TestBigReadIsStoredAsDefaultSizedChunks(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 64, MaxBytes: 8 << 20})
	w := NewChunkWriter(r, 1, Stdout, nil, nil)
	buf := getReadBuf(true)
	rand.New(rand.NewSource(5)).Read(*buf)
	want := bytes.Clone((*buf)[:bigPipe-100])
	require.True(t, w.keep((*buf)[:len(want)], buf, 7), "a full read keeps its buffer")

	// A poll budget of one default chunk takes them one by one.
	var evs []Event
	for cursor := uint64(0); ; {
		got, next, err := r.Poll(cursor, 64, readSize, 0, nil)
		require.NoError(t, err)
		if len(got) == 0 {
			break
		}
		evs, cursor = append(evs, got...), next
	}
	require.Len(t, evs, (len(want)+readSize-1)/readSize)
	var cat []byte
	for i, ev := range evs {
		assert.LessOrEqual(t, len(ev.Data), readSize)
		assert.Equal(t, uint64(i), ev.Seq)
		cat = append(cat, ev.Data...)
	}
	assert.True(t, bytes.Equal(want, cat))

	dst := make([]byte, bigPipe)
	res, _, err := r.ReadBytes(ByteCursor{}, Stdout, dst, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, len(want), res.N, "one bulk read takes all the chunks of one read")
	assert.True(t, bytes.Equal(want, dst[:res.N]))
	r.mu.Lock()
	assert.Equal(t, int32(len(evs)), r.slotAt(0).ref.refs, "each chunk holds the buffer")
	r.mu.Unlock()
}
