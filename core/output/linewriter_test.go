package output

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestAppendBatch(t *testing.T) {
	t.Run("drop oldest keeps the newest", func(t *testing.T) {
		r := NewRing(RingConfig{Capacity: 4})
		evs := []Event{lineEvent(0, 1), lineEvent(1, 1), lineEvent(2, 1), lineEvent(3, 1), lineEvent(4, 1), lineEvent(5, 1)}
		assert.Equal(t, 6, r.AppendBatch(evs, nil))
		got, _ := pollAll(t, r, 2)
		assert.Equal(t, span(2, 6), seqs(got))
		assert.Equal(t, uint64(2), r.Stats().Evicted)
	})
	t.Run("closed ring discards all", func(t *testing.T) {
		r := NewRing(RingConfig{})
		r.Close()
		assert.Equal(t, 0, r.AppendBatch([]Event{lineEvent(0, 1), lineEvent(1, 1)}, nil))
		assert.Equal(t, uint64(2), r.Stats().Discarded)
	})
	t.Run("block waits for the reader mid-batch", func(t *testing.T) {
		r := NewRing(RingConfig{Capacity: 2, WhenFull: Block})
		done := make(chan int)
		go func() { done <- r.AppendBatch([]Event{lineEvent(0, 1), lineEvent(1, 1), lineEvent(2, 1)}, nil) }()
		select {
		case <-done:
			t.Fatal("the third event fit in a ring of two nobody read")
		case <-time.After(50 * time.Millisecond):
		}
		evs, _, err := r.Poll(0, 2, 1<<20, 0, nil)
		require.NoError(t, err)
		assert.Equal(t, span(0, 2), seqs(evs))
		assert.Equal(t, 3, <-done)
	})
	t.Run("block stop discards the rest", func(t *testing.T) {
		r := NewRing(RingConfig{Capacity: 1, WhenFull: Block})
		stop := make(chan struct{})
		close(stop)
		assert.Equal(t, 1, r.AppendBatch([]Event{lineEvent(0, 1), lineEvent(1, 1), lineEvent(2, 1)}, stop))
		assert.Equal(t, uint64(2), r.Stats().Discarded)
	})
}

func TestLineWriter(t *testing.T) {
	t.Run("numbers lines per stream and stamps each read", func(t *testing.T) {
		r := NewRing(RingConfig{Capacity: 10000})
		w := NewLineWriter(r, FrameConfig{}, 3, Stderr, nil, nil)
		var text strings.Builder
		for i := range 2*1024 + 5 { // more than one batch in one read
			text.WriteString("line " + strconv.Itoa(i) + "\n")
		}
		w.Write([]byte(text.String()), 100)
		w.Write([]byte("tail without newline"), 200)
		w.Close(300)
		got, _ := pollAll(t, r, 0)
		require.Len(t, got, 2*1024+6)
		for i, ev := range got[:2*1024+5] {
			assert.Equal(t, KindLine, ev.Kind)
			assert.Equal(t, uint32(3), ev.Attempt)
			assert.Equal(t, Stderr, ev.Stream)
			assert.Equal(t, uint64(i), ev.Seq)
			assert.Equal(t, int64(100), ev.TsMs)
			assert.Equal(t, "line "+strconv.Itoa(i), string(ev.Data))
		}
		last := got[len(got)-1]
		assert.Equal(t, "tail without newline", string(last.Data))
		assert.Equal(t, int64(300), last.TsMs, "the last line ends at Close")
		assert.Equal(t, uint64(2*1024+5), last.Seq)
	})
	t.Run("lines stay intact while later ones are written", func(t *testing.T) {
		r := NewRing(RingConfig{Capacity: 10000})
		w := NewLineWriter(r, FrameConfig{}, 1, Stdout, nil, nil)
		w.Write([]byte("first\nsecond\n"), 1)
		first, _ := pollAll(t, r, 0)
		require.Len(t, first, 2)
		assert.Equal(t, len("first"), cap(first[0].Data), "a line's capacity is its length")
		w.Write([]byte("third\n"), 2)
		first[0].Data = append(first[0].Data, "!!!"...)
		all, _ := pollAll(t, r, 0)
		assert.Equal(t, []string{"first", "second", "third"}, []string{string(all[0].Data), string(all[1].Data), string(all[2].Data)})
	})
	t.Run("a block ring counts the writer while it waits", func(t *testing.T) {
		r := NewRing(RingConfig{Capacity: 1, WhenFull: Block})
		var waiting atomic.Int32
		w := NewLineWriter(r, FrameConfig{}, 1, Stdout, nil, &waiting)
		done := make(chan struct{})
		go func() {
			w.Write([]byte("a\nb\n"), 1)
			close(done)
		}()
		require.Eventually(t, func() bool { return waiting.Load() == 1 }, 2*time.Second, time.Millisecond)
		evs, cursor, err := r.Poll(0, 10, 1<<20, 0, nil)
		require.NoError(t, err)
		assert.Equal(t, "a", string(evs[0].Data))
		<-done
		assert.Equal(t, int32(0), waiting.Load())
		evs, _, err = r.Poll(cursor, 10, 1<<20, 0, nil)
		require.NoError(t, err)
		assert.Equal(t, "b", string(evs[0].Data))
	})
}

