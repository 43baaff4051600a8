package runner

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/solti-exec/solti-exec/core/proc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestSpawnFailureNamesStepAndErrno(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	require.NoError(t, os.WriteFile(plain, []byte("not a program\n"), 0o644))

	r := newRunner(t, "")
	cases := []struct {
		name  string
		sub   map[string]any
		step  string
		errno unix.Errno
		arg   string
	}{
		{"missing program", command("nosuch-binary-xyz"), proc.StepExec, unix.ENOENT, "nosuch-binary-xyz"},
		{"not executable", command(plain), proc.StepExec, unix.EACCES, plain},
		{"missing directory", withCwd(command("true"), "/nonexistent-dir-xyz"), proc.StepChdir, unix.ENOENT, "/nonexistent-dir-xyz"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			task := build(t, r, spec("fail", tc.sub, nil))
			assert.Nil(t, task.SpawnFailure(), "never spawned")
			require.Error(t, task.Spawn())
			se := task.SpawnFailure()
			require.NotNil(t, se)
			assert.Equal(t, tc.step, se.Step)
			assert.Equal(t, tc.errno, se.Errno)
			assert.Equal(t, tc.arg, se.Arg)
		})
	}
}

func TestSpawnFailureNilUnlessTheStartFailed(t *testing.T) {
	r := newRunner(t, "")
	ok := build(t, r, spec("ok", command("sh", "-c", "exit 3"), nil))
	require.NoError(t, ok.Spawn())
	assert.Nil(t, ok.SpawnFailure(), "running")
	_, err := ok.Wait(10 * time.Second)
	require.NoError(t, err)
	assert.Nil(t, ok.SpawnFailure(), "ended by exiting")
}

func withCwd(sub map[string]any, dir string) map[string]any {
	sub["cwd"] = dir
	return sub
}
