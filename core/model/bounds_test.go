package model

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// edgeValues are the literals every numeric field is tried with; the fuzz
// corpora are seeded with the same (testdata/fuzz).
var edgeValues = []string{"9223372036854775807", "18446744073709551615", "0", "-1"}

// want is "" for accepted, else the expected error text after the prefix.
type boundCase struct {
	doc  string // with %s where the value goes
	want map[string]string
}

const (
	maxI64 = "9223372036854775807"
	maxU64 = "18446744073709551615"
)

func neg(field string) string {
	return field + ": expected a non-negative integer, got -1"
}

func outOfRange(field, lit, limit string) string {
	return fmt.Sprintf("%s: %s is out of range (max %s)", field, lit, limit)
}

const intMax = "9223372036854775807"

func TestTaskSpecNumbersAtTheirBounds(t *testing.T) {
	const sub = `"kind":{"subprocess":{"mode":{"command":{"command":"true"}}}}`
	top := func(member string) string { return `{"slot":"s",` + sub + `,` + member + `}` }
	withTimeout := func(member string) string { return top(`"timeout":1000,` + member) }
	cases := map[string]boundCase{
		"timeout":     {top(`"timeout":%s`), map[string]string{maxI64: "", maxU64: "", "0": "timeout must be greater than zero", "-1": neg("timeout")}},
		"timeoutMs":   {top(`"timeoutMs":%s`), map[string]string{maxI64: "", maxU64: "", "0": "timeout must be greater than zero", "-1": neg("timeoutMs")}},
		"killGraceMs": {withTimeout(`"killGraceMs":%s`), map[string]string{maxI64: "", maxU64: "", "0": "", "-1": neg("killGraceMs")}},
		"maxRetries": {withTimeout(`"maxRetries":%s`), map[string]string{
			maxI64: outOfRange("maxRetries", maxI64, "4294967295"), maxU64: outOfRange("maxRetries", maxU64, "4294967295"), "0": "", "-1": neg("maxRetries")}},
		"restart.intervalMs": {withTimeout(`"restart":{"type":"always","intervalMs":%s}`), map[string]string{maxI64: "", maxU64: "", "0": "", "-1": neg("restart.intervalMs")}},
		"backoff.firstMs": {withTimeout(`"backoff":{"firstMs":%s,"maxMs":18446744073709551615}`), map[string]string{
			maxI64: "", maxU64: "", "0": "backoff first_ms must be greater than zero", "-1": neg("backoff.firstMs")}},
		"backoff.maxMs": {withTimeout(`"backoff":{"firstMs":1,"maxMs":%s}`), map[string]string{
			maxI64: "", maxU64: "", "0": "backoff max_ms must be >= first_ms", "-1": neg("backoff.maxMs")}},
		"backoff.factor": {withTimeout(`"backoff":{"factor":%s}`), map[string]string{
			maxI64: "", maxU64: "", "0": "backoff factor must be finite and >= 1.0", "-1": "backoff factor must be finite and >= 1.0"}},
		"output.capacity": {withTimeout(`"output":{"capacity":%s}`), map[string]string{
			maxI64: "output.capacity must be at most 1048576, got " + maxI64, maxU64: outOfRange("output.capacity", maxU64, intMax),
			"0": "output.capacity must be greater than zero", "-1": neg("output.capacity")}},
		"output.maxBytes": {withTimeout(`"output":{"maxBytes":%s}`), map[string]string{
			maxI64: "output.maxBytes must be at most 4294967296, got " + maxI64, maxU64: outOfRange("output.maxBytes", maxU64, intMax),
			"0": "output.max_bytes must be greater than zero", "-1": neg("output.maxBytes")}},
	}
	for name, c := range cases {
		for _, v := range edgeValues {
			t.Run(name+"="+v, func(t *testing.T) {
				_, err := ParseTaskSpec([]byte(fmt.Sprintf(c.doc, v)))
				checkBound(t, err, c.want[v], "invalid specification: ")
			})
		}
	}
}

