package output

import (
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// A pipe found full is grown to bigPipe, at most maxBigPipes at a time in
// the process, and the count goes back down when its reader is done.
func TestBusyPipesAreGrownWithinTheCap(t *testing.T) {
	const pipes = maxBigPipes + 4
	type pipe struct{ r, w *os.File }
	var ps []pipe
	for i := 0; i < pipes; i++ {
		r, w, err := os.Pipe()
		require.NoError(t, err)
		ps = append(ps, pipe{r, w})
	}
	// Each pipe is full before its reader starts, so every first read
	// fills its buffer; the writers then wait for the test to look.
	full := make([]byte, readSize)
	for _, p := range ps {
		n, err := p.w.Write(full)
		require.NoError(t, err)
		require.Equal(t, readSize, n)
	}
	var grown sync.WaitGroup
	grown.Add(pipes)
	release := make(chan struct{})
	var done sync.WaitGroup
	for _, p := range ps {
		done.Add(1)
		go func(p pipe) {
			defer done.Done()
			r := NewRing(RingConfig{Capacity: 4})
			first := true
			err := readPipe(p.r, true, func(b []byte, _ *[]byte, _ int64) bool {
				if first {
					first = false
					grown.Done()
					<-release
				}
				r.Append(Event{Kind: KindChunk, Data: append([]byte(nil), b...)}, nil)
				return false
			})
			assert.NoError(t, err)
		}(p)
	}
	grown.Wait()
	big := 0
	for _, p := range ps {
		size, err := unix.FcntlInt(p.r.Fd(), unix.F_GETPIPE_SZ, 0)
		require.NoError(t, err)
		if size == bigPipe {
			big++
		} else {
			assert.Equal(t, readSize, size, "a pipe not grown keeps its size")
		}
	}
	assert.Equal(t, int32(big), bigPipes.Load())
	assert.LessOrEqual(t, big, maxBigPipes)
	assert.Positive(t, big, "full pipes are grown (unless this user is past fs.pipe-user-pages-soft)")
	close(release)
	for _, p := range ps {
		p.w.Close()
	}
	done.Wait()
	for _, p := range ps {
		p.r.Close()
	}
	assert.Zero(t, bigPipes.Load(), "a reader that is done gives its share back")
}
