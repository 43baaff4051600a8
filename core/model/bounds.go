package model

// Upper bounds of the configurable counts and sizes. Each is what the code
// can hold with room to spare (no +1 or ×2 on a value can overflow an int)
// and far above any honest use; a value beyond is refused with the field
// and the bound named, instead of overflowing later inside a reader
// goroutine or an allocation. Durations (timeout, grace, interval, backoff)
// have no bound: they saturate at time.Duration's maximum (~292 years),
// which reads as "never" (durations.go).
const (
	// MaxLineBytesLimit bounds log.maxLineBytes: a physical line is held
	// whole in memory until it is cut.
	MaxLineBytesLimit = 1 << 26 // 64 MiB
	// MaxLineLengthLimit bounds log.maxLineLength (characters).
	MaxLineLengthLimit = 1 << 26
	// MaxOutputCapacity bounds output.capacity (events in a task's ring).
	MaxOutputCapacity = 1 << 20
	// MaxOutputBytes bounds output.maxBytes (bytes of a task's ring).
	MaxOutputBytes = 1 << 32 // 4 GiB
	// MaxPids is the kernel's PID_MAX_LIMIT: pids.max refuses more.
	MaxPids = 1 << 22
	// The kernel's range for a cpu.max period and its minimum quota, in µs.
	MinCPUPeriod = 1000
	MaxCPUPeriod = 1000000
	MinCPUQuota  = 1000
)

// atMost is the shared message for a value above its bound.
func atMost(field string, got, limit uint64) *fieldError {
	return errorf(field, "%s must be at most %d, got %d", field, limit, got)
}
