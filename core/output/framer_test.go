package output

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// line is what a Framer emitted, in a form testify prints readably.
type line struct {
	Text  string
	Flags uint32
}

func plain(texts ...string) []line {
	out := make([]line, len(texts))
	for i, s := range texts {
		out[i] = line{Text: s}
	}
	return out
}

// frameChunks feeds input cut at the given chunk sizes (cycled; the rest in
// one piece when sizes is empty), flushes, and returns the lines.
func frameChunks(cfg FrameConfig, input []byte, sizes []int) []line {
	var got []line
	f := NewFramer(cfg, func(b []byte, flags uint32) {
		got = append(got, line{Text: string(b), Flags: flags})
	})
	for i := 0; len(input) > 0; i++ {
		n := len(input)
		if len(sizes) > 0 {
			n = min(max(sizes[i%len(sizes)], 1), len(input))
		}
		f.Write(input[:n])
		input = input[n:]
	}
	f.Flush()
	return got
}

// randomSizes returns chunk sizes in [1, maxSize] from a fixed seed.
func randomSizes(seed uint64, count, maxSize int) []int {
	rng := rand.New(rand.NewPCG(seed, 0))
	sizes := make([]int, count)
	for i := range sizes {
		sizes[i] = 1 + rng.IntN(maxSize)
	}
	return sizes
}

// assertFramed checks input gives want whole, byte by byte, and in random
// chunks: the framer must not depend on how reads split the stream.
func assertFramed(t *testing.T, cfg FrameConfig, input string, want []line) {
	t.Helper()
	assert.Equal(t, want, frameChunks(cfg, []byte(input), nil), "whole")
	assert.Equal(t, want, frameChunks(cfg, []byte(input), []int{1}), "byte by byte")
	for seed := range uint64(5) {
		assert.Equal(t, want, frameChunks(cfg, []byte(input), randomSizes(seed, 64, 17)), "random chunks, seed %d", seed)
	}
}

func TestFramerSplitting(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []line
	}{
		{"lines", "alpha\nbeta\n", plain("alpha", "beta")},
		{"crlf", "alpha\r\nbeta\r\n", plain("alpha", "beta")},
		{"only one cr stripped", "alpha\r\r\n", plain("alpha\r")},
		{"lone cr kept", "a\rb\n", plain("a\rb")},
		{"last line without newline", "alpha\nbeta", plain("alpha", "beta")},
		{"last line without newline, cr", "alpha\r", plain("alpha")},
		{"empty lines", "\n\n\r\nx\n\n", plain("", "", "", "x", "")},
		{"nothing", "", nil},
		{"single newline", "\n", plain("")},
		{"invalid byte", "a\xffb\n", plain("a\uFFFDb")},
		{"two invalid bytes, two replacements", "\xff\xfe\n", plain("\uFFFD\uFFFD")},
		{"incomplete 4-byte sequence, one replacement", "\xf0\x90\x80a\n", plain("\uFFFDa")},
		{"surrogate half, three replacements", "\xed\xa0\x80\n", plain("\uFFFD\uFFFD\uFFFD")},
		{"overlong encoding", "\xc0\xaf\n", plain("\uFFFD\uFFFD")},
		{"cut rune at eof", "ok\n\xc3", plain("ok", "\uFFFD")},
		{"replacement char itself is valid", "\uFFFD\n", plain("\uFFFD")},
		{"multi-byte valid", "héllo wörld €𝄞\n", plain("héllo wörld €𝄞")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertFramed(t, FrameConfig{}, tt.input, tt.want)
		})
	}
}

