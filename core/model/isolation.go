package model

import "strings"

// ProcessOptions are who the child is and what it starts with: set in the
// runner config for every task, and per task in kind.subprocess, where a
// set field replaces the runner's. nil = not set here.
type ProcessOptions struct {
	// EnvPolicy says which host variables the child sees; nil = inherit.
	EnvPolicy *EnvPolicy
	// Umask is the child's umask (0..0777); nil = the host's.
	Umask *uint32
	// NewSession makes the child lead a new session (setsid); nil = false.
	NewSession *bool
}

// EnvPolicyMode is how much of the host environment reaches the child.
type EnvPolicyMode string

const (
	// EnvInherit: the whole host environment, with the spec's pairs over it
	// (0.0.2's behaviour, and the default).
	EnvInherit EnvPolicyMode = "inherit"
	// EnvClear: only the spec's pairs, plus SafePath as PATH unless given.
	EnvClear EnvPolicyMode = "clear"
	// EnvAllowlist: the host variables named in Allow, then the spec's
	// pairs, plus SafePath as PATH unless either gave one.
	EnvAllowlist EnvPolicyMode = "allowlist"
)

// SafePath is the PATH of a child whose environment is not inherited.
const SafePath = "/usr/local/bin:/usr/bin:/bin"

// MaxEnvAllow bounds envPolicy.allow.
const MaxEnvAllow = 256

var envPolicyModes = []string{string(EnvInherit), string(EnvClear), string(EnvAllowlist)}

// EnvPolicy is {"mode": "inherit" | "clear" | "allowlist", "allow": [names]}.
type EnvPolicy struct {
	Mode  EnvPolicyMode
	Allow []string // host variable names, with mode "allowlist" only
}

// Credentials are the child's exact identity (runner config only).
type Credentials struct {
	UID                 uint32
	GID                 uint32
	SupplementaryGroups []uint32 // exact list; empty clears it
}

// MaxSupplementaryGroups bounds credentials.supplementaryGroups (the shim's
// table; the kernel allows 65536).
const MaxSupplementaryGroups = 256

// Namespaces are the new namespaces the child gets (runner config only).
type Namespaces struct {
	Mount, Net, IPC, UTS, Cgroup bool
}

// Any reports whether a namespace is asked for.
func (n Namespaces) Any() bool { return n.Mount || n.Net || n.IPC || n.UTS || n.Cgroup }

// SeccompPolicy is a seccomp filter the child gets (runner config only).
type SeccompPolicy string

const (
	SeccompDisabled        SeccompPolicy = "disabled"
	SeccompDenyHostControl SeccompPolicy = "denyHostControl"
)

var seccompPolicies = []string{string(SeccompDisabled), string(SeccompDenyHostControl)}

// MaxPassFds bounds kind.subprocess.passFds: the shim passes 16, and one
// place is kept for a script body's memfd.
const MaxPassFds = 15

// idUnchanged is (uint32)-1, "leave unchanged" to setresuid and setresgid.
const idUnchanged = 0xffffffff

// decodeProcessOptions reads the keys of ProcessOptions from obj, which
// the caller opened with them allowed.
func decodeProcessOptions(obj *object) (ProcessOptions, *fieldError) {
	var o ProcessOptions
	var ferr *fieldError
	if f, p := obj.get("envPolicy"); f != nil {
		if o.EnvPolicy, ferr = decodeEnvPolicy(f, p); ferr != nil {
			return o, ferr
		}
	}
	if f, p := obj.get("umask"); f != nil {
		if o.Umask, ferr = decodeUmask(f, p); ferr != nil {
			return o, ferr
		}
	}
	if f, p := obj.get("newSession"); f != nil {
		b, ferr := asBool(f, p)
		if ferr != nil {
			return o, ferr
		}
		o.NewSession = &b
	}
	return o, nil
}

// processOptionKeys are the JSON keys of ProcessOptions.
var processOptionKeys = []string{"envPolicy", "umask", "newSession"}