func TestRunnerConfigNumbersAtTheirBounds(t *testing.T) {
	rl := func(k string) boundCase {
		return boundCase{`{"rlimits":{"` + k + `":%s}}`, map[string]string{maxI64: "", maxU64: "", "0": "", "-1": neg("rlimits." + k)}}
	}
	cases := map[string]boundCase{
		"drainGraceMs": {`{"drainGraceMs":%s}`, map[string]string{maxI64: "", maxU64: "", "0": "", "-1": neg("drainGraceMs")}},
		"log.maxLineLength": {`{"log":{"maxLineLength":%s}}`, map[string]string{
			maxI64: "log.maxLineLength must be at most 67108864, got " + maxI64, maxU64: outOfRange("log.maxLineLength", maxU64, intMax),
			"0": "log_config.max_line_length cannot be zero", "-1": neg("log.maxLineLength")}},
		// The value that used to overflow maxBytes+1 in the line framer.
		"log.maxLineBytes": {`{"log":{"maxLineBytes":%s}}`, map[string]string{
			maxI64: "log.maxLineBytes must be at most 67108864, got " + maxI64, maxU64: outOfRange("log.maxLineBytes", maxU64, intMax),
			"0": "log_config.max_line_bytes cannot be zero", "-1": neg("log.maxLineBytes")}},
		"output.capacity": {`{"output":{"capacity":%s}}`, map[string]string{
			maxI64: "output.capacity must be at most 1048576, got " + maxI64, maxU64: outOfRange("output.capacity", maxU64, intMax),
			"0": "output.capacity must be greater than zero", "-1": neg("output.capacity")}},
		"output.maxBytes": {`{"output":{"maxBytes":%s}}`, map[string]string{
			maxI64: "output.maxBytes must be at most 4294967296, got " + maxI64, maxU64: outOfRange("output.maxBytes", maxU64, intMax),
			"0": "output.max_bytes must be greater than zero", "-1": neg("output.maxBytes")}},
		"cgroups.memory": {`{"cgroups":{"memory":%s}}`, map[string]string{maxI64: "", maxU64: "", "0": "cgroups.memory cannot be zero", "-1": neg("cgroups.memory")}},
		"cgroups.pids": {`{"cgroups":{"pids":%s}}`, map[string]string{
			maxI64: "cgroups.pids must be at most 4194304, got " + maxI64, maxU64: "cgroups.pids must be at most 4194304, got " + maxU64,
			"0": "cgroups.pids cannot be zero", "-1": neg("cgroups.pids")}},
		"cgroups.cpu.period": {`{"cgroups":{"cpu":{"period":%s}}}`, map[string]string{
			maxI64: "cgroups.cpu.period must be between 1000 and 1000000 µs (the kernel's range), got " + maxI64,
			maxU64: "cgroups.cpu.period must be between 1000 and 1000000 µs (the kernel's range), got " + maxU64,
			"0":    "cgroups.cpu.period cannot be zero", "-1": neg("cgroups.cpu.period")}},
		"cgroups.cpu.quota": {`{"cgroups":{"cpu":{"quota":%s}}}`, map[string]string{
			maxI64: "cgroups.cpu.quota exceeds period (>100% of one core)", maxU64: "cgroups.cpu.quota exceeds period (>100% of one core)",
			"0": "cgroups.cpu.quota cannot be zero (process would get no CPU)", "-1": neg("cgroups.cpu.quota")}},
		"rlimits.maxOpenFiles":         rl("maxOpenFiles"),
		"rlimits.maxFileSizeBytes":     rl("maxFileSizeBytes"),
		"rlimits.maxAddressSpaceBytes": rl("maxAddressSpaceBytes"),
		"rlimits.maxCpuSeconds":        rl("maxCpuSeconds"),
		"rlimits.maxProcesses":         rl("maxProcesses"),
	}
	// Zero would stop the child before it runs; maxProcesses 0 is allowed
	// (it forbids forking).
	for _, k := range []struct{ key, name string }{{"maxOpenFiles", "max_open_files"}, {"maxFileSizeBytes", "max_file_size_bytes"},
		{"maxAddressSpaceBytes", "max_address_space_bytes"}, {"maxCpuSeconds", "max_cpu_seconds"}} {
		cases["rlimits."+k.key].want["0"] = "rlimits." + k.name + " cannot be zero"
	}
	for name, c := range cases {
		for _, v := range edgeValues {
			t.Run(name+"="+v, func(t *testing.T) {
				_, err := ParseRunnerConfig([]byte(fmt.Sprintf(c.doc, v)))
				checkBound(t, err, c.want[v], "invalid runner configuration: ")
			})
		}
	}
}

func checkBound(t *testing.T, err error, want, prefix string) {
	t.Helper()
	if want == "" {
		require.NoError(t, err)
		return
	}
	require.Error(t, err)
	assert.Equal(t, prefix+want, err.Error())
}

// Every duration saturates at time.Duration's maximum instead of wrapping.
func TestDurationsSaturate(t *testing.T) {
	const huge = ^uint64(0)
	s := &TaskSpec{TimeoutMs: huge, KillGraceMs: 9223372036855}
	c := &RunnerConfig{DrainGraceMs: 9223372036855}
	b := BackoffPolicy{FirstMs: 1e13, MaxMs: huge}
	for name, d := range map[string]time.Duration{
		"timeout": s.Timeout(), "killGrace": s.KillGrace(), "drainGrace": c.DrainGrace(),
		"interval": RestartPolicy{IntervalMs: huge}.Interval(), "first": b.First(), "max": b.Max(),
	} {
		assert.Greater(t, d, time.Duration(0), name)
		assert.GreaterOrEqual(t, d, time.Duration(1e16), name) // 1e13 ms and more: 115 days at least
	}
}
