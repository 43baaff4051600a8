package runner

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/solti-exec/solti-exec/core/model"
	"github.com/solti-exec/solti-exec/core/output"
)

// withEnviron gives the runner a host environment other than Go's own, as
// the C layer does with the C environ.
func withEnviron(env ...string) func(*Options) {
	return func(o *Options) { o.Environ = func() []string { return env } }
}

// These are about script files: the memfd needs no TMPDIR.

// The script directory goes where the host's TMPDIR says at build time, not
// where Go's start-up copy of the environment says.
func TestScriptGoesToTheHostTMPDIR(t *testing.T) {
	dir := t.TempDir()
	r := newRunner(t, `{"scriptStorage": "file"}`, withEnviron("PATH=/usr/bin:/bin", "TMPDIR="+dir))
	task := build(t, r, spec("tmp", bashScript("echo hi"), nil))
	assert.Equal(t, dir, filepath.Dir(filepath.Dir(task.ScriptPath())))
	assert.True(t, strings.HasPrefix(filepath.Base(filepath.Dir(task.ScriptPath())), "solti-exec-"))

	r = newRunner(t, `{"scriptStorage": "file"}`, withEnviron("PATH=/usr/bin:/bin"))
	task = build(t, r, spec("tmp", bashScript("echo hi"), nil))
	assert.Equal(t, "/tmp", filepath.Dir(filepath.Dir(task.ScriptPath())), "no TMPDIR: /tmp")
}

// A TMPDIR that cannot take the script fails the build with the cause and
// the path, and consumes no run number.
func TestUnusableTMPDIRFailsTheBuildWithTheCause(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	tests := []struct {
		name, tmpdir, cause string
	}{
		{"missing", "/nonexistent-solti-tmp", "no such file or directory"},
		{"not a directory", file, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRunner(t, `{"scriptStorage": "file"}`, withEnviron("TMPDIR="+tt.tmpdir))
			s, err := model.ParseTaskSpec(spec("tmp", bashScript("echo hi"), nil))
			require.NoError(t, err)
			before := nextRunSeq()
			task, err := r.Build(s)
			assert.Nil(t, task)
			var be *BuildError
			require.True(t, errors.As(err, &be), "want *BuildError, got %T: %v", err, err)
			assert.Contains(t, err.Error(), "script file: ")
			assert.Contains(t, err.Error(), tt.tmpdir)
			assert.Contains(t, err.Error(), tt.cause)
			assert.Equal(t, before+1, nextRunSeq(), "the failed build took no run number")
		})
	}
}

// A relative TMPDIR is resolved at build, against the host's working
// directory, not after the child's chdir to the spec's cwd.
func TestRelativeTMPDIRWithSpecCwd(t *testing.T) {
	wd, err := os.Getwd()
	require.NoError(t, err)
	rel, err := filepath.Rel(wd, t.TempDir())
	require.NoError(t, err)
	require.False(t, filepath.IsAbs(rel))
	r := newRunner(t, `{"scriptStorage": "file"}`, withEnviron("PATH=/usr/bin:/bin", "TMPDIR="+rel))
	sub := bashScript("echo hi")
	sub["cwd"] = t.TempDir()
	task := build(t, r, spec("reltmp", sub, nil))
	assert.True(t, filepath.IsAbs(task.ScriptPath()), task.ScriptPath())
	rep, evs := runToEnd(t, task)
	assert.Equal(t, OutcomeSuccess, rep.Outcome, rep.Reason)
	assert.Equal(t, []string{"hi"}, lines(evs, output.Stdout))
}
