package output

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// readable reports whether fd polls readable within timeout.
func readable(t testing.TB, fd int, timeout time.Duration) bool {
	t.Helper()
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int(timeout.Milliseconds()))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		require.NoError(t, err)
		return n == 1 && fds[0].Revents&unix.POLLIN != 0
	}
}

func TestReadyFD(t *testing.T) {
	r := NewRing(RingConfig{})
	fd, err := r.ReadyFD()
	require.NoError(t, err)
	t.Cleanup(r.Release)
	again, err := r.ReadyFD()
	require.NoError(t, err)
	assert.Equal(t, fd, again, "one fd per ring")
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	require.NoError(t, err)
	assert.NotZero(t, flags&unix.FD_CLOEXEC, "close-on-exec")

	assert.False(t, readable(t, fd, 0), "nothing yet")

	fill(t, r, 0, 3, 1)
	assert.True(t, readable(t, fd, 0), "readable after append")

	_, cursor, err := r.Poll(0, 2, 100, 0, nil)
	require.NoError(t, err)
	assert.True(t, readable(t, fd, 0), "not caught up: stays readable")

	_, cursor, err = r.Poll(cursor, 10, 100, 0, nil)
	require.NoError(t, err)
	assert.False(t, readable(t, fd, 0), "cleared after catching up")

	_, _, err = r.Poll(cursor, 10, 100, 0, nil)
	require.NoError(t, err)
	assert.False(t, readable(t, fd, 0), "an empty poll keeps it clear")

	fill(t, r, 3, 4, 1)
	assert.True(t, readable(t, fd, 0), "readable again")
	_, _, err = r.Poll(0, 1000, 1000, 0, nil) // any reader catching up clears
	require.NoError(t, err)
	assert.False(t, readable(t, fd, 0))

	r.Close()
	assert.True(t, readable(t, fd, 0), "readable after close")
	_, _, err = r.Poll(4, 10, 100, 0, nil)
	require.ErrorIs(t, err, ErrEOF)
	assert.True(t, readable(t, fd, 0), "stays readable while closed")
}

func TestReadyFDOneWritePerCatchUp(t *testing.T) {
	r := NewRing(RingConfig{})
	t.Cleanup(r.Release)
	fd, err := r.ReadyFD()
	require.NoError(t, err)
	fill(t, r, 0, 1000, 1)
	r.AppendControl(Event{Kind: KindFinished})
	r.Close()

	// The eventfd counter adds up every write since the last drain.
	var buf [8]byte
	_, err = unix.Read(fd, buf[:])
	require.NoError(t, err)
	assert.EqualValues(t, 1, binary.NativeEndian.Uint64(buf[:]), "one write for 1002 signals")
}

func TestReadyFDCreatedLate(t *testing.T) {
	r := NewRing(RingConfig{})
	t.Cleanup(r.Release)
	fill(t, r, 0, 1, 1)
	fd, err := r.ReadyFD()
	require.NoError(t, err)
	assert.True(t, readable(t, fd, 0), "events appended before the fd existed")

	r2 := NewRing(RingConfig{})
	t.Cleanup(r2.Release)
	fill(t, r2, 0, 1, 1)
	_, _, err = r2.Poll(0, 10, 100, 0, nil)
	require.NoError(t, err)
	fd2, err := r2.ReadyFD()
	require.NoError(t, err)
	assert.False(t, readable(t, fd2, 0), "a reader already caught up")
}

func TestReadyFDRelease(t *testing.T) {
	r := NewRing(RingConfig{})
	fd, err := r.ReadyFD()
	require.NoError(t, err)
	r.Release()
	_, err = unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	assert.ErrorIs(t, err, unix.EBADF, "the eventfd is closed")
	_, err = r.ReadyFD()
	assert.ErrorIs(t, err, ErrReleased)
	r.Release()
}

