package runner

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The reserve leaves threads behind, and makes none when they are there.
func TestReserveThreadsLeavesIdleThreads(t *testing.T) {
	before := threadsOfSelf(t)
	n := before + 3
	reserveThreads(n + 2)
	after := threadsOfSelf(t)
	// n+2 threads held at once, and sysmon, which runs no goroutine.
	assert.GreaterOrEqual(t, after, n+3, "threads before %d", before)
	reserveThreads(n)
	assert.Equal(t, after, threadsOfSelf(t), "a smaller reserve made threads (n %d)", n)
}

func TestNewRunnerReservesThreads(t *testing.T) {
	newRunner(t, "")
	// GOMAXPROCS+2 held at once, and sysmon.
	assert.GreaterOrEqual(t, threadsOfSelf(t), threadsWanted()+1)
}
