package model

// RunnerConfig is what a runner applies to every task it builds (SPEC
// section 2). All parts are optional; nil pointers mean "not asked for"
// and the sandbox leaves that part of the child alone. Build one with
// ParseRunnerConfig or start from DefaultRunnerConfig; the zero value has
// no log or output bounds and fails Validate.
type RunnerConfig struct {
	Env      []EnvVar // added to every task's env; wins over the task on a duplicate key
	Rlimits  *Rlimits
	Cgroups  *Cgroups
	Security *Security
	Log      LogConfig
	Output   OutputConfig
	// ShimPath is where the exec shim is; "" = next to the library or
	// $SOLTI_EXEC_SHIM.
	ShimPath string
	// Labels are the runner's labels, matched by a task's runnerSelector;
	// the runner also carries runner-name = its name.
	Labels Labels
	// DrainGraceMs is how long output is still read after the leader exits
	// before the rest of its group is killed, so a background grandchild
	// holding a pipe cannot hang the task. 0 = no grace.
	DrainGraceMs uint64

	// Process holds envPolicy, umask and newSession for every task; a
	// task's own kind.subprocess values replace them.
	Process ProcessOptions
	// ScriptStorage is where script bodies are kept; "" = memfd.
	ScriptStorage ScriptStorage
}

// Rlimits are set in the child before exec: soft limit = the value, the hard
// limit kept unless lower. nil = leave the inherited limit.
type Rlimits struct {
	MaxOpenFiles         *uint64 // RLIMIT_NOFILE
	MaxFileSizeBytes     *uint64 // RLIMIT_FSIZE
	DisableCoreDumps     bool    // RLIMIT_CORE = 0
	MaxAddressSpaceBytes *uint64 // RLIMIT_AS
	MaxCPUSeconds        *uint64 // RLIMIT_CPU
	// MaxProcesses is RLIMIT_NPROC. It counts every process of the user,
	// not just the task's, and 0 is allowed: it forbids the child to fork.
	MaxProcesses *uint64
}

// Cgroups are the task's cgroup limits. nil fields = no limit.
type Cgroups struct {
	CPU    *CPULimit
	Memory *uint64 // memory.max in bytes
	Pids   *uint64 // pids.max
	// FailOnError fails the spawn when a limit cannot be applied (no
	// cgroup v2, controller not delegated); false runs without it and says
	// so in the attempt report. Default true.
	FailOnError bool
	// Parent is the cgroup under which task cgroups are made; "" = a
	// solti-exec child of the host's own cgroup.
	Parent string
}

// CPULimit is cpu.max: Quota µs of CPU per Period µs.
type CPULimit struct {
	Quota  *uint64 // nil = "max", no quota
	Period uint64
}

// Security is the privilege hardening applied before exec.
type Security struct {
	DropAllCaps bool
	// KeepCaps are kernel capability names kept when DropAllCaps is set.
	KeepCaps []string
	// KeepCapMask is KeepCaps as a bit set (bit n = capability n), filled
	// by Validate so the names are resolved once, where they are checked.
	KeepCapMask uint64
	NoNewPrivs  bool
	// FailOnCapError fails the spawn when the capability drop fails.
	// Default true.
	FailOnCapError bool

	// Credentials replace the child's uid, gid and groups; nil = the host's.
	Credentials *Credentials
	// Namespaces are new namespaces for the child.
	Namespaces Namespaces
	// Seccomp is the child's syscall filter; "" or "disabled" = none.
	// denyHostControl also sets no_new_privs, which the filter needs.
	Seccomp SeccompPolicy
}

// LogConfig bounds the lines cut from a task's output.
type LogConfig struct {
	// MaxLineLength is in characters: a longer line keeps that many plus
	// "... (truncated K bytes)".
	MaxLineLength int
	// MaxLineBytes is where a physical line is cut while reading, so a
	// child printing without newlines cannot grow a line without bound.
	MaxLineBytes int
}