func TestFramerByteCap(t *testing.T) {
	small := FrameConfig{MaxLineBytes: 8, MaxLineLength: 100}
	tests := []struct {
		name  string
		input string
		want  []line
	}{
		{"at the cap", "01234567\n", plain("01234567")},
		{"at the cap with crlf", "01234567\r\nnext\n", plain("01234567", "next")},
		{"at the cap with cr at eof", "01234567\r", plain("01234567")},
		{"one over", "012345678\nnext\n", []line{{"01234567", FlagTruncated}, {"next", 0}}},
		{"far over, rest skipped", "0123456789abcdef\nnext\n", []line{{"01234567", FlagTruncated}, {"next", 0}}},
		{"far over at eof", "0123456789abcdef", []line{{"01234567", FlagTruncated}}},
		{"over with cr", "012345678\r\nnext\n", []line{{"01234567", FlagTruncated}, {"next", 0}}},
		{"cut backs off a split rune", "1234567é9\n", []line{{"1234567", FlagTruncated}}},
		{"cut keeps a whole rune", "123456é9\n", []line{{"123456é", FlagTruncated}}},
		{"cut backs off a split 4-byte rune", "123456𝄞\nx\n", []line{{"123456", FlagTruncated}, {"x", 0}}},
		{"invalid byte under the cap is replaced", "12345\xff\n", plain("12345\uFFFD")},
		// The cut keeps MaxLineBytes raw bytes; repairing one bad byte makes
		// three, so the repaired line is cut again, at a rune boundary, with a
		// suffix saying how much went.
		{"repair growing a cut line past the cap", "1234567\xff9\n", []line{{"1234567... (truncated 3 bytes)", FlagTruncated}}},
		{"repair growing past the cap is cut with a suffix", "\xff\xff\xff\xff\xff\n",
			[]line{{"\uFFFD\uFFFD... (truncated 9 bytes)", FlagTruncated}}},
		{"empty lines around", "\n0123456789\n\n", []line{{"", 0}, {"01234567", FlagTruncated}, {"", 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertFramed(t, small, tt.input, tt.want)
		})
	}
}

func TestFramerLongLineKeepsFollowingLines(t *testing.T) {
	long := strings.Repeat("x", 200<<10)
	input := []byte(long + "\nafter one\r\n\nafter two\n" + long + "\nlast")

	t.Run("defaults: cut at 64 KiB then at 4096 characters", func(t *testing.T) {
		cut := line{Text: strings.Repeat("x", 4096) + "... (truncated 61440 bytes)", Flags: FlagTruncated}
		want := []line{cut, {"after one", 0}, {"", 0}, {"after two", 0}, cut, {"last", 0}}
		for seed := range uint64(10) {
			got := frameChunks(FrameConfig{}, input, randomSizes(seed, 200, 9000))
			require.Len(t, got, len(want), "seed %d", seed)
			assert.Equal(t, want, got, "seed %d", seed)
		}
	})

	t.Run("character cap out of the way: exactly MaxLineBytes kept", func(t *testing.T) {
		cfg := FrameConfig{MaxLineLength: 1 << 20}
		cut := line{Text: strings.Repeat("x", DefaultMaxLineBytes), Flags: FlagTruncated}
		want := []line{cut, {"after one", 0}, {"", 0}, {"after two", 0}, cut, {"last", 0}}
		for seed := range uint64(10) {
			got := frameChunks(cfg, input, randomSizes(seed, 200, 9000))
			assert.Equal(t, want, got, "seed %d", seed)
		}
		assert.Equal(t, want, frameChunks(cfg, input, nil), "whole")
	})
}

func TestFramerCharacterCap(t *testing.T) {
	tests := []struct {
		name string
		text string
		want line
	}{
		{"ascii at the cap", strings.Repeat("a", 4096), line{strings.Repeat("a", 4096), 0}},
		{"ascii one over", strings.Repeat("a", 4097), line{strings.Repeat("a", 4096) + "... (truncated 1 bytes)", FlagTruncated}},
		{"two-byte runes at the cap", strings.Repeat("é", 4096), line{strings.Repeat("é", 4096), 0}},
		{"two-byte runes over", strings.Repeat("é", 5000), line{strings.Repeat("é", 4096) + "... (truncated 1808 bytes)", FlagTruncated}},
		{"mixed widths over", strings.Repeat("a€𝄞", 1400), line{
			strings.Repeat("a€𝄞", 1365) + "a" + "... (truncated " + strconv.Itoa(len(strings.Repeat("a€𝄞", 1400))-1365*8-1) + " bytes)",
			FlagTruncated}},
		{"invalid bytes count as one character each after repair", strings.Repeat("\xff", 4100), line{
			strings.Repeat("\uFFFD", 4096) + "... (truncated 12 bytes)", FlagTruncated}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertFramed(t, FrameConfig{}, tt.text+"\n", []line{tt.want})
			assertFramed(t, FrameConfig{}, tt.text, []line{tt.want}) // at EOF
		})
	}
}

