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
}

// NewFramer returns a framer that calls emit for each line, in order, from
// within Write and Flush. The slice passed to emit is a fresh allocation that
// the receiver owns (it can go into an Event as is); flags is 0 or
// FlagTruncated.
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
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if f.skipping {
			if i < 0 {
				return
			}
			f.skipping = false
			p = p[i+1:]
			continue
		}
		if i < 0 {
			f.hold(p)
			return
		}
		if len(f.partial) == 0 {
			// Common case: the whole line is in this read; no copy but the
			// one emitLine makes.
			f.line(p[:i])
		} else {
			f.complete(p[:i])
		}
		p = p[i+1:]
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
		f.line(f.partial)
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
		f.emitLine(cutRaw(p, f.maxBytes), FlagTruncated)
	} else {
		if need := f.maxBytes - len(f.partial); need > 0 {
			f.partial = append(f.partial, p[:need]...)
		}
		f.emitLine(cutRaw(f.partial, f.maxBytes), FlagTruncated)
		f.resetPartial()
	}
	f.skipping = true
}

// complete ends the buffered line with tail (the bytes before a newline).
func (f *Framer) complete(tail []byte) {
	if len(f.partial)+len(tail) <= f.maxBytes+1 {
		f.partial = append(f.partial, tail...)
		f.line(f.partial)
	} else {
		if need := f.maxBytes - len(f.partial); need > 0 {
			f.partial = append(f.partial, tail[:need]...)
		}
		f.emitLine(cutRaw(f.partial, f.maxBytes), FlagTruncated)
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

// line emits one physical line given without its '\n'.
func (f *Framer) line(raw []byte) {
	if n := len(raw); n > 0 && raw[n-1] == '\r' {
		raw = raw[:n-1]
	}
	if len(raw) > f.maxBytes {
		f.emitLine(cutRaw(raw, f.maxBytes), FlagTruncated)
		return
	}
	f.emitLine(raw, 0)
}

// emitLine makes the line valid and short enough, copies it and emits it.
func (f *Framer) emitLine(raw []byte, flags uint32) {
	// Fast path, nearly every line: short enough that its characters cannot
	// exceed the cap, and valid UTF-8. utf8.Valid checks 8 ASCII bytes a step.
	if len(raw) <= f.maxRunes && utf8.Valid(raw) {
		out := make([]byte, len(raw))
		copy(out, raw)
		f.emit(out, flags)
		return
	}
	out, cut := finishLine(raw, f.maxRunes, f.maxBytes)
	if cut {
		flags |= FlagTruncated
	}
	f.emit(out, flags)
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
