package model

import (
	"fmt"
	"strings"
)

// Validate checks the config and reports the first problem as a
// *ConfigError. On success it also fills Security.KeepCapMask from
// KeepCaps, which is why it takes a pointer: the names are resolved where
// they are checked, so the two cannot drift apart. ParseRunnerConfig calls
// it; call it yourself on a config built in Go.
func (c *RunnerConfig) Validate() error {
	if c == nil {
		return &ConfigError{Msg: "runner configuration is missing"}
	}
	if ferr := validateRunner(c); ferr != nil {
		return ferr.configError()
	}
	return nil
}

// ValidateRunnerName checks a runner's name with the slot's rules (1..64
// bytes of [A-Za-z0-9._-], not "." or ".."): the name is the first part of
// every run id and cgroup name. The error is a *ConfigError with Field
// "name", e.g. "invalid runner configuration: runner name must not be empty".
func ValidateRunnerName(name string) error {
	if ferr := validateName("runner name", "name", name); ferr != nil {
		return ferr.configError()
	}
	return nil
}

func validateRunner(c *RunnerConfig) *fieldError {
	if ferr := validateEnv(c.Env, "env"); ferr != nil {
		return ferr
	}
	if c.Rlimits != nil {
		if ferr := validateRlimits(c.Rlimits); ferr != nil {
			return ferr
		}
	}
	if c.Cgroups != nil {
		if ferr := validateCgroups(c.Cgroups); ferr != nil {
			return ferr
		}
	}
	if c.Security != nil {
		mask, ferr := keepCapMask(c.Security)
		if ferr != nil {
			return ferr
		}
		c.Security.KeepCapMask = mask
		if ferr := validateIsolation(c.Security); ferr != nil {
			return ferr
		}
	}
	if ferr := validateProcessOptions(c.Process, ""); ferr != nil {
		return ferr
	}
	switch c.ScriptStorage {
	case "", ScriptMemfd, ScriptFile:
	default:
		return enumError("scriptStorage", scriptStorages...)
	}
	if ferr := validateLog(c.Log); ferr != nil {
		return ferr
	}
	if ferr := validateOutput(c.Output); ferr != nil {
		return ferr
	}
	if ferr := validateLabels(c.Labels, "labels"); ferr != nil {
		return ferr
	}
	if _, set := c.Labels[RunnerLabelName]; set {
		return errorf("labels", "labels: %q is the runner's name and cannot be set", RunnerLabelName)
	}
	if containsNUL(c.ShimPath) {
		return errorf("shimPath", "shimPath must not contain NUL")
	}
	return nil
}

// validateRlimits refuses zero where it would stop the child from running
// at all (no descriptor for exec, SIGXFSZ on the first write, no memory,
// SIGXCPU at once). The messages keep upstream's snake_case field names.
func validateRlimits(r *Rlimits) *fieldError {
	for _, lim := range []struct {
		value *uint64
		field string
		name  string
	}{
		{r.MaxOpenFiles, "rlimits.maxOpenFiles", "max_open_files"},
		{r.MaxFileSizeBytes, "rlimits.maxFileSizeBytes", "max_file_size_bytes"},
		{r.MaxAddressSpaceBytes, "rlimits.maxAddressSpaceBytes", "max_address_space_bytes"},
		{r.MaxCPUSeconds, "rlimits.maxCpuSeconds", "max_cpu_seconds"},
	} {
		if lim.value != nil && *lim.value == 0 {
			return errorf(lim.field, "rlimits.%s cannot be zero", lim.name)
		}
	}
	return nil
}

func validateCgroups(c *Cgroups) *fieldError {
	if cpu := c.CPU; cpu != nil {
		switch {
		case cpu.Period == 0:
			return errorf("cgroups.cpu.period", "cgroups.cpu.period cannot be zero")
		case cpu.Period < MinCPUPeriod || cpu.Period > MaxCPUPeriod:
			return errorf("cgroups.cpu.period", "cgroups.cpu.period must be between %d and %d µs (the kernel's range), got %d", MinCPUPeriod, MaxCPUPeriod, cpu.Period)
		case cpu.Quota != nil && *cpu.Quota == 0:
			return errorf("cgroups.cpu.quota", "cgroups.cpu.quota cannot be zero (process would get no CPU)")
		// Kept from upstream: a task is one process tree, and a quota above
		// one core is more often a unit mistake (ms for µs) than intended.
		case cpu.Quota != nil && *cpu.Quota > cpu.Period:
			return errorf("cgroups.cpu.quota", "cgroups.cpu.quota exceeds period (>100%% of one core)")
		case cpu.Quota != nil && *cpu.Quota < MinCPUQuota:
			return errorf("cgroups.cpu.quota", "cgroups.cpu.quota must be at least %d µs (the kernel's minimum), got %d", MinCPUQuota, *cpu.Quota)
		}
	}
	switch {
	case c.Memory != nil && *c.Memory == 0:
		return errorf("cgroups.memory", "cgroups.memory cannot be zero")
	case c.Pids != nil && *c.Pids == 0:
		return errorf("cgroups.pids", "cgroups.pids cannot be zero")
	case c.Pids != nil && *c.Pids > MaxPids:
		return atMost("cgroups.pids", *c.Pids, MaxPids)
	case containsNUL(c.Parent):
		return errorf("cgroups.parent", "cgroups.parent must not contain NUL")
	}
	// A parent that climbs out with ".." would put task cgroups outside the
	// subtree the host delegated.
	for _, part := range strings.Split(c.Parent, "/") {
		if part == ".." {
			return errorf("cgroups.parent", "cgroups.parent must not contain '..'")
		}
	}
	return nil
}

// keepCapMask checks the capability list and turns it into a bit set.
// keepCaps without dropAllCaps is refused: upstream silently did nothing
// with it, which reads as "the rest are dropped" when none are.
func keepCapMask(s *Security) (uint64, *fieldError) {
	if len(s.KeepCaps) > 0 && !s.DropAllCaps {
		return 0, errorf("security.keepCaps", "security.keepCaps requires security.dropAllCaps")
	}
	var mask uint64
	for i, name := range s.KeepCaps {
		n, ok := CapabilityByName(name)
		if !ok {
			field := fmt.Sprintf("security.keepCaps[%d]", i)
			return 0, errorf(field, "%s: unknown capability %q", field, name)
		}
		mask |= 1 << uint(n)
	}
	return mask, nil
}

func validateLog(l LogConfig) *fieldError {
	switch {
	case l.MaxLineLength <= 0:
		return errorf("log.maxLineLength", "log_config.max_line_length cannot be zero")
	case l.MaxLineBytes <= 0:
		return errorf("log.maxLineBytes", "log_config.max_line_bytes cannot be zero")
	case l.MaxLineLength > MaxLineLengthLimit:
		return atMost("log.maxLineLength", uint64(l.MaxLineLength), MaxLineLengthLimit)
	case l.MaxLineBytes > MaxLineBytesLimit:
		return atMost("log.maxLineBytes", uint64(l.MaxLineBytes), MaxLineBytesLimit)
	}
	return nil
}
