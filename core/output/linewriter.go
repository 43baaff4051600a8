package output

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"os"
	"sync/atomic"
	"unicode/utf8"
)

// LineWriter turns one stream of one attempt into lines in a ring: it
// frames the bytes written to it, numbers the lines from 0 and hands the
// lines each read completes to the ring as one run (Ring.AppendRun): their
// text, one after the other with their newlines, and an index of where each
// ends. A read holding thousands of short lines costs one lock, one reader
// wake-up and two allocations, not work per line. It is not safe for
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
	text  []byte   // the run being built: lines, each followed by '\n'
	ends  []uint32 // offset past each line's '\n', truncBit for a cut line
	trunc bool     // a line of the run was cut
	ref   *bufRef  // pooled memory for text and ends, if the read is big
}

// NewLineWriter returns a writer of stream's lines for attempt into r. In a
// Block ring, appends wait for room; stop ends such a wait (the lines are
// then discarded, see Ring.AppendRun), and waiting, if not nil, counts the
// writers waiting at any time.
func NewLineWriter(r *Ring, cfg FrameConfig, attempt uint32, stream Stream, stop <-chan struct{}, waiting *atomic.Int32) *LineWriter {
	w := &LineWriter{ring: r, attempt: attempt, stream: stream, stop: stop, waiting: waiting}
	w.framer = NewFramer(cfg, w.emit)
	w.framer.lend = true // emit copies the line into the run
	return w
}

// Write frames p, read at tsMs (Unix ms, the timestamp of every line it
// completes). The lines it completes are in the ring when it returns.
func (w *LineWriter) Write(p []byte, tsMs int64) {
	w.ts = tsMs
	if lines := bytes.Count(p, newline); lines > 0 {
		// An index entry for every line the read completes, and room for
		// their text: pooled for a big read, else made by the first append
		// (append allocates without zeroing what it copies).
		w.reserve(len(p), lines)
	}
	f := w.framer
	if f.skipping || len(f.partial) > 0 {
		// An earlier read began a line: the framer ends it, then the rest
		// starts at a line start.
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			f.Write(p)
			w.flush()
			return
		}
		f.Write(p[:i+1])
		p = p[i+1:]
	}
	n := w.verbatim(p)
	f.Write(p[n:])
	w.flush()
}

// verbatim is the fast path of Write: when no line is pending, the complete
// lines at the start of p that need no change (valid UTF-8, no CR before the
// newline, short enough for both caps) are already in the run's form, so
// they are copied in one piece and only indexed. It returns how many bytes
// of p it took; the framer frames the rest, from a line start, so the lines
// are the same as if it had framed them all.
func (w *LineWriter) verbatim(p []byte) int {
	f := w.framer
	if f.skipping || len(f.partial) > 0 {
		return 0
	}
	last := bytes.LastIndexByte(p, '\n')
	if last < 0 || !utf8.Valid(p[:last+1]) {
		return 0
	}
	limit := min(f.maxRunes, f.maxBytes) // bytes a line may have and need no cut
	span := p[:last+1]
	crs := bytes.IndexByte(span, '\r') >= 0 // else no line can end in CR
	base := len(w.text)
	t := append(w.text, span...)
	start := base // where the current line begins
	ends := w.ends
	// Eight bytes a step: short lines make a call per line (IndexByte) cost
	// more than the search itself. The last word is padded with zeros.
	for i := base; i < len(t); i += 8 {
		var word uint64
		if i+8 <= len(t) {
			word = binary.LittleEndian.Uint64(t[i:])
		} else {
			var tail [8]byte
			copy(tail[:], t[i:])
			word = binary.LittleEndian.Uint64(tail[:])
		}
		for m := newlines(word); m != 0; m &= m - 1 {
			nl := i + bits.TrailingZeros64(m)>>3
			if nl-start > limit || (crs && nl > start && t[nl-1] == '\r') {
				goto stop
			}
			start = nl + 1
			ends = append(ends, uint32(start))
		}
	}
stop:
	w.ends = ends
	w.text = t[:start]
	return start - base
}

// newlines returns a word with the high bit set in each byte of x that is
// '\n' and no other bit (exact: no false positive from a borrow).
func newlines(x uint64) uint64 {
	const lo7 = 0x7f7f7f7f7f7f7f7f
	x ^= 0x0a0a0a0a0a0a0a0a // '\n' bytes become zero
	y := (x & lo7) + lo7    // high bit set in each non-zero low-7-bit byte
	return ^(y | x | lo7)   // high bit set where the byte is zero
}

var newline = []byte{'\n'}

// reserve gives the run about to be built pooled memory for size bytes of
// text and lines index entries, where the read is big enough for the
// pools (see buffers.go), and an index allocated to fit otherwise.
func (w *LineWriter) reserve(size, lines int) {
	if len(w.text) == 0 && len(w.ends) == 0 {
		if b := bufs.get(size); b != nil {
			w.ref = &bufRef{data: b, refs: 1}
			w.text = (*b)[:0]
		}
	}
	if w.ref != nil && len(w.ends) == 0 {
		if e := endsBufs.get(lines); e != nil {
			w.ref.ends = e
			w.ends = (*e)[:0]
			return
		}
	}
	w.ends = make([]uint32, 0, lines)
}

// ReadPipe writes what f gives, each read stamped with its time, until EOF
// (it returns nil), an error, or f's read deadline (os.ErrDeadlineExceeded).
func (w *LineWriter) ReadPipe(f *os.File) error {
	return readPipe(f, false, func(p []byte, _ *[]byte, tsMs int64) bool {
		w.Write(p, tsMs) // the framer copies what it keeps
		return false
	})
}

// Close ends the stream at tsMs: a last line without a newline is emitted.
func (w *LineWriter) Close(tsMs int64) {
	w.ts = tsMs
	w.framer.Flush()
	w.flush()
}

// emit adds one framed line (the framer's bytes, valid only during the
// call) to the run.
func (w *LineWriter) emit(line []byte, flags uint32) {
	w.text = append(append(w.text, line...), '\n')
	end := uint32(len(w.text))
	if flags&FlagTruncated != 0 {
		end |= truncBit
		w.trunc = true
	}
	w.ends = append(w.ends, end)
}

// flush hands the run to the ring, which keeps its buffers.
func (w *LineWriter) flush() {
	if len(w.ends) == 0 {
		// Nothing to store: pooled memory reserved for the read goes back.
		w.ref.release()
		w.text, w.ends, w.ref = nil, nil, nil
		return
	}
	run := Run{Attempt: w.attempt, Stream: w.stream, Seq: w.seq, TsMs: w.ts, Text: w.text, Ends: w.ends, Truncated: w.trunc}
	if ref := w.ref; ref != nil {
		// An append that outgrew a pooled buffer moved the run elsewhere;
		// the pooled one goes back unused.
		if !holds(ref.data, w.text) {
			bufs.put(ref.data)
			ref.data = nil
		}
		if ref.ends != nil && !holds(ref.ends, w.ends) {
			endsBufs.put(ref.ends)
			ref.ends = nil
		}
		run.ref = ref
	}
	w.seq += uint64(len(w.ends))
	w.text, w.ends, w.trunc, w.ref = nil, nil, false, nil
	if w.waiting != nil && w.ring.whenFull == Block {
		w.waiting.Add(1)
		defer w.waiting.Add(-1)
	}
	w.ring.AppendRun(&run, w.stop)
}
