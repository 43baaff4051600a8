package output

import (
	"bytes"
	"unicode/utf8"
)

const (
	// DefaultMaxLineBytes is the physical line cap (SPEC: maxLineBytes).
	DefaultMaxLineBytes = 65536
	// DefaultMaxLineLength is the character cap (SPEC: maxLineLength).
	DefaultMaxLineLength = 4096

	// minLineBytes keeps any single rune representable: with a smaller cap a
	// cut could make no progress inside a multi-byte rune.
	minLineBytes = utf8.UTFMax

	// lineBlock is the size of the blocks short lines are copied into, and
	// blockMaxLine the longest line copied into one; a longer line gets an
	// allocation of its own. Lines sharing a block keep all of it alive, so
	// per stream at most one block beyond the lines a ring keeps can be held
	// by a line that outlived its evicted neighbours.
	lineBlock    = 4096
	blockMaxLine = 512

	// partialKeep is the largest partial-line buffer kept between lines. A
	// long line grows the buffer up to MaxLineBytes; holding that forever
	// would pin 64 KiB per stream on thousands of idle tasks, while typical
	// lines that straddle two reads fit comfortably in this much.
	partialKeep = 4096
)

// FrameConfig bounds the lines a Framer emits. Zero or negative fields take
// the defaults; MaxLineBytes is raised to at least 4 so one rune always fits.
type FrameConfig struct {
	MaxLineBytes  int // bytes per physical line before it is cut (default 65536)
	MaxLineLength int // characters (runes) per line before it is shortened (default 4096)

	// Bytes selects output mode "bytes": no framing at all, each pipe read
	// becomes one KindChunk event holding exactly the bytes read (see
	// ChunkWriter). The limits above then do not apply.
	Bytes bool
}

// Framer splits one stream's bytes into lines (SPEC section 5). It is not
// safe for concurrent use: each pipe reader owns one.
//
// The framer is chunking-invariant: the lines emitted depend only on the
// bytes fed, not on how Write calls split them. That is why an over-long line
// is judged on bytes alone and cut before any decoding, and why the cut
// backs off a rune split by the cap without looking at bytes that may not
// have arrived yet.
type Framer struct {
	maxBytes int
	maxRunes int
	emit     func(line []byte, flags uint32)

	// partial holds the start of a line whose newline has not arrived yet.
	// It never holds more than maxBytes+1 bytes: the extra byte may be the
	// '\r' of a CR LF, which must not count towards the cap.
	partial []byte
	// skipping is set after an over-long physical line was cut and emitted:
	// its remaining bytes are dropped up to and including the next '\n'.
	skipping bool
	// block is where short lines are copied, one after the other, so that a
	// stream of short lines costs one allocation per block, not per line.
	block []byte
	// lend passes emit the framer's own bytes for a line that needs no
	// change, valid only during the call, instead of a copy: for an emit
	// that copies anyway (LineWriter).
	lend bool
}

// NewFramer returns a framer that calls emit for each line, in order, from
// within Write and Flush. The slice passed to emit is the receiver's to keep:
// the framer never writes it again (it can go into an Event as is), and its
// capacity is its length; flags is 0 or FlagTruncated.
func NewFramer(cfg FrameConfig, emit func(line []byte, flags uint32)) *Framer {
	f := &Framer{maxBytes: cfg.MaxLineBytes, maxRunes: cfg.MaxLineLength, emit: emit}
	if f.maxBytes <= 0 {
		f.maxBytes = DefaultMaxLineBytes
	}
	if f.maxBytes < minLineBytes {
		f.maxBytes = minLineBytes
	}
	if f.maxRunes <= 0 {
		f.maxRunes = DefaultMaxLineLength
	}
	return f
}

// Write feeds raw bytes read from a pipe and emits every line they complete.
// It does not retain p.
func (f *Framer) Write(p []byte) {
	first := bytes.IndexByte(p, '\n')
	if first < 0 {
		if !f.skipping {
			f.hold(p)
		}
		return
	}
	// The lines that lie wholly in p, after its first newline and up to its
	// last, are checked for UTF-8 in one pass: '\n' never occurs inside a
	// multi-byte sequence, so if that span is valid, so is each line in it.
	// One long check costs far less than a call per short line.
	last := bytes.LastIndexByte(p, '\n')
	spanValid := first < last && utf8.Valid(p[first+1:last])
	for off := 0; off < len(p); {
		rest := p[off:]
		i := bytes.IndexByte(rest, '\n')
		if f.skipping {
			if i < 0 {
				return
			}
			f.skipping = false
			off += i + 1
			continue
		}
		if i < 0 {
			f.hold(rest)
			return
		}
		if len(f.partial) == 0 {
			// Common case: the whole line is in this read; no copy but the
			// one emitLine makes.
			f.line(rest[:i], spanValid && off > first)
		} else {
			f.complete(rest[:i])
		}
		off += i + 1
	}
}

