package output

import (
	"os"
	"sync/atomic"
)

// ChunkWriter is output mode "bytes": every pipe read becomes one KindChunk
// event holding exactly the bytes read, with no framing, no UTF-8 repair and
// no newline handling, so a reader that concatenates a stream's chunks gets
// what the child wrote. It is not safe for concurrent use: each pipe reader
// owns one.
type ChunkWriter struct {
	ring    *Ring
	attempt uint32
	stream  Stream
	stop    <-chan struct{}
	waiting *atomic.Int32
	seq     uint64
}

// NewChunkWriter returns a writer of stream's chunks for attempt into r. In a
// Block ring, appends wait for room; stop ends such a wait (the chunk is then
// discarded), and waiting, if not nil, counts the writers waiting.
func NewChunkWriter(r *Ring, attempt uint32, stream Stream, stop <-chan struct{}, waiting *atomic.Int32) *ChunkWriter {
	return &ChunkWriter{ring: r, attempt: attempt, stream: stream, stop: stop, waiting: waiting}
}

// Write appends a copy of p (the caller may reuse it) as one chunk read at
// tsMs. An empty p appends nothing.
func (w *ChunkWriter) Write(p []byte, tsMs int64) {
	if len(p) > 0 {
		w.append(append([]byte(nil), p...), nil, tsMs)
	}
}

// keep is ReadPipe's write. A read that fills at least half its buffer is
// stored in it, without a copy, so a chunk holds at most twice what
// maxBytes counts for it; a read of a grown pipe (up to 1 MiB) is stored as
// chunks of at most 64 KiB sharing its buffer, so a solti_task_poll reader
// sized for a default pipe's chunks still gets each whole. A smaller read of
// at least minPooled bytes is copied into a pooled buffer of its size class,
// a shorter one into an allocation of its size.
func (w *ChunkWriter) keep(p []byte, buf *[]byte, tsMs int64) bool {
	if len(p) >= minPooled && cap(*buf) <= 2*len(p) {
		w.append(p, &bufRef{data: buf, refs: 1}, tsMs)
		return true
	}
	if b := bufs.get(len(p)); b != nil {
		w.append((*b)[:copy(*b, p)], &bufRef{data: b, refs: 1}, tsMs)
		return false
	}
	w.Write(p, tsMs)
	return false
}

// append stores data as the stream's next chunks, of at most chunkMax bytes
// each; ref, if not nil, is the pooled memory of data, whose reference the
// ring takes over.
func (w *ChunkWriter) append(data []byte, ref *bufRef, tsMs int64) {
	var parts [bigPipe / chunkMax]Event // a pipe read fits; a bigger Write grows evs
	evs := parts[:0]
	for off := 0; off < len(data); off += chunkMax {
		part := data[off:min(off+chunkMax, len(data))]
		evs = append(evs, Event{
			Kind: KindChunk, Attempt: w.attempt, Stream: w.stream,
			Seq: w.seq, TsMs: tsMs, Data: part[:len(part):len(part)],
		})
		w.seq++
	}
	if w.waiting != nil && w.ring.whenFull == Block {
		w.waiting.Add(1)
		defer w.waiting.Add(-1)
	}
	w.ring.appendPooled(evs, ref, w.stop)
}

// chunkMax is the most bytes a chunk event holds: a default pipe's
// capacity, what one read gave before pipes were grown.
const chunkMax = readSize

// ReadPipe writes what f gives, one chunk per read, until EOF (nil), an
// error, or f's read deadline (os.ErrDeadlineExceeded).
func (w *ChunkWriter) ReadPipe(f *os.File) error { return readPipe(f, true, w.keep) }

// Close ends the stream; bytes mode holds nothing back, so there is nothing
// to flush.
func (w *ChunkWriter) Close(int64) {}