// Defaults for the parts of a runner config that always apply.
const (
	DefaultLogMaxLineLength = 4096
	DefaultLogMaxLineBytes  = 65536
	DefaultDrainGraceMs     = 2000
	DefaultCPUPeriod        = 100000 // µs, the kernel's own default
)

// DefaultLogConfig is the log config when none is given.
func DefaultLogConfig() LogConfig {
	return LogConfig{MaxLineLength: DefaultLogMaxLineLength, MaxLineBytes: DefaultLogMaxLineBytes}
}

// DefaultRunnerConfig is the config of a runner made without one: no env,
// no limits, no hardening, default log, output and drain grace, script
// bodies in a memfd.
func DefaultRunnerConfig() RunnerConfig {
	return RunnerConfig{
		Log:           DefaultLogConfig(),
		Output:        DefaultOutputConfig(),
		DrainGraceMs:  DefaultDrainGraceMs,
		ScriptStorage: ScriptMemfd,
	}
}

// ParseRunnerConfig decodes a runner config, fills the defaults and
// validates it. Every error is a *ConfigError. There is no "empty means
// default" here: a caller with no config passes none and uses
// DefaultRunnerConfig, so an empty string or "null" reaching this function
// is a mistake and reported as one.
func ParseRunnerConfig(data []byte) (*RunnerConfig, error) {
	root, ferr := parseJSON(data)
	if ferr != nil {
		return nil, ferr.configError()
	}
	cfg, ferr := decodeRunnerConfig(root)
	if ferr != nil {
		return nil, ferr.configError()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func decodeRunnerConfig(v *jsonValue) (*RunnerConfig, *fieldError) {
	if v.kind != jsonObject {
		return nil, errorf("", "runner configuration must be a JSON object, got %s", describe(v))
	}
	obj, ferr := openObject(v, "", "runner configuration", append([]string{"env", "rlimits", "cgroups",
		"security", "log", "output", "shimPath", "drainGraceMs", "labels", "scriptStorage"}, processOptionKeys...)...)
	if ferr != nil {
		return nil, ferr
	}
	cfg := DefaultRunnerConfig()
	if cfg.Process, ferr = decodeProcessOptions(obj); ferr != nil {
		return nil, ferr
	}
	if cfg.ScriptStorage, ferr = decodeScriptStorage(obj); ferr != nil {
		return nil, ferr
	}
	if f, p := obj.get("env"); f != nil {
		if cfg.Env, ferr = decodeEnv(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("rlimits"); f != nil {
		if cfg.Rlimits, ferr = decodeRlimits(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("cgroups"); f != nil {
		if cfg.Cgroups, ferr = decodeCgroups(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("security"); f != nil {
		if cfg.Security, ferr = decodeSecurity(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("log"); f != nil {
		if cfg.Log, ferr = decodeLog(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("output"); f != nil {
		if cfg.Output, ferr = decodeOutput(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("shimPath"); f != nil {
		if cfg.ShimPath, ferr = asString(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("labels"); f != nil {
		if cfg.Labels, ferr = decodeLabels(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("drainGraceMs"); f != nil {
		if cfg.DrainGraceMs, ferr = asUint64(f, p); ferr != nil {
			return nil, ferr
		}
	}
	return &cfg, nil
}

// optionalUint64 reads an optional limit into a fresh pointer.
func optionalUint64(obj *object, key string) (*uint64, *fieldError) {
	f, p := obj.get(key)
	if f == nil {
		return nil, nil
	}
	n, ferr := asUint64(f, p)
	if ferr != nil {
		return nil, ferr
	}
	return &n, nil
}

func decodeRlimits(v *jsonValue, path string) (*Rlimits, *fieldError) {
	obj, ferr := openObject(v, path, path, "maxOpenFiles", "maxFileSizeBytes", "disableCoreDumps",
		"maxAddressSpaceBytes", "maxCpuSeconds", "maxProcesses")
	if ferr != nil {
		return nil, ferr
	}
	r := &Rlimits{}
	for _, lim := range []struct {
		key string
		dst **uint64
	}{
		{"maxOpenFiles", &r.MaxOpenFiles},
		{"maxFileSizeBytes", &r.MaxFileSizeBytes},
		{"maxAddressSpaceBytes", &r.MaxAddressSpaceBytes},
		{"maxCpuSeconds", &r.MaxCPUSeconds},
		{"maxProcesses", &r.MaxProcesses},
	} {
		if *lim.dst, ferr = optionalUint64(obj, lim.key); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("disableCoreDumps"); f != nil {
		if r.DisableCoreDumps, ferr = asBool(f, p); ferr != nil {
			return nil, ferr
		}
	}
	return r, nil
}

func decodeCgroups(v *jsonValue, path string) (*Cgroups, *fieldError) {
	obj, ferr := openObject(v, path, path, "cpu", "memory", "pids", "failOnError", "parent")
	if ferr != nil {
		return nil, ferr
	}
	c := &Cgroups{FailOnError: true}
	if f, p := obj.get("cpu"); f != nil {
		if c.CPU, ferr = decodeCPU(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if c.Memory, ferr = optionalUint64(obj, "memory"); ferr != nil {
		return nil, ferr
	}
	if c.Pids, ferr = optionalUint64(obj, "pids"); ferr != nil {
		return nil, ferr
	}
	if f, p := obj.get("failOnError"); f != nil {
		if c.FailOnError, ferr = asBool(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("parent"); f != nil {
		if c.Parent, ferr = asString(f, p); ferr != nil {
			return nil, ferr
		}
	}
	return c, nil
}

func decodeCPU(v *jsonValue, path string) (*CPULimit, *fieldError) {
	obj, ferr := openObject(v, path, path, "quota", "period")
	if ferr != nil {
		return nil, ferr
	}
	c := &CPULimit{Period: DefaultCPUPeriod}
	if c.Quota, ferr = optionalUint64(obj, "quota"); ferr != nil {
		return nil, ferr
	}
	if f, p := obj.get("period"); f != nil {
		if c.Period, ferr = asUint64(f, p); ferr != nil {
			return nil, ferr
		}
	}
	return c, nil
}

func decodeSecurity(v *jsonValue, path string) (*Security, *fieldError) {
	obj, ferr := openObject(v, path, path, "dropAllCaps", "keepCaps", "noNewPrivs", "failOnCapError",
		"credentials", "namespaces", "seccomp")
	if ferr != nil {
		return nil, ferr
	}
	s := &Security{FailOnCapError: true}
	if f, p := obj.get("credentials"); f != nil {
		if s.Credentials, ferr = decodeCredentials(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("namespaces"); f != nil {
		if s.Namespaces, ferr = decodeNamespaces(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("seccomp"); f != nil {
		policy, ferr := asEnum(f, p, seccompPolicies...)
		if ferr != nil {
			return nil, ferr
		}
		s.Seccomp = SeccompPolicy(policy)
	}
	for _, flag := range []struct {
		key string
		dst *bool
	}{
		{"dropAllCaps", &s.DropAllCaps},
		{"noNewPrivs", &s.NoNewPrivs},
		{"failOnCapError", &s.FailOnCapError},
	} {
		if f, p := obj.get(flag.key); f != nil {
			if *flag.dst, ferr = asBool(f, p); ferr != nil {
				return nil, ferr
			}
		}
	}
	if f, p := obj.get("keepCaps"); f != nil {
		if s.KeepCaps, ferr = asStrings(f, p); ferr != nil {
			return nil, ferr
		}
	}
	return s, nil
}

func decodeLog(v *jsonValue, path string) (LogConfig, *fieldError) {
	l := DefaultLogConfig()
	obj, ferr := openObject(v, path, path, "maxLineLength", "maxLineBytes")
	if ferr != nil {
		return l, ferr
	}
	if f, p := obj.get("maxLineLength"); f != nil {
		if l.MaxLineLength, ferr = asInt(f, p); ferr != nil {
			return l, ferr
		}
	}
	if f, p := obj.get("maxLineBytes"); f != nil {
		if l.MaxLineBytes, ferr = asInt(f, p); ferr != nil {
			return l, ferr
		}
	}
	return l, nil
}
