package proc

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// The counters behind the C ABI's debug stats go back to zero on every path:
// a normal run, a failed exec, a plan the library refuses, and a process
// closed while it still runs.
func TestCountersBalance(t *testing.T) {
	sp := setup(t)
	require.Zero(t, OpenFDs())
	require.Zero(t, LiveProcesses())

	pr, err := sp.Start(sh("sleep 5"))
	require.NoError(t, err)
	assert.Equal(t, 1, LiveProcesses())
	assert.Equal(t, 4, OpenFDs(), "pidfd, control socket, stdout and stderr")
	require.NoError(t, pr.Signal(unix.SIGKILL))
	<-pr.Exited()
	pr.Close()
	assert.Zero(t, LiveProcesses())
	assert.Eventually(t, func() bool { return OpenFDs() == 0 }, 5*time.Second, time.Millisecond,
		"the shim's pidfd goes once the shim is reaped")

	run(t, sp, &Plan{Path: "true", Env: testEnv})
	_, err = sp.Start(&Plan{Path: "solti-no-such-program", Env: testEnv})
	require.Error(t, err)
	_, err = sp.Start(&Plan{Path: "echo", Args: []string{"a\x00b"}, Env: testEnv})
	require.Error(t, err)
	_, err = sp.Start(&Plan{Path: "true", Stdin: StdinInherit, Dir: "/nonexistent-dir", Env: testEnv})
	require.Error(t, err)
	assert.Zero(t, LiveProcesses())
	assert.Eventually(t, func() bool { return OpenFDs() == 0 }, 5*time.Second, time.Millisecond)
}
