package model

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// configExample is the runner config of SPEC section 2, verbatim.
const configExample = `{
  "env": [{"key": "PATH", "value": "/usr/bin:/bin"}],
  "rlimits": {"maxOpenFiles": 256, "maxFileSizeBytes": 1048576, "disableCoreDumps": true},
  "cgroups": {"cpu": {"quota": 50000, "period": 100000}, "memory": 268435456,
              "pids": 64, "failOnError": true},
  "security": {"dropAllCaps": true, "keepCaps": ["NET_BIND_SERVICE"], "noNewPrivs": true,
               "failOnCapError": true},
  "log": {"maxLineLength": 4096, "maxLineBytes": 65536},
  "output": {"capacity": 1024, "maxBytes": 4194304, "whenFull": "dropOldest"}
}`

func TestParseRunnerConfigSpecExample(t *testing.T) {
	cfg := parseConfig(t, configExample)

	assert.Equal(t, []EnvVar{{Key: "PATH", Value: "/usr/bin:/bin"}}, cfg.Env)
	assert.Equal(t, &Rlimits{MaxOpenFiles: u64(256), MaxFileSizeBytes: u64(1048576), DisableCoreDumps: true}, cfg.Rlimits)
	assert.Equal(t, &Cgroups{
		CPU:         &CPULimit{Quota: u64(50000), Period: 100000},
		Memory:      u64(268435456),
		Pids:        u64(64),
		FailOnError: true,
	}, cfg.Cgroups)
	assert.Equal(t, &Security{
		DropAllCaps:    true,
		KeepCaps:       []string{"NET_BIND_SERVICE"},
		KeepCapMask:    1 << 10,
		NoNewPrivs:     true,
		FailOnCapError: true,
	}, cfg.Security)
	assert.Equal(t, LogConfig{MaxLineLength: 4096, MaxLineBytes: 65536}, cfg.Log)
	assert.Equal(t, OutputConfig{Capacity: 1024, MaxBytes: 4194304, WhenFull: WhenFullDropOldest, Mode: OutputModeLines}, cfg.Output)
	assert.Empty(t, cfg.ShimPath)
	assert.Equal(t, uint64(2000), cfg.DrainGraceMs)
}

func TestParseRunnerConfigDefaults(t *testing.T) {
	cfg := parseConfig(t, `{}`)
	assert.Equal(t, DefaultRunnerConfig(), *cfg)
	assert.Nil(t, cfg.Env)
	assert.Nil(t, cfg.Rlimits)
	assert.Nil(t, cfg.Cgroups)
	assert.Nil(t, cfg.Security)
	assert.Equal(t, LogConfig{MaxLineLength: 4096, MaxLineBytes: 65536}, cfg.Log)
	assert.Equal(t, OutputConfig{Capacity: 1024, MaxBytes: 4194304, WhenFull: WhenFullDropOldest, Mode: OutputModeLines}, cfg.Output)
	assert.Equal(t, uint64(2000), cfg.DrainGraceMs)
	assert.Equal(t, 2*time.Second, cfg.DrainGrace())
	require.NoError(t, cfg.Validate())

	def := DefaultRunnerConfig()
	require.NoError(t, def.Validate())
}

func TestParseRunnerConfigPartialDefaults(t *testing.T) {
	cfg := parseConfig(t, `{"cgroups": {"cpu": {}}, "security": {}, "rlimits": {}, "log": {"maxLineBytes": 100},
		"output": {"whenFull": "block"}, "drainGraceMs": 0, "shimPath": "/usr/libexec/solti-exec-shim"}`)

	require.NotNil(t, cfg.Cgroups)
	assert.Equal(t, &Cgroups{CPU: &CPULimit{Period: DefaultCPUPeriod}, FailOnError: true}, cfg.Cgroups,
		"cpu quota absent = max, period defaults, failOnError defaults to true")
	assert.Equal(t, &Security{FailOnCapError: true}, cfg.Security)
	assert.Equal(t, &Rlimits{}, cfg.Rlimits)
	assert.Equal(t, LogConfig{MaxLineLength: 4096, MaxLineBytes: 100}, cfg.Log)
	assert.Equal(t, OutputConfig{Capacity: 1024, MaxBytes: 4194304, WhenFull: WhenFullBlock, Mode: OutputModeLines}, cfg.Output)
	assert.Zero(t, cfg.DrainGraceMs, "an explicit 0 means no drain grace")
	assert.Equal(t, "/usr/libexec/solti-exec-shim", cfg.ShimPath)
}

