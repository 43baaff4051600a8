package output

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// record is one parsed run record of a ReadLines buffer.
type record struct {
	stream  Stream
	attempt uint32
	seq     uint64
	ts      int64
	flags   uint32
	lines   []string
}

// parseRecords splits a ReadLines buffer into its records, checking the
// layout the C ABI documents.
func parseRecords(t testing.TB, b []byte) []record {
	t.Helper()
	ne := binary.NativeEndian
	var out []record
	for off := 0; off < len(b); {
		require.GreaterOrEqual(t, len(b)-off, RunHeaderSize, "a whole header")
		h := b[off:]
		count := int(ne.Uint32(h[24:]))
		n := int(ne.Uint64(h[32:]))
		text := string(h[RunHeaderSize : RunHeaderSize+n])
		require.True(t, strings.HasSuffix(text, "\n"), "a record's text ends with a newline")
		lines := strings.Split(text[:len(text)-1], "\n")
		require.Len(t, lines, count, "count matches the text")
		out = append(out, record{
			stream: Stream(ne.Uint32(h[0:])), attempt: ne.Uint32(h[4:]), seq: ne.Uint64(h[8:]),
			ts: int64(ne.Uint64(h[16:])), flags: ne.Uint32(h[28:]), lines: lines,
		})
		off += recordSize(n)
	}
	return out
}

// readAllLines reads with ReadLines through a buffer of size bytes until
// EOF and returns every line's text per stream, and the total loss.
func readAllLines(t testing.TB, r *Ring, size int, streams Stream) (map[Stream][]string, LinesRead) {
	t.Helper()
	got := map[Stream][]string{}
	var lost LinesRead
	var cur LineCursor
	buf := make([]byte, size)
	for {
		res, next, err := r.ReadLines(cur, streams, buf, 0, nil)
		if errors.Is(err, ErrEOF) {
			return got, lost
		}
		require.NoError(t, err)
		lost.LostLines += res.LostLines
		lost.LostBytes += res.LostBytes
		for _, rec := range parseRecords(t, buf[:res.N]) {
			got[rec.stream] = append(got[rec.stream], rec.lines...)
		}
		cur = next
	}
}

func numbered(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		b.WriteString("line " + strconv.Itoa(i) + "\n")
	}
	return b.String()
}

func TestReadLinesGivesTheFramedLines(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 1 << 20, MaxBytes: 1 << 30})
	out := NewLineWriter(r, FrameConfig{MaxLineLength: 20}, 1, Stdout, nil, nil)
	errw := NewLineWriter(r, FrameConfig{}, 1, Stderr, nil, nil)
	r.AppendControl(Event{Kind: KindStarted, Attempt: 1, Value: 7})
	out.Write([]byte(numbered(0, 5000)), 10)
	errw.Write([]byte("e1\r\ne2\n"), 11)
	out.Write([]byte("a\xffb\nshort\n"+strings.Repeat("x", 30)+"\nnext\npartial"), 12)
	out.Close(13)
	errw.Close(13)

	// Poll is the reference: ReadLines gives the same lines.
	evs, _ := pollAll(t, r, 0)
	r.Close()
	want := map[Stream][]string{}
	for _, ev := range evs {
		if ev.Kind == KindLine {
			want[ev.Stream] = append(want[ev.Stream], string(ev.Data))
		}
	}
	require.Len(t, want[Stdout], 5005)
	assert.Equal(t, []string{"e1", "e2"}, want[Stderr])
	assert.Equal(t, "a\uFFFDb", want[Stdout][5000])
	assert.Equal(t, strings.Repeat("x", 20)+"... (truncated 10 bytes)", want[Stdout][5002])

	for _, size := range []int{88, 100, 4096, 1 << 20} {
		got, lost := readAllLines(t, r, size, Stdout|Stderr)
		assert.Equal(t, want, got, "buffer of %d bytes", size)
		assert.Zero(t, lost.LostLines)
	}
	got, _ := readAllLines(t, r, 1<<20, Stderr)
	assert.Equal(t, map[Stream][]string{Stderr: {"e1", "e2"}}, got, "the mask selects the stream")
}

