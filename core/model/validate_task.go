package model

import (
	"math"
	"strings"
)

// MaxSlotLen bounds a slot name. The slot ends up in run ids, cgroup
// directory names and metric labels, hence also the narrow alphabet.
const MaxSlotLen = 64

// Validate checks the spec in SPEC's order: slot, timeout, mode, backoff,
// env, then what this project adds. It reports the first problem as a
// *SpecError. ParseTaskSpec calls it; call it yourself on a spec built in Go.
func (s *TaskSpec) Validate() error {
	if s == nil {
		return &SpecError{Msg: "task spec is missing"}
	}
	if ferr := validateTask(s); ferr != nil {
		return ferr.specError()
	}
	return nil
}

func validateTask(s *TaskSpec) *fieldError {
	if ferr := validateSlot(s.Slot); ferr != nil {
		return ferr
	}
	if s.TimeoutMs == 0 {
		return errorf("timeout", "timeout must be greater than zero")
	}
	if ferr := validateKind(s.Kind); ferr != nil {
		return ferr
	}
	if ferr := validateBackoff(s.Backoff); ferr != nil {
		return ferr
	}
	if sub := s.Kind.Subprocess; sub != nil {
		if ferr := validateSubprocessRest(sub); ferr != nil {
			return ferr
		}
	}
	if ferr := validateRestart(s.Restart); ferr != nil {
		return ferr
	}
	switch s.Admission {
	case AdmissionDropIfRunning, AdmissionReplace, AdmissionQueue:
	default:
		return enumError("admission", admissions...)
	}
	if ferr := validateLabels(s.Labels, "labels"); ferr != nil {
		return ferr
	}
	if s.RunnerSelector != nil {
		if ferr := validateSelector(s.RunnerSelector); ferr != nil {
			return ferr
		}
	}
	if s.Output != nil {
		return validateOutput(*s.Output)
	}
	return nil
}

func validateSlot(slot string) *fieldError { return validateName("slot", "slot", slot) }

// validateName holds the rules shared by slots and runner names: both end up
// in run ids ("{runner}-{slot}-{seq}"), cgroup directory names and metric
// labels, so both are short, never a path component like "..", and drawn
// from an alphabet that needs no escaping anywhere.
func validateName(what, field, name string) *fieldError {
	switch {
	case name == "":
		return errorf(field, "%s must not be empty", what)
	case len(name) > MaxSlotLen:
		return errorf(field, "%s length %d exceeds max %d", what, len(name), MaxSlotLen)
	case name == "." || name == "..":
		return errorf(field, "%s cannot be '.' or '..'", what)
	}
	for i := 0; i < len(name); i++ {
		if !isSlotByte(name[i]) {
			return errorf(field, "%s contains forbidden byte 0x%02x at position %d (allowed: [A-Za-z0-9._-])", what, name[i], i)
		}
	}
	return nil
}

func isSlotByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == '-'
}

// validateKind checks the kind and the subprocess mode. The other kinds are
// valid here: that they cannot be built is the build step's error.
func validateKind(k TaskKind) *fieldError {
	switch k.Name {
	case KindSubprocess:
		if k.Subprocess == nil {
			return errorf("kind.subprocess", "kind.subprocess is missing")
		}
	case KindWasm, KindContainer, KindEmbedded:
		if k.Subprocess != nil {
			return errorf("kind", "kind is %q but a subprocess spec is set", k.Name)
		}
		return nil
	case "":
		return errorf("kind", "kind is required (%s)", quotedList(kindNames))
	default:
		return errorf("kind", "kind: expected %s", quotedList(kindNames))
	}
	m := k.Subprocess.Mode
	switch {
	case m.Command != nil && m.Script == nil:
		return validateCommand(m.Command)
	case m.Script != nil && m.Command == nil:
		return validateScript(m.Script)
	}
	return errorf("kind.subprocess.mode", `kind.subprocess.mode: expected "command" or "script"`)
}

func validateCommand(c *CommandMode) *fieldError {
	const path = "kind.subprocess.mode.command"
	switch {
	case strings.TrimSpace(c.Command) == "":
		return errorf(path+".command", "subprocess command cannot be empty")
	case containsNUL(c.Command):
		return errorf(path+".command", "command must not contain NUL")
	}
	return validateArgs(c.Args, path+".args")
}

func validateBackoff(b BackoffPolicy) *fieldError {
	switch {
	case b.FirstMs == 0:
		return errorf("backoff.firstMs", "backoff first_ms must be greater than zero")
	case b.MaxMs < b.FirstMs:
		return errorf("backoff.maxMs", "backoff max_ms must be >= first_ms")
	case math.IsNaN(b.Factor) || math.IsInf(b.Factor, 0) || b.Factor < 1.0:
		return errorf("backoff.factor", "backoff factor must be finite and >= 1.0")
	}
	switch b.Jitter {
	case JitterNone, JitterFull, JitterEqual, JitterDecorrelated:
		return nil
	}
	return enumError("backoff.jitter", jitters...)
}

// validateSubprocessRest checks what the mode check left: env, cwd, stdin.
func validateSubprocessRest(s *SubprocessSpec) *fieldError {
	if ferr := validateEnv(s.Env, "kind.subprocess.env"); ferr != nil {
		return ferr
	}
	if containsNUL(s.Cwd) {
		return errorf("kind.subprocess.cwd", "cwd must not contain NUL")
	}
	if ferr := validateSubprocessIsolation(s); ferr != nil {
		return ferr
	}
	switch s.Stdin {
	case StdinNull, StdinInherit, StdinPipe:
		return validateStdio(s)
	}
	return enumError("kind.subprocess.stdin", stdinModes...)
}

func validateRestart(r RestartPolicy) *fieldError {
	switch r.Type {
	case RestartNever, RestartOnFailure:
		if r.IntervalMs != 0 {
			return intervalError()
		}
		return nil
	case RestartAlways:
		return nil
	}
	return enumError("restart.type", restartTypes...)
}
