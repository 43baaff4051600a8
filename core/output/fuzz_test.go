package output

import (
	"bytes"
	"regexp"
	"testing"
	"unicode/utf8"
)

// suffixRe matches the text a character or repair cut appends.
var suffixRe = regexp.MustCompile(`\.\.\. \(truncated [1-9][0-9]* bytes\)$`)

// FuzzFramer feeds random bytes in random chunks to a framer with small caps
// and checks what every caller relies on: each line is valid UTF-8 without a
// newline and within the caps, one line comes out per physical line (none
// lost after a cut), and chunking does not change the result.
func FuzzFramer(f *testing.F) {
	f.Add([]byte("hello\r\nworld\n\nlast"), []byte{1, 2, 3}, uint8(8), uint8(5))
	f.Add([]byte("0123456789abcdef\nnext\r\n"), []byte{5}, uint8(4), uint8(100))
	f.Add([]byte("\xff\xfe\xf0\x90\x80a\xed\xa0\x80\n\xc3"), []byte{}, uint8(6), uint8(3))
	f.Add([]byte("héllo wörld €𝄞\n1234567é9\n"), []byte{7, 1}, uint8(8), uint8(4))
	f.Add(bytes.Repeat([]byte("x"), 300), []byte{100, 1, 50}, uint8(64), uint8(200))

	f.Fuzz(func(t *testing.T, data, chunks []byte, maxBytes, maxRunes uint8) {
		cfg := FrameConfig{MaxLineBytes: int(maxBytes%64) + 1, MaxLineLength: int(maxRunes%64) + 1}
		capBytes := max(cfg.MaxLineBytes, minLineBytes)

		sizes := make([]int, len(chunks))
		for i, c := range chunks {
			sizes[i] = int(c)
		}
		got := frameChunks(cfg, data, sizes)

		physical := bytes.Count(data, []byte{'\n'})
		if i := bytes.LastIndexByte(data, '\n'); len(data) > i+1 {
			physical++ // a last line without newline
		}
		if len(got) != physical {
			t.Fatalf("%d lines for %d physical lines", len(got), physical)
		}

		for _, l := range got {
			text := l.Text
			if !utf8.ValidString(text) {
				t.Fatalf("invalid UTF-8: %q", text)
			}
			if bytes.IndexByte([]byte(text), '\n') >= 0 {
				t.Fatalf("newline in line: %q", text)
			}
			if l.Flags&^FlagTruncated != 0 {
				t.Fatalf("unknown flags %#x", l.Flags)
			}
			body := text
			if l.Flags&FlagTruncated != 0 {
				body = suffixRe.ReplaceAllString(text, "")
			}
			if len(body) > capBytes {
				t.Fatalf("line body of %d bytes over the %d-byte cap: %q", len(body), capBytes, text)
			}
			if n := utf8.RuneCountInString(body); n > cfg.MaxLineLength {
				t.Fatalf("line body of %d characters over the %d cap: %q", n, cfg.MaxLineLength, text)
			}
		}

		whole := frameChunks(cfg, data, nil)
		if len(whole) != len(got) {
			t.Fatalf("chunking changed the line count: %d vs %d", len(got), len(whole))
		}
		for i := range whole {
			if whole[i] != got[i] {
				t.Fatalf("chunking changed line %d: %+v vs %+v", i, got[i], whole[i])
			}
		}
	})
}