func TestParseRunnerConfigAllFields(t *testing.T) {
	cfg := parseConfig(t, `{
		"rlimits": {"maxOpenFiles": 64, "maxFileSizeBytes": 1, "disableCoreDumps": false,
			"maxAddressSpaceBytes": 1073741824, "maxCpuSeconds": 30, "maxProcesses": 0},
		"cgroups": {"cpu": {"quota": null, "period": 50000}, "memory": null, "pids": 1,
			"failOnError": false, "parent": "/sys/fs/cgroup/user.slice/app"},
		"security": {"dropAllCaps": true, "keepCaps": ["cap_chown", "CAP_NET_RAW", "SYS_ADMIN", "CHOWN"],
			"noNewPrivs": false, "failOnCapError": false},
		"drainGraceMs": 500}`)

	assert.Equal(t, &Rlimits{
		MaxOpenFiles:         u64(64),
		MaxFileSizeBytes:     u64(1),
		MaxAddressSpaceBytes: u64(1073741824),
		MaxCPUSeconds:        u64(30),
		MaxProcesses:         u64(0),
	}, cfg.Rlimits, "maxProcesses 0 is allowed: it forbids forking")
	assert.Equal(t, &Cgroups{CPU: &CPULimit{Period: 50000}, Pids: u64(1), Parent: "/sys/fs/cgroup/user.slice/app"}, cfg.Cgroups)
	require.NotNil(t, cfg.Security)
	assert.Equal(t, uint64(1<<0|1<<13|1<<21), cfg.Security.KeepCapMask)
	assert.False(t, cfg.Security.FailOnCapError)
	assert.Equal(t, 500*time.Millisecond, cfg.DrainGrace())
}

func TestKeepCapMask(t *testing.T) {
	tests := []struct {
		caps string
		mask uint64
	}{
		{`[]`, 0},
		{`["CHOWN"]`, 1},
		{`["NET_BIND_SERVICE"]`, 1 << 10},
		{`["NET_BIND_SERVICE", "NET_BIND_SERVICE"]`, 1 << 10},
		{`["SETFCAP", "SYS_ADMIN"]`, 1<<31 | 1<<21},
		{`["CHECKPOINT_RESTORE"]`, 1 << 40},
	}
	for _, tt := range tests {
		t.Run(tt.caps, func(t *testing.T) {
			cfg := parseConfig(t, `{"security": {"dropAllCaps": true, "keepCaps": `+tt.caps+`}}`)
			assert.Equal(t, tt.mask, cfg.Security.KeepCapMask)
		})
	}

	// A config built in Go gets its mask from Validate.
	cfg := DefaultRunnerConfig()
	cfg.Security = &Security{DropAllCaps: true, KeepCaps: []string{"KILL", "BPF"}}
	require.NoError(t, cfg.Validate())
	assert.Equal(t, uint64(1<<5|1<<39), cfg.Security.KeepCapMask)
}

