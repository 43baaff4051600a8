package output

import (
	"os"
	"sync"
	"sync/atomic"
)

// lineBatch is the most line events a LineWriter gathers before appending
// them to the ring in one go; it also flushes at the end of every Write.
const lineBatch = 1024

// batches recycles the batch buffers (72 KiB each): a writer holds one only
// while it frames a read, not while its pipe is quiet.
var batches = sync.Pool{New: func() any { b := make([]Event, 0, lineBatch); return &b }}

// LineWriter turns one stream of one attempt into line events in a ring: it
// frames the bytes written to it, numbers the lines from 0 and appends them
// in batches, so that a read holding thousands of short lines costs one lock
// and one reader wake-up per batch rather than per line. It is not safe for
// concurrent use: each pipe reader owns one.
type LineWriter struct {
	ring    *Ring
	framer  *Framer
	attempt uint32
	stream  Stream
	stop    <-chan struct{}
	waiting *atomic.Int32

	seq   uint64
	ts    int64
	batch *[]Event // from batches while a Write or Close runs, else nil
}

// NewLineWriter returns a writer of stream's lines for attempt into r. In a
// Block ring, appends wait for room; stop ends such a wait (the lines are
// then discarded, see Ring.Append), and waiting, if not nil, counts the
// writers waiting at any time.
func NewLineWriter(r *Ring, cfg FrameConfig, attempt uint32, stream Stream, stop <-chan struct{}, waiting *atomic.Int32) *LineWriter {
	w := &LineWriter{ring: r, attempt: attempt, stream: stream, stop: stop, waiting: waiting}
	w.framer = NewFramer(cfg, w.emit)
	return w
}

// Write frames p, read at tsMs (Unix ms, the timestamp of every line it
// completes). The lines it completes are in the ring when it returns.
func (w *LineWriter) Write(p []byte, tsMs int64) {
	w.ts = tsMs
	w.batch = batches.Get().(*[]Event)
	w.framer.Write(p)
	w.flush()
	batches.Put(w.batch)
	w.batch = nil
}

// readBufs are the buffers pipe reads go into (a pipe holds 64 KiB). A
// reader borrows one only from the moment its pipe is readable to the end of
// framing what it read, so a quiet pipe holds none: thousands of running
// tasks that print little do not pin 64 KiB per stream.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// ReadPipe writes what f gives, each read stamped with its time, until EOF
// (it returns nil), an error, or f's read deadline (os.ErrDeadlineExceeded).
func (w *LineWriter) ReadPipe(f *os.File) error {
	return readPipe(f, func(p []byte, tsMs int64) bool {
		w.Write(p, tsMs) // the framer copies what it keeps
		return false
	})
}

// Close ends the stream at tsMs: a last line without a newline is emitted.
func (w *LineWriter) Close(tsMs int64) {
	w.ts = tsMs
	w.batch = batches.Get().(*[]Event)
	w.framer.Flush()
	w.flush()
	batches.Put(w.batch)
	w.batch = nil
}

func (w *LineWriter) emit(line []byte, flags uint32) {
	b := append(*w.batch, Event{
		Kind: KindLine, Attempt: w.attempt, Stream: w.stream,
		Flags: flags, Seq: w.seq, TsMs: w.ts, Data: line,
	})
	*w.batch = b
	w.seq++
	if len(b) == lineBatch {
		w.flush()
	}
}

func (w *LineWriter) flush() {
	b := *w.batch
	if len(b) == 0 {
		return
	}
	if w.waiting != nil && w.ring.whenFull == Block {
		w.waiting.Add(1)
		defer w.waiting.Add(-1)
	}
	w.ring.AppendBatch(b, w.stop)
	clear(b) // the ring has its own copies; drop the line references
	*w.batch = b[:0]
}
