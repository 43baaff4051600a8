package output

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkFramer frames 100-byte lines (99 characters and a newline) fed in
// 64 KiB reads, as a pipe reader would; one op is one line.
func BenchmarkFramer(b *testing.B) {
	for _, tt := range []struct {
		name string
		line string
	}{
		{"ascii", strings.Repeat("a", 98) + "\r"},
		{"utf8", strings.Repeat("é", 49) + "a"},
	} {
		b.Run(tt.name, func(b *testing.B) {
			lineBytes := []byte(tt.line + "\n")
			read := bytes.Repeat(lineBytes, 65536/len(lineBytes))
			// Misalign reads so lines straddle chunk boundaries, like a pipe.
			read = append(read, lineBytes[:37]...)

			lines := 0
			f := NewFramer(FrameConfig{}, func([]byte, uint32) { lines++ })
			b.SetBytes(int64(len(lineBytes)))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for lines < b.N {
				f.Write(read)
			}
			b.ReportMetric(float64(lines)/time.Since(start).Seconds(), "lines/s")
		})
	}
}

// BenchmarkRingAppendPoll measures a line's trip through the ring: one op is
// one Append plus its share of a batched Poll.
func BenchmarkRingAppendPoll(b *testing.B) {
	data := []byte(strings.Repeat("a", 100))
	ev := Event{Kind: KindLine, Attempt: 1, Stream: Stdout, Data: data}

	b.Run("sequential", func(b *testing.B) {
		r := NewRing(RingConfig{})
		buf := make([]Event, 0, 256)
		var cursor uint64
		b.ReportAllocs()
		for i := range b.N {
			ev.Seq = uint64(i)
			r.Append(ev, nil)
			if i%256 == 255 {
				var err error
				buf, cursor, err = r.PollInto(buf[:0], cursor, 256, 1<<20, 0, nil)
				if err != nil || len(buf) != 256 {
					b.Fatalf("poll: %d events, %v", len(buf), err)
				}
			}
		}
	})

	b.Run("concurrent", func(b *testing.B) {
		for _, policy := range []WhenFull{DropOldest, Block} {
			name := map[WhenFull]string{DropOldest: "dropOldest", Block: "block"}[policy]
			b.Run(name, func(b *testing.B) {
				r := NewRing(RingConfig{WhenFull: policy})
				done := make(chan uint64)
				go func() {
					buf := make([]Event, 0, 256)
					var cursor, got uint64
					for {
						var err error
						buf, cursor, err = r.PollInto(buf[:0], cursor, 256, 1<<20, -1, nil)
						if err != nil {
							done <- got
							return
						}
						got += uint64(len(buf))
					}
				}()
				b.ReportAllocs()
				for i := range b.N {
					ev.Seq = uint64(i)
					r.Append(ev, nil)
				}
				r.Close()
				got := <-done
				b.ReportMetric(float64(got)/float64(b.N), "read/op")
			})
		}
	})
}

// BenchmarkLineWriter is a pipe reader's whole path for short lines (seq's
// output): framing, numbering, batched appends, and a reader polling in
// batches of 1024 on another goroutine. One op is one line.
func BenchmarkLineWriter(b *testing.B) {
	var text bytes.Buffer
	for i := 0; text.Len() < 65536-16; i++ {
		text.WriteString(strconv.Itoa(1000000+i) + "\n")
	}
	read := text.Bytes()
	perRead := bytes.Count(read, []byte{'\n'})
	r := NewRing(RingConfig{WhenFull: Block})
	done := make(chan uint64)
	go func() {
		buf := make([]Event, 0, 1024)
		var cursor, got uint64
		for {
			var err error
			buf, cursor, err = r.PollInto(buf[:0], cursor, 1024, 1<<20, -1, nil)
			if err != nil {
				done <- got
				return
			}
			got += uint64(len(buf))
		}
	}()
	w := NewLineWriter(r, FrameConfig{}, 1, Stdout, nil, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for lines := 0; lines < b.N; lines += perRead {
		w.Write(read, 1)
	}
	w.Close(1)
	r.Close()
	<-done
}