func decodeEnvPolicy(v *jsonValue, path string) (*EnvPolicy, *fieldError) {
	obj, ferr := openObject(v, path, path, "mode", "allow")
	if ferr != nil {
		return nil, ferr
	}
	f, p := obj.get("mode")
	if f == nil {
		return nil, enumError(p, envPolicyModes...)
	}
	mode, ferr := asEnum(f, p, envPolicyModes...)
	if ferr != nil {
		return nil, ferr
	}
	e := &EnvPolicy{Mode: EnvPolicyMode(mode)}
	if f, p := obj.get("allow"); f != nil {
		if e.Allow, ferr = asStrings(f, p); ferr != nil {
			return nil, ferr
		}
	}
	return e, nil
}

// decodeUmask reads an octal string: "022", "0077". JSON has no octal
// numbers, and a decimal 18 for 022 is a mistake waiting to happen.
func decodeUmask(v *jsonValue, path string) (*uint32, *fieldError) {
	s, ferr := asString(v, path)
	if ferr != nil {
		return nil, ferr
	}
	var n uint32
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '7' || i == 4 {
			return nil, errorf(path, "%s must be an octal string from \"000\" to \"777\", got %q", path, s)
		}
		n = n<<3 | uint32(s[i]-'0')
	}
	if s == "" || n > 0o777 {
		return nil, errorf(path, "%s must be an octal string from \"000\" to \"777\", got %q", path, s)
	}
	return &n, nil
}