// TestReadyFDNoLostWakeup runs a producer against a consumer that sleeps only
// in poll(2) on the readiness fd and reads with zero timeouts: a lost wake-up
// leaves it asleep, which the poll timeout turns into a failure.
func TestReadyFDNoLostWakeup(t *testing.T) {
	const n = 200_000
	tests := []struct {
		name string
		cfg  RingConfig
	}{
		{"block: every event", RingConfig{Capacity: 64, WhenFull: Block}},
		{"drop oldest: every event or counted as lagged", RingConfig{Capacity: 64}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRing(tt.cfg)
			t.Cleanup(r.Release)
			fd, err := r.ReadyFD()
			require.NoError(t, err)

			go func() {
				for s := range uint64(n) {
					r.Append(lineEvent(s, 0), nil)
				}
				r.Close()
			}()

			var cursor, seen, lagged, wakeups uint64
			next := uint64(0) // the seq expected next
			deadline := time.Now().Add(60 * time.Second)
		consume:
			for {
				require.True(t, time.Now().Before(deadline), "consumer too slow")
				require.True(t, readable(t, fd, 10*time.Second), "lost wake-up at cursor %d", cursor)
				wakeups++
				for {
					evs, nextCursor, err := r.Poll(cursor, 256, 1<<20, 0, nil)
					if errors.Is(err, ErrEOF) {
						break consume
					}
					require.NoError(t, err)
					cursor = nextCursor
					if len(evs) == 0 {
						break
					}
					for _, ev := range evs {
						if ev.Kind == KindLagged {
							lagged += uint64(ev.Value)
							next += uint64(ev.Value)
							continue
						}
						require.Equal(t, next, ev.Seq)
						next++
						seen++
					}
				}
			}
			assert.EqualValues(t, n, seen+lagged)
			assert.EqualValues(t, n, cursor)
			if tt.cfg.WhenFull == Block {
				assert.Zero(t, lagged)
			}
			t.Logf("seen %d, lagged %d, %d wake-ups", seen, lagged, wakeups)
		})
	}
}

// A quiet append is there for a reader that polls, but wakes neither a
// waiting reader nor the readiness fd until Wake (or Close) does.
func TestAppendControlQuietWakesOnWake(t *testing.T) {
	t.Run("waiting reader", func(t *testing.T) {
		r := NewRing(RingConfig{Capacity: 16})
		defer r.Release()
		got := make(chan struct{})
		go func() {
			defer close(got)
			evs, _, err := r.Poll(0, 16, 1<<16, 5*time.Second, nil)
			if err == nil && len(evs) == 1 && evs[0].Kind == KindFinished {
				got <- struct{}{}
			}
		}()
		time.Sleep(50 * time.Millisecond) // the reader is waiting
		r.AppendControlQuiet(Event{Kind: KindFinished, Attempt: 1})
		evs, _, err := r.Poll(0, 16, 1<<16, 0, nil)
		require.NoError(t, err)
		require.Len(t, evs, 1, "a polling reader sees the quiet event at once")
		select {
		case <-got:
			t.Fatal("the waiting reader was woken by the quiet append")
		case <-time.After(100 * time.Millisecond):
		}
		r.Wake()
		select {
		case _, ok := <-got:
			require.True(t, ok, "the waiting reader got the event")
		case <-time.After(2 * time.Second):
			t.Fatal("Wake did not wake the waiting reader")
		}
	})
	t.Run("readiness fd", func(t *testing.T) {
		r, fd := quietlyFinishedRing(t)
		assert.False(t, readable(t, fd, 50*time.Millisecond), "the readiness fd waits for Wake")
		r.Wake()
		assert.True(t, readable(t, fd, time.Second))
		r.Wake() // nothing due: no second write
		var buf [8]byte
		_, err := unix.Read(fd, buf[:])
		require.NoError(t, err)
		assert.Equal(t, uint64(1), binary.NativeEndian.Uint64(buf[:]))
	})
	t.Run("close wakes", func(t *testing.T) {
		r, fd := quietlyFinishedRing(t)
		r.Close()
		assert.True(t, readable(t, fd, time.Second))
	})
}

// quietlyFinishedRing is a ring with a readiness fd and a FINISHED appended
// quietly; the ring is released when the test ends.
func quietlyFinishedRing(t *testing.T) (*Ring, int) {
	r := NewRing(RingConfig{Capacity: 16})
	t.Cleanup(r.Release)
	fd, err := r.ReadyFD()
	require.NoError(t, err)
	r.AppendControlQuiet(Event{Kind: KindFinished, Attempt: 1})
	return r, fd
}