func TestLineWriterReadPipe(t *testing.T) {
	newPipe := func(t *testing.T) (*os.File, *os.File) {
		var fds [2]int
		require.NoError(t, unix.Pipe2(fds[:], unix.O_CLOEXEC|unix.O_NONBLOCK))
		r, w := os.NewFile(uintptr(fds[0]), "r"), os.NewFile(uintptr(fds[1]), "w")
		t.Cleanup(func() { r.Close(); w.Close() })
		return r, w
	}
	t.Run("until EOF", func(t *testing.T) {
		pr, pw := newPipe(t)
		ring := NewRing(RingConfig{})
		w := NewLineWriter(ring, FrameConfig{}, 1, Stdout, nil, nil)
		done := make(chan error)
		go func() { done <- w.ReadPipe(pr) }()
		pw.Write([]byte("one\ntw"))
		time.Sleep(10 * time.Millisecond)
		pw.Write([]byte("o\nthree"))
		pw.Close()
		require.NoError(t, <-done)
		w.Close(1)
		got, _ := pollAll(t, ring, 0)
		var texts []string
		for _, ev := range got {
			texts = append(texts, string(ev.Data))
		}
		assert.Equal(t, []string{"one", "two", "three"}, texts)
	})
	t.Run("a read deadline ends a quiet pipe", func(t *testing.T) {
		pr, _ := newPipe(t)
		w := NewLineWriter(NewRing(RingConfig{}), FrameConfig{}, 1, Stdout, nil, nil)
		done := make(chan error)
		go func() { done <- w.ReadPipe(pr) }()
		time.Sleep(10 * time.Millisecond)
		pr.SetReadDeadline(time.Now())
		assert.ErrorIs(t, <-done, os.ErrDeadlineExceeded)
	})
	t.Run("a read deadline ends a flooded pipe", func(t *testing.T) {
		pr, pw := newPipe(t)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			line := []byte(strings.Repeat("x", 99) + "\n")
			for {
				select {
				case <-stop:
					return
				default:
					pw.Write(line)
				}
			}
		}()
		w := NewLineWriter(NewRing(RingConfig{}), FrameConfig{}, 1, Stdout, nil, nil)
		done := make(chan error)
		go func() { done <- w.ReadPipe(pr) }()
		time.Sleep(20 * time.Millisecond)
		pr.SetReadDeadline(time.Now())
		select {
		case err := <-done:
			assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
		case <-time.After(5 * time.Second):
			t.Fatal("ReadPipe did not see the deadline while the pipe had data")
		}
	})
}
