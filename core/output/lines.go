package output

import (
	"strconv"
	"unicode/utf8"
)

// This file holds the slow path of framing: lines that are not valid UTF-8
// or that may have more characters than the cap. Lines reach it rarely, so
// clarity wins over speed here, but it still copies runs of good bytes in
// bulk rather than rune by rune.

// replacement is U+FFFD REPLACEMENT CHARACTER in UTF-8.
const replacement = "\uFFFD"

// finishLine returns a fresh, valid UTF-8 copy of raw holding at most
// maxRunes characters and maxBytes bytes, and whether it had to be cut. A
// cut line ends with "... (truncated K bytes)", K being the bytes removed
// from the (repaired) line, as upstream writes it. The byte cap matters here
// only when repair grew a line: each bad byte can become three.
func finishLine(raw []byte, maxRunes, maxBytes int) ([]byte, bool) {
	line := raw
	owned := false
	if !utf8.Valid(line) {
		line = appendValidUTF8(make([]byte, 0, len(raw)+len(raw)/2), raw)
		owned = true
	}
	keep := prefixLen(line, maxRunes, maxBytes)
	if keep == len(line) {
		if owned {
			return line, false
		}
		return append(make([]byte, 0, len(line)), line...), false
	}
	cutBytes := len(line) - keep
	out := make([]byte, 0, keep+len("... (truncated  bytes)")+20)
	out = append(out, line[:keep]...)
	out = append(out, "... (truncated "...)
	out = strconv.AppendInt(out, int64(cutBytes), 10)
	out = append(out, " bytes)"...)
	return out, true
}

// prefixLen returns the byte length of the longest prefix of s (valid UTF-8)
// with at most maxRunes runes and at most maxBytes bytes.
func prefixLen(s []byte, maxRunes, maxBytes int) int {
	if len(s) <= maxRunes && len(s) <= maxBytes {
		return len(s) // a rune is at least one byte
	}
	i, n := 0, 0
	for i < len(s) && n < maxRunes {
		size := 1
		if s[i] >= utf8.RuneSelf {
			_, size = utf8.DecodeRune(s[i:])
		}
		if i+size > maxBytes {
			break
		}
		i += size
		n++
	}
	return i
}

// appendValidUTF8 appends s to dst with each maximal ill-formed subsequence
// replaced by one U+FFFD. That is Unicode's recommended practice and what
// Python's "replace" error handler and Rust's from_utf8_lossy do, so hosts
// decoding the raw bytes themselves would see the same text. (The standard
// library's bytes.ToValidUTF8 instead merges whole runs of bad bytes.)
func appendValidUTF8(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		start := i
		for i < len(s) {
			if s[i] < utf8.RuneSelf {
				i++
				continue
			}
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		dst = append(dst, s[start:i]...)
		if i < len(s) {
			dst = append(dst, replacement...)
			i += illFormedLen(s[i:])
		}
	}
	return dst
}

// illFormedLen returns the length of the maximal ill-formed subsequence at
// the start of s, which utf8.DecodeRune rejected: the longest prefix that
// could still begin a well-formed sequence (Unicode table 3-7), or 1.
func illFormedLen(s []byte) int {
	lo, hi := byte(0x80), byte(0xBF)
	var need int
	switch c := s[0]; {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c == 0xED:
		need, hi = 2, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90
	case c == 0xF4:
		need, hi = 3, 0x8F
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	default:
		return 1
	}
	n := 1
	for n <= need && n < len(s) && s[n] >= lo && s[n] <= hi {
		lo, hi = 0x80, 0xBF
		n++
	}
	return n
}
