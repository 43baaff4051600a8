package runner

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/solti-exec/solti-exec/core/model"
	"github.com/solti-exec/solti-exec/core/proc"
)

func TestPolicyEnv(t *testing.T) {
	host := []string{"HOME=/root", "SECRET=s3", "PATH=/host/bin", "LANG=C", "HOME=/second"}
	pairs := []model.EnvVar{{Key: "A", Value: "1"}, {Key: "LANG", Value: "C.UTF-8"}}
	tests := []struct {
		name string
		pol  *model.EnvPolicy
		env  []model.EnvVar
		want []string
	}{
		{"nil inherits", nil, pairs, []string{"HOME=/root", "SECRET=s3", "PATH=/host/bin", "LANG=C.UTF-8", "HOME=/second", "A=1"}},
		{"inherit", &model.EnvPolicy{Mode: model.EnvInherit}, nil, host},
		{"clear", &model.EnvPolicy{Mode: model.EnvClear}, pairs, []string{"A=1", "LANG=C.UTF-8", "PATH=" + model.SafePath}},
		{"clear, own PATH", &model.EnvPolicy{Mode: model.EnvClear}, []model.EnvVar{{Key: "PATH", Value: "/x"}}, []string{"PATH=/x"}},
		{"clear, nothing", &model.EnvPolicy{Mode: model.EnvClear}, nil, []string{"PATH=" + model.SafePath}},
		{"allowlist", &model.EnvPolicy{Mode: model.EnvAllowlist, Allow: []string{"HOME", "LANG", "NOPE"}}, pairs,
			[]string{"HOME=/root", "LANG=C.UTF-8", "A=1", "PATH=" + model.SafePath}},
		{"allowlist with PATH", &model.EnvPolicy{Mode: model.EnvAllowlist, Allow: []string{"PATH"}}, nil,
			[]string{"PATH=/host/bin"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, policyEnv(host, tc.env, tc.pol))
		})
	}
}

func TestTaskIsolationMergesOverTheRunner(t *testing.T) {
	u1, u2, yes, no := uint32(0o022), uint32(0o077), true, false
	runnerPart := runnerIsolationFor(t, `{"security": {"namespaces": {"net": true, "uts": true},
		"credentials": {"uid": 5, "gid": 6}, "seccomp": "denyHostControl"}}`)
	assert.Equal(t, uint64(unix.CLONE_NEWNET|unix.CLONE_NEWUTS), runnerPart.Unshare)
	assert.NotEmpty(t, runnerPart.Seccomp)
	cfg := model.ProcessOptions{Umask: &u1, NewSession: &yes, EnvPolicy: &model.EnvPolicy{Mode: model.EnvClear}}

	iso, pol := taskIsolation(runnerPart, cfg, model.ProcessOptions{}, []int{7})
	assert.Equal(t, u1, iso.Umask)
	assert.True(t, iso.HasUmask && iso.NewSession)
	assert.Equal(t, model.EnvClear, pol.Mode)
	require.Len(t, iso.Fds, 1)
	assert.Equal(t, 7, iso.Fds[0].Target)
	assert.Equal(t, runnerPart.Credentials, iso.Credentials)

	iso, pol = taskIsolation(runnerPart, cfg, model.ProcessOptions{Umask: &u2, NewSession: &no,
		EnvPolicy: &model.EnvPolicy{Mode: model.EnvInherit}}, nil)
	assert.Equal(t, u2, iso.Umask)
	assert.False(t, iso.NewSession)
	assert.Equal(t, model.EnvInherit, pol.Mode)
	assert.Empty(t, iso.Fds)
}

func runnerIsolationFor(t *testing.T, cfgJSON string) proc.Isolation {
	t.Helper()
	cfg, err := model.ParseRunnerConfig([]byte(cfgJSON))
	require.NoError(t, err)
	iso, err := runnerIsolation(cfg)
	require.NoError(t, err)
	return iso
}
