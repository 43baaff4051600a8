package model

import (
	"math"
	"time"
)

// The wire carries milliseconds as uint64, and a caller may well write a
// huge value to mean "forever". Converting with a plain multiplication
// would overflow time.Duration (int64 ns, ~292 years) into a negative
// duration, i.e. an immediate timeout; these saturate instead.

func millis(ms uint64) time.Duration {
	const maxMs = uint64(math.MaxInt64 / int64(time.Millisecond))
	if ms > maxMs {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(ms) * time.Millisecond
}

// Timeout is TimeoutMs as a duration.
func (s *TaskSpec) Timeout() time.Duration { return millis(s.TimeoutMs) }

// KillGrace is KillGraceMs as a duration; 0 = SIGKILL at once.
func (s *TaskSpec) KillGrace() time.Duration { return millis(s.KillGraceMs) }

// Interval is IntervalMs as a duration.
func (r RestartPolicy) Interval() time.Duration { return millis(r.IntervalMs) }

// First is FirstMs as a duration.
func (b BackoffPolicy) First() time.Duration { return millis(b.FirstMs) }

// Max is MaxMs as a duration.
func (b BackoffPolicy) Max() time.Duration { return millis(b.MaxMs) }

// DrainGrace is DrainGraceMs as a duration.
func (c *RunnerConfig) DrainGrace() time.Duration { return millis(c.DrainGraceMs) }
