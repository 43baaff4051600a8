package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIsolationConfigParses(t *testing.T) {
	cfg := parseConfig(t, `{"envPolicy": {"mode": "allowlist", "allow": ["HOME"]}, "umask": "027",
		"newSession": true, "scriptStorage": "file",
		"security": {"credentials": {"uid": 1000, "gid": 100, "supplementaryGroups": [4, 27]},
			"namespaces": {"mount": true, "uts": true}, "seccomp": "denyHostControl"}}`)
	require.NotNil(t, cfg.Process.EnvPolicy)
	assert.Equal(t, EnvPolicy{Mode: EnvAllowlist, Allow: []string{"HOME"}}, *cfg.Process.EnvPolicy)
	require.NotNil(t, cfg.Process.Umask)
	assert.Equal(t, uint32(0o027), *cfg.Process.Umask)
	require.NotNil(t, cfg.Process.NewSession)
	assert.True(t, *cfg.Process.NewSession)
	assert.Equal(t, ScriptFile, cfg.ScriptStorage)
	assert.Equal(t, &Credentials{UID: 1000, GID: 100, SupplementaryGroups: []uint32{4, 27}}, cfg.Security.Credentials)
	assert.Equal(t, Namespaces{Mount: true, UTS: true}, cfg.Security.Namespaces)
	assert.Equal(t, SeccompDenyHostControl, cfg.Security.Seccomp)

	def := parseConfig(t, `{}`)
	assert.Equal(t, ProcessOptions{}, def.Process, "nothing set: inherit, the host's umask, no session")
	assert.Equal(t, ScriptMemfd, def.ScriptStorage)
}

func TestIsolationTaskParses(t *testing.T) {
	spec := parseSpec(t, withSubprocess(`{"mode": {"command": {"command": "env"}},
		"envPolicy": {"mode": "clear"}, "umask": "0", "newSession": false, "argv0": "e", "passFds": [3, 9]}`))
	sub := spec.Kind.Subprocess
	assert.Equal(t, &EnvPolicy{Mode: EnvClear}, sub.Process.EnvPolicy)
	assert.Equal(t, uint32(0), *sub.Process.Umask)
	assert.False(t, *sub.Process.NewSession)
	assert.Equal(t, "e", sub.Argv0)
	assert.Equal(t, []int{3, 9}, sub.PassFds)
}

func TestIsolationConfigErrors(t *testing.T) {
	tests := []struct {
		doc, field, msg string
	}{
		{`{"envPolicy": {}}`, "envPolicy.mode", `envPolicy.mode must be "inherit", "clear" or "allowlist"`},
		{`{"envPolicy": {"mode": "clear", "allow": ["A"]}}`, "envPolicy.allow", `envPolicy.allow is only allowed with mode "allowlist"`},
		{`{"envPolicy": {"mode": "allowlist", "allow": [""]}}`, "envPolicy.allow[0]", "envPolicy.allow[0] must be a variable name: not empty, no '=' or NUL"},
		{`{"envPolicy": {"mode": "inherit", "extra": 1}}`, "envPolicy.extra", ""},
		{`{"umask": "8"}`, "umask", `umask must be an octal string from "000" to "777", got "8"`},
		{`{"umask": "01000"}`, "umask", ""},
		{`{"umask": ""}`, "umask", ""},
		{`{"umask": 18}`, "umask", ""},
		{`{"newSession": "yes"}`, "newSession", ""},
		{`{"scriptStorage": "disk"}`, "scriptStorage", `scriptStorage must be "memfd" or "file"`},
		{`{"security": {"credentials": {"gid": 1}}}`, "security.credentials.uid", "security.credentials.uid is required"},
		{`{"security": {"credentials": {"uid": 1}}}`, "security.credentials.gid", "security.credentials.gid is required"},
		{`{"security": {"credentials": {"uid": 4294967295, "gid": 1}}}`, "security.credentials.uid", ""},
		{`{"security": {"credentials": {"uid": 1, "gid": 1, "supplementaryGroups": [1, 4294967295]}}}`,
			"security.credentials.supplementaryGroups[1]", ""},
		{`{"security": {"credentials": {"uid": -1, "gid": 1}}}`, "security.credentials.uid", ""},
		{`{"security": {"namespaces": {"pid": true}}}`, "security.namespaces.pid", ""},
		{`{"security": {"seccomp": "strict"}}`, "security.seccomp", `security.seccomp must be "disabled" or "denyHostControl"`},
	}
	for _, tc := range tests {
		t.Run(tc.doc, func(t *testing.T) {
			ce := requireConfigError(t, tc.doc)
			assert.Equal(t, tc.field, ce.Field)
			if tc.msg != "" {
				assert.Equal(t, tc.msg, ce.Msg)
			}
		})
	}
}

func TestIsolationTaskErrors(t *testing.T) {
	cmd := `"mode": {"command": {"command": "true"}}, `
	tests := []struct {
		body, field string
	}{
		{`{` + cmd + `"passFds": [2]}`, "kind.subprocess.passFds[0]"},
		{`{` + cmd + `"passFds": [5, 5]}`, "kind.subprocess.passFds[1]"},
		{`{` + cmd + `"passFds": [3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18]}`, "kind.subprocess.passFds"},
		{`{` + cmd + `"passFds": [2147483648]}`, "kind.subprocess.passFds[0]"},
		{`{` + cmd + `"argv0": "a\u0000b"}`, "kind.subprocess.argv0"},
		{`{` + cmd + `"umask": "999"}`, "kind.subprocess.umask"},
		{`{` + cmd + `"envPolicy": {"mode": "clear", "allow": ["X"]}}`, "kind.subprocess.envPolicy.allow"},
	}
	for _, tc := range tests {
		t.Run(tc.body, func(t *testing.T) {
			se := requireSpecError(t, withSubprocess(tc.body))
			assert.Equal(t, tc.field, se.Field)
		})
	}
}
