package model

// StdinMode is what a subprocess reads on fd 0.
type StdinMode string

const (
	// StdinNull gives the child /dev/null: a library child must not steal
	// the host's terminal or block reading it (upstream let it inherit).
	StdinNull StdinMode = "null"
	// StdinInherit shares the host's stdin, for CLI-like hosts that want it.
	StdinInherit StdinMode = "inherit"
)

// SubprocessSpec is the body of a subprocess kind.
type SubprocessSpec struct {
	Mode Mode
	Env  []EnvVar
	Cwd  string // "" = the host's working directory
	// FailOnNonZero makes a non-zero exit a failure (and so a reason to
	// restart under onFailure). It defaults to true, as upstream.
	FailOnNonZero bool
	Stdin         StdinMode

	// Talking to the child (stdio.go): initial input for a stdin pipe,
	// stderr merged into stdout, a terminal.
	Input  *string // base64; nil when absent
	Stderr StderrMode
	Pty    *PtySize
	// Process replaces the runner's envPolicy, umask and newSession where
	// set.
	Process ProcessOptions
	// Argv0 is the child's argv[0]; "" = the command (or the runtime) as
	// given.
	Argv0 string
	// PassFds are host descriptors the child keeps at the same numbers.
	PassFds []int
}

func decodeSubprocess(v *jsonValue, path string) (*SubprocessSpec, *fieldError) {
	return decodeSubprocessShape(v, path, shapeKind)
}

func decodeSubprocessShape(v *jsonValue, path string, sh shape) (*SubprocessSpec, *fieldError) {
	obj, ferr := openObject(v, path, path, append([]string{"mode", "env", "cwd", "failOnNonZero", "stdin", "input", "stderr", "pty"},
		subprocessIsolationKeys...)...)
	if ferr != nil {
		return nil, ferr
	}
	s := &SubprocessSpec{FailOnNonZero: true, Stdin: StdinNull, Stderr: StderrPipe}
	if ferr := decodeSubprocessIsolation(obj, s); ferr != nil {
		return nil, ferr
	}
	// An absent mode is left empty for validation to report, after the slot
	// and timeout, in the order SPEC gives.
	if f, p := obj.get("mode"); f != nil {
		if s.Mode, ferr = decodeMode(f, p, sh); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("env"); f != nil {
		if s.Env, ferr = decodeEnv(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("cwd"); f != nil {
		if s.Cwd, ferr = asString(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("failOnNonZero"); f != nil {
		if s.FailOnNonZero, ferr = asBool(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("stdin"); f != nil {
		mode, ferr := asEnum(f, p, stdinModes...)
		if ferr != nil {
			return nil, ferr
		}
		s.Stdin = StdinMode(mode)
	}
	if ferr := decodeStdio(obj, s); ferr != nil {
		return nil, ferr
	}
	return s, nil
}