func TestReadLinesRecords(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 1 << 20, MaxBytes: 1 << 30})
	w := NewLineWriter(r, FrameConfig{MaxLineLength: 4}, 2, Stdout, nil, nil)
	w.Write([]byte("ab\ncd\nlonger\nef\n"), 100)
	w.Write([]byte("gh\n"), 200)
	r.Close()
	buf := make([]byte, 1<<16)
	res, _, err := r.ReadLines(LineCursor{}, Stdout, buf, 0, nil)
	require.NoError(t, err)
	recs := parseRecords(t, buf[:res.N])
	assert.Equal(t, 5, res.Lines)
	assert.Equal(t, []record{
		{Stdout, 2, 0, 100, 0, []string{"ab", "cd"}},
		{Stdout, 2, 2, 100, FlagTruncated, []string{"long... (truncated 2 bytes)"}},
		{Stdout, 2, 3, 100, 0, []string{"ef"}},
		{Stdout, 2, 4, 200, 0, []string{"gh"}},
	}, recs, "a record is one read's lines, all cut or none")
	assert.Equal(t, 4, res.Runs)
}

func TestReadLinesBufferTooSmall(t *testing.T) {
	r := NewRing(RingConfig{})
	w := NewLineWriter(r, FrameConfig{}, 1, Stdout, nil, nil)
	w.Write([]byte("ok\n"+strings.Repeat("y", 100)+"\n"), 1)
	r.Close()
	buf := make([]byte, 64)
	res, cur, err := r.ReadLines(LineCursor{}, Stdout, buf, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Lines, "the first line fits, the second does not")
	_, same, err := r.ReadLines(cur, Stdout, buf, 0, nil)
	var small *TooSmallError
	require.ErrorAs(t, err, &small)
	assert.Equal(t, RunHeaderSize+104, small.Needed, "header plus 101 bytes padded to 8")
	assert.Equal(t, cur, same, "the cursor does not move")
	big := make([]byte, small.Needed)
	res, _, err = r.ReadLines(cur, Stdout, big, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{strings.Repeat("y", 100)}, parseRecords(t, big[:res.N])[0].lines)
}

// In dropOldest, lines read plus lines lost is every line printed, and the
// same holds in bytes; runs are evicted a line at a time.
func TestReadLinesLagIsExact(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 1000})
	w := NewLineWriter(r, FrameConfig{}, 1, Stdout, nil, nil)
	text := numbered(0, 100_000)
	var cur LineCursor
	buf := make([]byte, 4096)
	var lines, bytesRead, lostLines, lostBytes uint64
	var last int = -1
	for off := 0; off < len(text); {
		n := min(len(text)-off, 30000)
		w.Write([]byte(text[off:off+n]), 1)
		off += n
		res, next, err := r.ReadLines(cur, Stdout, buf, 0, nil)
		require.NoError(t, err)
		cur = next
		lostLines += res.LostLines
		lostBytes += res.LostBytes
		for _, rec := range parseRecords(t, buf[:res.N]) {
			for _, l := range rec.lines {
				i, err := strconv.Atoi(strings.TrimPrefix(l, "line "))
				require.NoError(t, err)
				require.Greater(t, i, last, "in order, each once")
				last = i
				lines++
				bytesRead += uint64(len(l) + 1)
			}
		}
	}
	w.Close(2)
	r.Close()
	for {
		res, next, err := r.ReadLines(cur, Stdout, buf, 0, nil)
		if errors.Is(err, ErrEOF) {
			break
		}
		require.NoError(t, err)
		cur = next
		lostLines += res.LostLines
		lostBytes += res.LostBytes
		for _, rec := range parseRecords(t, buf[:res.N]) {
			lines += uint64(len(rec.lines))
			for _, l := range rec.lines {
				bytesRead += uint64(len(l) + 1)
			}
		}
	}
	assert.Positive(t, lostLines, "the reader fell behind")
	assert.Equal(t, uint64(100_000), lines+lostLines, "lines")
	assert.Equal(t, uint64(len(text)), bytesRead+lostBytes, "bytes")
}