func TestFramerConfigDefaults(t *testing.T) {
	f := NewFramer(FrameConfig{MaxLineBytes: -1, MaxLineLength: 0}, func([]byte, uint32) {})
	assert.Equal(t, DefaultMaxLineBytes, f.maxBytes)
	assert.Equal(t, DefaultMaxLineLength, f.maxRunes)
	f = NewFramer(FrameConfig{MaxLineBytes: 1}, func([]byte, uint32) {})
	assert.Equal(t, utf8.UTFMax, f.maxBytes, "one rune must always fit")
}

func TestFramerEmitOwnsLine(t *testing.T) {
	var got [][]byte
	f := NewFramer(FrameConfig{}, func(b []byte, _ uint32) { got = append(got, b) })
	buf := []byte("one\ntw")
	f.Write(buf)
	copy(buf, "XXXXXX") // the pipe reader reuses its buffer
	buf = []byte("o\nthree")
	f.Write(buf)
	copy(buf, "XXXXXXX")
	f.Flush()
	require.Len(t, got, 3)
	assert.Equal(t, "one", string(got[0]))
	assert.Equal(t, "two", string(got[1]))
	assert.Equal(t, "three", string(got[2]))
}

func TestFramerFlushResets(t *testing.T) {
	var got []line
	f := NewFramer(FrameConfig{MaxLineBytes: 4}, func(b []byte, flags uint32) { got = append(got, line{string(b), flags}) })
	f.Write([]byte("abcdefgh")) // cut and emitted at once, rest skipped
	require.Equal(t, []line{{"abcd", FlagTruncated}}, got)
	f.Flush() // the tail of a cut line emits nothing
	f.Flush() // an empty buffer emits nothing
	f.Write([]byte("new"))
	f.Flush()
	assert.Equal(t, []line{{"abcd", FlagTruncated}, {"new", 0}}, got, "skipping ends with the stream")
}

func TestFramerReleasesLargePartialBuffer(t *testing.T) {
	f := NewFramer(FrameConfig{}, func([]byte, uint32) {})
	f.Write(bytes.Repeat([]byte("y"), 20000))
	f.Write([]byte("\n"))
	assert.LessOrEqual(t, cap(f.partial), partialKeep, "an idle framer must not pin a long line's buffer")
	f.Write([]byte("short"))
	f.Write([]byte("\n"))
	assert.Positive(t, cap(f.partial), "a small buffer is kept for reuse")
}

func TestFramerOneAllocationPerLine(t *testing.T) {
	chunk := bytes.Repeat([]byte(strings.Repeat("z", 99)+"\n"), 100)
	lines := 0
	f := NewFramer(FrameConfig{}, func([]byte, uint32) { lines++ })
	allocs := testing.AllocsPerRun(50, func() { f.Write(chunk) })
	assert.LessOrEqual(t, allocs, 100.0)
	assert.Positive(t, lines)
}

func TestIllFormedLenMatchesMaximalSubpart(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"\x80", 1}, {"\xc1\xbf", 1}, {"\xc2", 1}, {"\xc2A", 1},
		{"\xe0\x80", 1}, {"\xe0\xa0", 2}, {"\xe0\xa0A", 2},
		{"\xed\xa0", 1}, {"\xed\x9f", 2},
		{"\xf0\x8f", 1}, {"\xf0\x90\x80", 3}, {"\xf4\x90", 1}, {"\xf4\x8f\xbf", 3},
		{"\xf5\x80", 1}, {"\xff", 1},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, illFormedLen([]byte(tt.in)), "%q", tt.in)
	}
}
