package runner

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/solti-exec/solti-exec/core/internal/testutil"
	"github.com/solti-exec/solti-exec/core/output"
	"github.com/solti-exec/solti-exec/core/proc"
)

// A runner whose shim is missing at its first spawn fails that spawn naming
// the path, and works once the shim is installed: the failure is not kept.
func TestRunnerRecoversOnceTheShimIsThere(t *testing.T) {
	shim := filepath.Join(t.TempDir(), "solti-exec-shim")
	r := newRunner(t, "", func(o *Options) { o.ShimPath = shim })

	task := build(t, r, spec("shim", command("echo", "back"), nil))
	err := task.Spawn()
	var se *proc.SpawnError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, proc.StepShim, se.Step)
	assert.Contains(t, err.Error(), shim)
	assert.Contains(t, err.Error(), "not found")

	real, err := os.ReadFile(testutil.ShimPath(t))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(shim, real, 0o755))
	task = build(t, r, spec("shim", command("echo", "back"), nil))
	require.NoError(t, task.Spawn())
	evs := readAll(t, task)
	assert.Equal(t, []string{"back"}, lines(evs, output.Stdout))
	_, err = task.Wait(5 * time.Second)
	require.NoError(t, err)
}