func decodeCredentials(v *jsonValue, path string) (*Credentials, *fieldError) {
	obj, ferr := openObject(v, path, path, "uid", "gid", "supplementaryGroups")
	if ferr != nil {
		return nil, ferr
	}
	c := &Credentials{}
	for _, id := range []struct {
		key string
		dst *uint32
	}{{"uid", &c.UID}, {"gid", &c.GID}} {
		f, p := obj.get(id.key)
		if f == nil {
			return nil, errorf(p, "%s is required", p)
		}
		if *id.dst, ferr = asUint32(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("supplementaryGroups"); f != nil {
		if f.kind != jsonArray {
			return nil, expected(f, p, "an array of group ids")
		}
		c.SupplementaryGroups = make([]uint32, 0, len(f.items))
		for i, item := range f.items {
			g, ferr := asUint32(item, indexPath(p, i))
			if ferr != nil {
				return nil, ferr
			}
			c.SupplementaryGroups = append(c.SupplementaryGroups, g)
		}
	}
	return c, nil
}

func decodeNamespaces(v *jsonValue, path string) (Namespaces, *fieldError) {
	var n Namespaces
	obj, ferr := openObject(v, path, path, "mount", "net", "ipc", "uts", "cgroup")
	if ferr != nil {
		return n, ferr
	}
	for _, flag := range []struct {
		key string
		dst *bool
	}{{"mount", &n.Mount}, {"net", &n.Net}, {"ipc", &n.IPC}, {"uts", &n.UTS}, {"cgroup", &n.Cgroup}} {
		if f, p := obj.get(flag.key); f != nil {
			if *flag.dst, ferr = asBool(f, p); ferr != nil {
				return n, ferr
			}
		}
	}
	return n, nil
}

func decodePassFds(v *jsonValue, path string) ([]int, *fieldError) {
	if v.kind != jsonArray {
		return nil, expected(v, path, "an array of descriptor numbers")
	}
	fds := make([]int, 0, len(v.items))
	for i, item := range v.items {
		n, ferr := asUint(item, indexPath(path, i), 1<<31-1)
		if ferr != nil {
			return nil, ferr
		}
		fds = append(fds, int(n))
	}
	return fds, nil
}

// validateProcessOptions checks the options at prefix ("" for the runner,
// "kind.subprocess" for a task).
func validateProcessOptions(o ProcessOptions, prefix string) *fieldError {
	e := o.EnvPolicy
	if e == nil {
		return nil
	}
	path := joinPath(prefix, "envPolicy")
	switch e.Mode {
	case EnvInherit, EnvClear:
		if len(e.Allow) > 0 {
			return errorf(path+".allow", `%s.allow is only allowed with mode "allowlist"`, path)
		}
	case EnvAllowlist:
		if len(e.Allow) > MaxEnvAllow {
			return atMost(path+".allow", uint64(len(e.Allow)), MaxEnvAllow)
		}
	default:
		return enumError(path+".mode", envPolicyModes...)
	}
	for i, name := range e.Allow {
		field := indexPath(path+".allow", i)
		if name == "" || strings.ContainsRune(name, '=') || containsNUL(name) {
			return errorf(field, "%s must be a variable name: not empty, no '=' or NUL", field)
		}
	}
	return nil
}

// validateIsolation checks the isolation parts of security.
func validateIsolation(s *Security) *fieldError {
	if c := s.Credentials; c != nil {
		switch {
		case c.UID == idUnchanged:
			return errorf("security.credentials.uid", "security.credentials.uid cannot be 4294967295 (the kernel's \"unchanged\")")
		case c.GID == idUnchanged:
			return errorf("security.credentials.gid", "security.credentials.gid cannot be 4294967295 (the kernel's \"unchanged\")")
		case len(c.SupplementaryGroups) > MaxSupplementaryGroups:
			return atMost("security.credentials.supplementaryGroups", uint64(len(c.SupplementaryGroups)), MaxSupplementaryGroups)
		}
		for i, g := range c.SupplementaryGroups {
			if g == idUnchanged {
				field := indexPath("security.credentials.supplementaryGroups", i)
				return errorf(field, "%s cannot be 4294967295 (the kernel's \"unchanged\")", field)
			}
		}
	}
	switch s.Seccomp {
	case "", SeccompDisabled, SeccompDenyHostControl:
	default:
		return enumError("security.seccomp", seccompPolicies...)
	}
	return nil
}

// validatePassFds checks kind.subprocess.passFds: each above the standard
// three, at most once.
func validatePassFds(fds []int) *fieldError {
	const field = "kind.subprocess.passFds"
	if len(fds) > MaxPassFds {
		return atMost(field, uint64(len(fds)), MaxPassFds)
	}
	seen := make(map[int]bool, len(fds))
	for i, fd := range fds {
		f := indexPath(field, i)
		switch {
		case fd < 3:
			return errorf(f, "%s: descriptor %d is a standard stream (stdin, stdout, stderr are set otherwise)", f, fd)
		case seen[fd]:
			return errorf(f, "%s: descriptor %d is listed twice", f, fd)
		}
		seen[fd] = true
	}
	return nil
}

// ScriptStorage is where a script body is kept for the runtime to read.
type ScriptStorage string

const (
	// ScriptMemfd: a sealed memfd, run as /proc/self/fd/N; no file is
	// written. Where the kernel refuses a memfd, a file as with ScriptFile,
	// and a WARNING event says so. The default.
	ScriptMemfd ScriptStorage = "memfd"
	// ScriptFile: a file in a private directory under TMPDIR, removed with
	// the task (0.0.2's way).
	ScriptFile ScriptStorage = "file"
)

var scriptStorages = []string{string(ScriptMemfd), string(ScriptFile)}

func decodeScriptStorage(obj *object) (ScriptStorage, *fieldError) {
	f, p := obj.get("scriptStorage")
	if f == nil {
		return ScriptMemfd, nil
	}
	s, ferr := asEnum(f, p, scriptStorages...)
	return ScriptStorage(s), ferr
}

// subprocessIsolationKeys are kind.subprocess's keys for ProcessOptions,
// argv0 and passFds.
var subprocessIsolationKeys = append([]string{"argv0", "passFds"}, processOptionKeys...)

func decodeSubprocessIsolation(obj *object, s *SubprocessSpec) *fieldError {
	var ferr *fieldError
	if s.Process, ferr = decodeProcessOptions(obj); ferr != nil {
		return ferr
	}
	if f, p := obj.get("argv0"); f != nil {
		if s.Argv0, ferr = asString(f, p); ferr != nil {
			return ferr
		}
	}
	if f, p := obj.get("passFds"); f != nil {
		if s.PassFds, ferr = decodePassFds(f, p); ferr != nil {
			return ferr
		}
	}
	return nil
}

func validateSubprocessIsolation(s *SubprocessSpec) *fieldError {
	if ferr := validateProcessOptions(s.Process, "kind.subprocess"); ferr != nil {
		return ferr
	}
	if containsNUL(s.Argv0) {
		return errorf("kind.subprocess.argv0", "kind.subprocess.argv0 must not contain NUL")
	}
	return validatePassFds(s.PassFds)
}
