package output

import (
	"bytes"
	"testing"
)

// FuzzLineWriterRuns checks the run path against the framer: whatever the
// bytes and however the reads split them, the lines a LineWriter stores
// (read back by Poll and by ReadLines) are exactly the lines the framer
// emits for the same bytes, with the same flags.
func FuzzLineWriterRuns(f *testing.F) {
	f.Add([]byte("hello\r\nworld\n\nlast"), []byte{1, 2, 3}, uint8(8), uint8(5))
	f.Add([]byte("0123456789abcdef\nnext\r\n"), []byte{5}, uint8(4), uint8(100))
	f.Add([]byte("\xff\xfe\xf0\x90\x80a\xed\xa0\x80\n\xc3"), []byte{}, uint8(6), uint8(3))
	f.Add([]byte("short\nlines\nof\nsix\nbytes\nor\nless\n\n\n"), []byte{9, 17}, uint8(63), uint8(63))
	f.Add(bytes.Repeat([]byte("x\r\n12345678\n"), 30), []byte{100, 1, 50}, uint8(8), uint8(200))

	f.Fuzz(func(t *testing.T, data, chunks []byte, maxBytes, maxRunes uint8) {
		cfg := FrameConfig{MaxLineBytes: int(maxBytes%64) + 1, MaxLineLength: int(maxRunes%64) + 1}
		sizes := make([]int, len(chunks))
		for i, c := range chunks {
			sizes[i] = int(c)
		}
		want := frameChunks(cfg, data, nil)

		r := NewRing(RingConfig{Capacity: 1 << 20, MaxBytes: 1 << 30})
		w := NewLineWriter(r, cfg, 1, Stdout, nil, nil)
		input := data
		for i := 0; len(input) > 0; i++ {
			n := len(input)
			if len(sizes) > 0 {
				n = min(max(sizes[i%len(sizes)], 1), len(input))
			}
			w.Write(input[:n], 1)
			input = input[n:]
		}
		w.Close(2)

		evs, _, err := r.Poll(0, 1<<20, 1<<30, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != len(want) {
			t.Fatalf("poll: %d lines, the framer %d", len(evs), len(want))
		}
		for i, ev := range evs {
			if string(ev.Data) != want[i].Text || ev.Flags != want[i].Flags || ev.Seq != uint64(i) {
				t.Fatalf("poll line %d: %q flags %d seq %d, the framer %q flags %d", i, ev.Data, ev.Flags, ev.Seq, want[i].Text, want[i].Flags)
			}
		}

		r.Close()
		var got []line
		var cur LineCursor
		buf := make([]byte, 1<<16)
		for {
			res, next, err := r.ReadLines(cur, Stdout, buf, 0, nil)
			if err == ErrEOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range parseRecords(t, buf[:res.N]) {
				for _, l := range rec.lines {
					got = append(got, line{Text: l, Flags: rec.flags})
				}
			}
			cur = next
		}
		if len(got) != len(want) {
			t.Fatalf("read lines: %d lines, the framer %d", len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("read line %d: %+v, the framer %+v", i, got[i], want[i])
			}
		}
	})
}
