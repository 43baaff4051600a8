package output

import (
	"bytes"
	"math/rand"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func chunk(stream Stream, data string) Event {
	return Event{Kind: KindChunk, Stream: stream, Data: []byte(data)}
}

// readAll drains r with ReadBytes through a buffer of bufLen bytes until EOF,
// returning the bytes per stream and the loss reported.
func readAll(t *testing.T, r *Ring, bufLen int) (map[Stream][]byte, ByteRead) {
	t.Helper()
	got := map[Stream][]byte{}
	var lost ByteRead
	var cur ByteCursor
	buf := make([]byte, bufLen)
	for {
		res, next, err := r.ReadBytes(cur, Stdout|Stderr, buf, 5*time.Second, nil)
		if err == ErrEOF {
			return got, lost
		}
		require.NoError(t, err)
		require.True(t, res.N > 0 || res.LostEvents > 0, "a read that did not time out returns something")
		got[res.Stream] = append(got[res.Stream], buf[:res.N]...)
		lost.LostEvents += res.LostEvents
		lost.LostBytes += res.LostBytes
		cur = next
	}
}

func TestChunkWriterKeepsBytesExactly(t *testing.T) {
	want := make([]byte, 1<<20)
	rand.New(rand.NewSource(1)).Read(want)
	copy(want, "line\r\n\xff\xfe no newline at end")
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	r := NewRing(RingConfig{Capacity: 1 << 16, MaxBytes: 8 << 20})
	go func() {
		pw.Write(want)
		pw.Close()
	}()
	w := NewPipeWriter(r, FrameConfig{Bytes: true}, 1, Stdout, nil, nil)
	require.NoError(t, w.ReadPipe(pr))
	w.Close(0)
	pr.Close()
	r.Close()

	got, lost := readAll(t, r, 4093)
	assert.True(t, bytes.Equal(want, got[Stdout]), "bytes mode returns the bytes written")
	assert.Zero(t, lost.LostEvents)

	// Poll sees the same bytes as chunk events, numbered per stream.
	evs, _, err := r.Poll(0, 1<<16, 8<<20, 0, nil)
	require.NoError(t, err)
	var cat []byte
	for i, ev := range evs {
		require.Equal(t, KindChunk, ev.Kind)
		assert.Equal(t, uint64(i), ev.Seq)
		cat = append(cat, ev.Data...)
	}
	assert.True(t, bytes.Equal(want, cat))
}

func TestReadBytesSplitsAChunkAcrossCalls(t *testing.T) {
	r := NewRing(RingConfig{})
	r.AppendControl(Event{Kind: KindStarted, Value: 42})
	r.Append(chunk(Stdout, "abcdef"), nil)
	r.Append(chunk(Stdout, "gh"), nil)
	r.Close()
	var cur ByteCursor
	var got []byte
	buf := make([]byte, 1)
	for {
		res, next, err := r.ReadBytes(cur, Stdout, buf, 0, nil)
		if err == ErrEOF {
			break
		}
		require.NoError(t, err)
		require.Equal(t, 1, res.N)
		got = append(got, buf[0])
		cur = next
	}
	assert.Equal(t, "abcdefgh", string(got))
}

func TestReadBytesOneStreamPerCall(t *testing.T) {
	r := NewRing(RingConfig{})
	r.Append(chunk(Stdout, "out1"), nil)
	r.Append(chunk(Stdout, "out2"), nil)
	r.Append(chunk(Stderr, "err1"), nil)
	r.Append(Event{Kind: KindLine, Stream: Stdout, Data: []byte("a line")}, nil)
	r.Append(chunk(Stdout, "out3"), nil)
	r.Close()
	buf := make([]byte, 64)

	res, cur, err := r.ReadBytes(ByteCursor{}, Stdout|Stderr, buf, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, "out1out2", string(buf[:res.N]))
	assert.Equal(t, Stdout, res.Stream)
	res, cur, err = r.ReadBytes(cur, Stdout|Stderr, buf, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, "err1", string(buf[:res.N]))
	assert.Equal(t, Stderr, res.Stream)
	res, cur, err = r.ReadBytes(cur, Stdout|Stderr, buf, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, "out3", string(buf[:res.N]), "line events are not bytes-mode output")
	_, _, err = r.ReadBytes(cur, Stdout|Stderr, buf, 0, nil)
	assert.ErrorIs(t, err, ErrEOF)

	got, _ := func() (map[Stream][]byte, ByteRead) {
		out := map[Stream][]byte{}
		var c ByteCursor
		for {
			res, next, err := r.ReadBytes(c, Stderr, buf, 0, nil)
			if err != nil {
				return out, res
			}
			out[res.Stream] = append(out[res.Stream], buf[:res.N]...)
			c = next
		}
	}()
	assert.Equal(t, map[Stream][]byte{Stderr: []byte("err1")}, got, "the mask selects the stream")
}

func TestReadBytesWaitsAndTimesOut(t *testing.T) {
	r := NewRing(RingConfig{})
	buf := make([]byte, 8)
	res, cur, err := r.ReadBytes(ByteCursor{}, Stdout, buf, 20*time.Millisecond, nil)
	require.NoError(t, err)
	assert.Zero(t, res.N)
	go func() {
		time.Sleep(20 * time.Millisecond)
		r.Append(chunk(Stdout, "late"), nil)
	}()
	res, _, err = r.ReadBytes(cur, Stdout, buf, 5*time.Second, nil)
	require.NoError(t, err)
	assert.Equal(t, "late", string(buf[:res.N]))
	_, _, err = r.ReadBytes(ByteCursor{Seq: 99}, Stdout, buf, 0, nil)
	assert.ErrorIs(t, err, ErrBadCursor)
}

func TestReadBytesLagCountsEventsAndBytes(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 2})
	for range 5 {
		r.Append(chunk(Stdout, "0123456789"), nil)
	}
	r.Close()
	got, lost := readAll(t, r, 3)
	assert.Equal(t, uint64(3), lost.LostEvents)
	assert.Equal(t, uint64(30), lost.LostBytes)
	assert.Len(t, got[Stdout], 20)
	assert.Equal(t, uint64(50), lost.LostBytes+uint64(len(got[Stdout])), "read + lost == written")

	// A reader that dropped behind in the middle of a chunk counts only the
	// part it had not read.
	r = NewRing(RingConfig{Capacity: 2})
	r.Append(chunk(Stdout, "0123456789"), nil)
	buf := make([]byte, 4)
	res, cur, err := r.ReadBytes(ByteCursor{}, Stdout, buf, 0, nil)
	require.NoError(t, err)
	require.Equal(t, 4, res.N)
	r.Append(chunk(Stdout, "abcdefghij"), nil)
	r.Append(chunk(Stdout, "ABCDEFGHIJ"), nil)
	res, _, err = r.ReadBytes(cur, Stdout, make([]byte, 64), 0, nil)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), res.LostEvents)
	assert.Equal(t, uint64(6), res.LostBytes)
	assert.Equal(t, 20, res.N)
}

func TestReadBytesBlockModeLosesNothing(t *testing.T) {
	r := NewRing(RingConfig{Capacity: 4, MaxBytes: 64, WhenFull: Block})
	want := make([]byte, 200*37)
	rand.New(rand.NewSource(2)).Read(want)
	go func() {
		w := NewChunkWriter(r, 1, Stdout, nil, nil)
		for i := 0; i < len(want); i += 37 {
			w.Write(want[i:i+37], 0)
		}
		r.Close()
	}()
	got, lost := readAll(t, r, 5)
	assert.Zero(t, lost.LostEvents)
	assert.True(t, bytes.Equal(want, got[Stdout]))
	assert.Zero(t, r.Stats().Evicted)
}