// Flush ends the stream: a last line that had no newline is emitted. An
// empty buffer emits nothing, and neither does the tail of a line that was
// already cut. The framer is then ready for a new stream.
func (f *Framer) Flush() {
	if f.skipping {
		f.skipping = false
		return
	}
	if len(f.partial) > 0 {
		f.line(f.partial, false)
		f.resetPartial()
	}
}

// hold buffers p, which has no newline, as the start of a line; if the line
// is now known to exceed the cap, it is cut and emitted at once so memory
// stays bounded and the reader sees it without waiting for the newline.
func (f *Framer) hold(p []byte) {
	if len(f.partial)+len(p) <= f.maxBytes+1 {
		f.partial = append(f.partial, p...)
		return
	}
	// More than maxBytes+1 bytes with no newline: even after stripping a
	// possible '\r' the content is over the cap.
	if len(f.partial) == 0 {
		f.emitLine(cutRaw(p, f.maxBytes), FlagTruncated, false)
	} else {
		if need := f.maxBytes - len(f.partial); need > 0 {
			f.partial = append(f.partial, p[:need]...)
		}
		f.emitLine(cutRaw(f.partial, f.maxBytes), FlagTruncated, false)
		f.resetPartial()
	}
	f.skipping = true
}

// complete ends the buffered line with tail (the bytes before a newline).
func (f *Framer) complete(tail []byte) {
	if len(f.partial)+len(tail) <= f.maxBytes+1 {
		f.partial = append(f.partial, tail...)
		f.line(f.partial, false)
	} else {
		if need := f.maxBytes - len(f.partial); need > 0 {
			f.partial = append(f.partial, tail[:need]...)
		}
		f.emitLine(cutRaw(f.partial, f.maxBytes), FlagTruncated, false)
	}
	f.resetPartial()
}

func (f *Framer) resetPartial() {
	if cap(f.partial) > partialKeep {
		f.partial = nil
		return
	}
	f.partial = f.partial[:0]
}

// line emits one physical line given without its '\n'; valid says it is
// known to be valid UTF-8 already.
func (f *Framer) line(raw []byte, valid bool) {
	if n := len(raw); n > 0 && raw[n-1] == '\r' {
		raw = raw[:n-1]
	}
	if len(raw) > f.maxBytes {
		// A cut of valid text stays valid: cutRaw never splits a rune.
		f.emitLine(cutRaw(raw, f.maxBytes), FlagTruncated, valid)
		return
	}
	f.emitLine(raw, 0, valid)
}

// emitLine makes the line valid and short enough, copies it and emits it.
func (f *Framer) emitLine(raw []byte, flags uint32, valid bool) {
	// Fast path, nearly every line: short enough that its characters cannot
	// exceed the cap, and valid UTF-8. utf8.Valid checks 8 ASCII bytes a step.
	if len(raw) <= f.maxRunes && (valid || utf8.Valid(raw)) {
		if f.lend {
			f.emit(raw, flags)
			return
		}
		f.emit(f.copyLine(raw), flags)
		return
	}
	out, cut := finishLine(raw, f.maxRunes, f.maxBytes)
	if cut {
		flags |= FlagTruncated
	}
	f.emit(out, flags)
}

// copyLine returns a copy of raw that is never written again. Its capacity is
// its length, so appending to it copies rather than overwriting the line
// after it in the block.
func (f *Framer) copyLine(raw []byte) []byte {
	n := len(raw)
	if n == 0 {
		return []byte{} // not nil: an empty line has data of length 0
	}
	if n > blockMaxLine {
		return append(make([]byte, 0, n), raw...)
	}
	if cap(f.block)-len(f.block) < n {
		f.block = make([]byte, 0, lineBlock)
	}
	start := len(f.block)
	f.block = append(f.block, raw...)
	return f.block[start:len(f.block):len(f.block)]
}

// cutRaw returns raw, which has at least max bytes, cut to at most max bytes.
// If the cut would split a rune that is valid so far, it backs off to that
// rune's start, so the cap does not turn a good character into U+FFFD. It
// only looks at raw[:max], which keeps the result independent of how many
// bytes after the cut have arrived.
func cutRaw(raw []byte, max int) []byte {
	for i := max - 1; i >= 0 && i > max-utf8.UTFMax; i-- {
		if raw[i]&0xC0 == 0x80 { // continuation byte: keep looking for the start
			continue
		}
		if i > 0 && !utf8.FullRune(raw[i:max]) {
			return raw[:i]
		}
		break
	}
	return raw[:max]
}