func TestRunnerConfigValidationMessages(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		msg   string
		field string
	}{
		{"cpu period zero", `{"cgroups": {"cpu": {"quota": 1000, "period": 0}}}`, "cgroups.cpu.period cannot be zero", "cgroups.cpu.period"},
		{"cpu quota zero", `{"cgroups": {"cpu": {"quota": 0}}}`, "cgroups.cpu.quota cannot be zero (process would get no CPU)", "cgroups.cpu.quota"},
		{"cpu quota above period", `{"cgroups": {"cpu": {"quota": 200000, "period": 100000}}}`, "cgroups.cpu.quota exceeds period (>100% of one core)", "cgroups.cpu.quota"},
		{"memory zero", `{"cgroups": {"memory": 0}}`, "cgroups.memory cannot be zero", "cgroups.memory"},
		{"pids zero", `{"cgroups": {"pids": 0}}`, "cgroups.pids cannot be zero", "cgroups.pids"},
		{"parent NUL", `{"cgroups": {"parent": "a\u0000b"}}`, "cgroups.parent must not contain NUL", "cgroups.parent"},
		{"parent climbs out", `{"cgroups": {"parent": "/app/../other"}}`, "cgroups.parent must not contain '..'", "cgroups.parent"},
		{"file size zero", `{"rlimits": {"maxFileSizeBytes": 0}}`, "rlimits.max_file_size_bytes cannot be zero", "rlimits.maxFileSizeBytes"},
		{"open files zero", `{"rlimits": {"maxOpenFiles": 0}}`, "rlimits.max_open_files cannot be zero", "rlimits.maxOpenFiles"},
		{"address space zero", `{"rlimits": {"maxAddressSpaceBytes": 0}}`, "rlimits.max_address_space_bytes cannot be zero", "rlimits.maxAddressSpaceBytes"},
		{"cpu seconds zero", `{"rlimits": {"maxCpuSeconds": 0}}`, "rlimits.max_cpu_seconds cannot be zero", "rlimits.maxCpuSeconds"},
		{"line length zero", `{"log": {"maxLineLength": 0}}`, "log_config.max_line_length cannot be zero", "log.maxLineLength"},
		{"line bytes zero", `{"log": {"maxLineBytes": 0}}`, "log_config.max_line_bytes cannot be zero", "log.maxLineBytes"},
		{"output capacity zero", `{"output": {"capacity": 0}}`, "output.capacity must be greater than zero", "output.capacity"},
		{"output bytes zero", `{"output": {"maxBytes": 0}}`, "output.max_bytes must be greater than zero", "output.maxBytes"},
		{"output when full", `{"output": {"whenFull": "DropOldest"}}`, `output.whenFull must be "dropOldest" or "block"`, "output.whenFull"},
		{"keep caps without drop", `{"security": {"keepCaps": ["CHOWN"]}}`, "security.keepCaps requires security.dropAllCaps", "security.keepCaps"},
		{"keep caps with drop false", `{"security": {"dropAllCaps": false, "keepCaps": ["FOO"]}}`, "security.keepCaps requires security.dropAllCaps", "security.keepCaps"},
		{"unknown capability", `{"security": {"dropAllCaps": true, "keepCaps": ["FOO"]}}`, `security.keepCaps[0]: unknown capability "FOO"`, "security.keepCaps[0]"},
		{"unknown capability later", `{"security": {"dropAllCaps": true, "keepCaps": ["CHOWN", "CAP_FOO"]}}`, `security.keepCaps[1]: unknown capability "CAP_FOO"`, "security.keepCaps[1]"},
		{"env key empty", `{"env": [{"key": "", "value": "x"}]}`, "env[0].key must not be empty", "env[0].key"},
		{"env key equals", `{"env": [{"key": "A", "value": "1"}, {"key": "B", "value": "2"}, {"key": "A=B", "value": "x"}]}`, "env[2].key must not contain '='", "env[2].key"},
		{"env key NUL", `{"env": [{"key": "A\u0000", "value": "x"}]}`, "env[0].key must not contain NUL", "env[0].key"},
		{"env value NUL", `{"env": [{"key": "A", "value": "x\u0000"}]}`, "env[0].value must not contain NUL", "env[0].value"},
		{"shim path NUL", `{"shimPath": "/x\u0000"}`, "shimPath must not contain NUL", "shimPath"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ce := requireConfigError(t, tt.doc)
			assert.Equal(t, tt.msg, ce.Msg)
			assert.Equal(t, tt.field, ce.Field)
		})
	}
}

func TestParseRunnerConfigDecodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		msg   string
		field string
	}{
		{"empty input", ``, "malformed JSON: unexpected end of input", ""},
		{"null", `null`, "runner configuration must be a JSON object, got null", ""},
		{"string", `"{}"`, "runner configuration must be a JSON object, got a string", ""},
		{"trailing data", `{} {}`, "unexpected data after the JSON value", ""},
		{"unknown top level", `{"rlimit": {}}`, `unknown field "rlimit" in runner configuration`, "rlimit"},
		{"unknown in rlimits", `{"rlimits": {"maxOpenFile": 5}}`, `unknown field "maxOpenFile" in rlimits`, "rlimits.maxOpenFile"},
		{"unknown in cgroups", `{"cgroups": {"memoryMax": 5}}`, `unknown field "memoryMax" in cgroups`, "cgroups.memoryMax"},
		{"unknown in cpu", `{"cgroups": {"cpu": {"quota": 5, "periodUs": 10}}}`, `unknown field "periodUs" in cgroups.cpu`, "cgroups.cpu.periodUs"},
		{"unknown in security", `{"security": {"dropCaps": true}}`, `unknown field "dropCaps" in security`, "security.dropCaps"},
		{"unknown in log", `{"log": {"level": "debug"}}`, `unknown field "level" in log`, "log.level"},
		{"unknown in output", `{"output": {"size": 1}}`, `unknown field "size" in output`, "output.size"},
		{"unknown in env", `{"env": [{"name": "A"}]}`, `unknown field "name" in env[0]`, "env[0].name"},
		{"memory negative", `{"cgroups": {"memory": -1}}`, "cgroups.memory: expected a non-negative integer, got -1", "cgroups.memory"},
		{"memory fractional", `{"cgroups": {"memory": 1024.5}}`, "cgroups.memory: expected a non-negative integer, got 1024.5", "cgroups.memory"},
		{"memory string", `{"cgroups": {"memory": "256M"}}`, "cgroups.memory: expected a non-negative integer, got a string", "cgroups.memory"},
		{"quota string max", `{"cgroups": {"cpu": {"quota": "max"}}}`, "cgroups.cpu.quota: expected a non-negative integer, got a string", "cgroups.cpu.quota"},
		{"pids too large", `{"cgroups": {"pids": 1e20}}`, "cgroups.pids: 1e20 is out of range (max 18446744073709551615)", "cgroups.pids"},
		{"drain grace negative", `{"drainGraceMs": -2000}`, "drainGraceMs: expected a non-negative integer, got -2000", "drainGraceMs"},
		{"core dumps string", `{"rlimits": {"disableCoreDumps": "yes"}}`, "rlimits.disableCoreDumps: expected a boolean, got a string", "rlimits.disableCoreDumps"},
		{"keep caps string", `{"security": {"dropAllCaps": true, "keepCaps": "CHOWN"}}`, "security.keepCaps: expected an array of strings, got a string", "security.keepCaps"},
		{"line bytes negative", `{"log": {"maxLineBytes": -1}}`, "log.maxLineBytes: expected a non-negative integer, got -1", "log.maxLineBytes"},
		{"duplicate", `{"cgroups": {"memory": 1, "memory": 2}}`, `duplicate field "cgroups.memory"`, "cgroups.memory"},
		{"too deep", strings.Repeat("[", 300), "malformed JSON: nested deeper than 128 levels", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ce := requireConfigError(t, tt.doc)
			assert.Equal(t, tt.msg, ce.Msg)
			assert.Equal(t, tt.field, ce.Field)
		})
	}
}

func TestRunnerConfigValidateGoBuilt(t *testing.T) {
	var zero RunnerConfig
	assert.EqualError(t, zero.Validate(), "invalid runner configuration: log_config.max_line_length cannot be zero")
	var nilCfg *RunnerConfig
	assert.EqualError(t, nilCfg.Validate(), "invalid runner configuration: runner configuration is missing")

	cfg := DefaultRunnerConfig()
	cfg.Output.WhenFull = ""
	assert.EqualError(t, cfg.Validate(), `invalid runner configuration: output.whenFull must be "dropOldest" or "block"`)
}

func TestValidateRunnerName(t *testing.T) {
	for _, ok := range []string{"r", "backup-runner_1.2", strings.Repeat("x", 64)} {
		assert.NoError(t, ValidateRunnerName(ok), ok)
	}
	tests := []struct {
		name string
		msg  string
	}{
		{"", "runner name must not be empty"},
		{strings.Repeat("x", 65), "runner name length 65 exceeds max 64"},
		{"..", "runner name cannot be '.' or '..'"},
		{"my runner", "runner name contains forbidden byte 0x20 at position 2 (allowed: [A-Za-z0-9._-])"},
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			err := ValidateRunnerName(tt.name)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "name", ce.Field)
			assert.EqualError(t, err, "invalid runner configuration: "+tt.msg)
		})
	}
}