// Poll after runs were partly evicted gives the kept lines with their own
// numbers, and the lag in events.
func TestPollAfterPartialEviction(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 10})
	w := NewLineWriter(r, FrameConfig{}, 1, Stdout, nil, nil)
	w.Write([]byte(numbered(0, 7)), 1)
	w.Write([]byte(numbered(7, 15)), 2)
	evs, next := pollAll(t, r, 0)
	assert.Equal(t, append([]int64{-5}, span(5, 15)...), seqs(evs))
	assert.Equal(t, "line 5", string(evs[1].Data))
	assert.Equal(t, uint64(15), next)
	st := r.Stats()
	assert.Equal(t, uint64(10), st.Len)
	assert.Equal(t, uint64(5), st.Evicted)
}

// In block mode a reader gets every line once and in order while the
// producer waits for it, whatever the ring's size against a read's lines.
func TestReadLinesBlockIsLossless(t *testing.T) {
	for _, capacity := range []int{1, 7, 1024} {
		r := NewRing(RingConfig{Capacity: capacity, WhenFull: Block})
		w := NewLineWriter(r, FrameConfig{}, 1, Stdout, nil, nil)
		const total = 200_000
		text := numbered(0, total)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for off := 0; off < len(text); off += 65536 {
				w.Write([]byte(text[off:min(off+65536, len(text))]), 1)
			}
			w.Close(2)
			r.Close()
		}()
		var cur LineCursor
		buf := make([]byte, 1<<16)
		next := 0
		for {
			res, c, err := r.ReadLines(cur, Stdout, buf, time.Second, nil)
			if errors.Is(err, ErrEOF) {
				break
			}
			require.NoError(t, err)
			require.Zero(t, res.LostLines)
			cur = c
			for _, rec := range parseRecords(t, buf[:res.N]) {
				require.Equal(t, uint64(next), rec.seq)
				for _, l := range rec.lines {
					require.Equal(t, "line "+strconv.Itoa(next), l)
					next++
				}
			}
		}
		wg.Wait()
		assert.Equal(t, total, next, "capacity %d", capacity)
		assert.Zero(t, r.Stats().Evicted)
		assert.LessOrEqual(t, r.Stats().Len, uint64(capacity))
	}
}

func TestReadLinesWaits(t *testing.T) {
	r := NewRing(RingConfig{})
	buf := make([]byte, 256)
	res, cur, err := r.ReadLines(LineCursor{}, Stdout, buf, 10*time.Millisecond, nil)
	require.NoError(t, err)
	assert.Zero(t, res.N, "the timeout passed")
	go func() {
		time.Sleep(20 * time.Millisecond)
		w := NewLineWriter(r, FrameConfig{}, 1, Stdout, nil, nil)
		w.Write([]byte("late\n"), 1)
	}()
	res, _, err = r.ReadLines(cur, Stdout, buf, -1, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Lines)
	_, _, err = r.ReadLines(LineCursor{Seq: 99}, Stdout, buf, 0, nil)
	assert.ErrorIs(t, err, ErrBadCursor)
}

// The bytes a ring counts for runs bound what it holds.
func TestRunsCountAgainstMaxBytes(t *testing.T) {
	const maxBytes = 64 << 10
	r := NewRing(RingConfig{Capacity: 1 << 20, MaxBytes: maxBytes})
	w := NewLineWriter(r, FrameConfig{}, 1, Stdout, nil, nil)
	for range 100 {
		w.Write([]byte(numbered(0, 2000)), 1)
	}
	st := r.Stats()
	assert.LessOrEqual(t, st.Bytes, uint64(maxBytes))
	assert.Greater(t, st.Bytes, uint64(maxBytes/2), "kept up to the bound")
	evs, _ := pollAll(t, r, 0)
	assert.Equal(t, st.Len+1, uint64(len(evs)), "kept lines and one lagged event")
}
