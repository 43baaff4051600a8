package model

// The task kind, the subprocess mode and the script runtime are Rust enums
// on the wire, externally tagged the way serde writes them: an object with
// exactly one key naming the variant ({"subprocess": {...}}), or a bare
// string for a variant without data ("embedded", "bash").

// KindName is the variant of a task kind. Only subprocess can be built;
// the others parse so that a spec written for the upstream runner is
// understood, and the build step refuses them with the unsupported-kind
// error instead of a confusing parse error.
type KindName string

const (
	KindSubprocess KindName = "subprocess"
	KindWasm       KindName = "wasm"
	KindContainer  KindName = "container"
	KindEmbedded   KindName = "embedded"
)

// TaskKind is the `kind` of a task spec. The bodies of wasm and container
// kinds are accepted as any JSON object and not kept: nothing here can run
// them.
type TaskKind struct {
	Name       KindName
	Subprocess *SubprocessSpec // set only when Name == KindSubprocess
}

// Mode says what a subprocess runs: exactly one of Command and Script is set.
type Mode struct {
	Command *CommandMode
	Script  *ScriptMode
}

// CommandMode runs a program with arguments, with no shell in between.
type CommandMode struct {
	Command string
	Args    []string
}

// ScriptMode runs a script body with a runtime. The body stays base64 as
// given: DecodeBody checks and decodes it when the build step needs the
// bytes.
type ScriptMode struct {
	Runtime Runtime
	Body    string
	Args    []string
}

// Runtime names (Runtime.Name).
const (
	RuntimeBash   = "bash"
	RuntimePython = "python"
	RuntimeNode   = "node"
	RuntimeCustom = "custom"
)

// Runtime is the interpreter of a script. Command and Flag are set only for
// a custom runtime. The flag (say "-e" for ruby) is accepted and checked
// non-empty for compatibility, but not used: the body is written to a file
// and the file's path is passed, never the body itself.
type Runtime struct {
	Name    string
	Command string
	Flag    string
}

// Program is the executable the runtime runs: bash, python3, node, or the
// custom command as given. It is "" for an unknown runtime name.
func (r Runtime) Program() string {
	switch r.Name {
	case RuntimeBash:
		return "bash"
	case RuntimePython:
		return "python3"
	case RuntimeNode:
		return "node"
	case RuntimeCustom, RuntimeInterpreter:
		return r.Command
	}
	return ""
}

var kindNames = []string{string(KindSubprocess), string(KindWasm), string(KindContainer), string(KindEmbedded)}

func decodeKind(v *jsonValue, path string) (TaskKind, *fieldError) {
	bad := errorf(path, "%s: expected %s", path, quotedList(kindNames))
	if v.kind == jsonString {
		if v.text == string(KindEmbedded) {
			return TaskKind{Name: KindEmbedded}, nil
		}
		return TaskKind{}, bad
	}
	if v.kind != jsonObject || len(v.members) != 1 {
		return TaskKind{}, bad
	}
	m := v.members[0]
	p := joinPath(path, m.key)
	switch KindName(m.key) {
	case KindSubprocess:
		sub, ferr := decodeSubprocess(m.value, p)
		if ferr != nil {
			return TaskKind{}, ferr
		}
		return TaskKind{Name: KindSubprocess, Subprocess: sub}, nil
	case KindWasm, KindContainer:
		if m.value.kind != jsonObject {
			return TaskKind{}, expected(m.value, p, "an object")
		}
		return TaskKind{Name: KindName(m.key)}, nil
	}
	return TaskKind{}, bad
}

func decodeMode(v *jsonValue, path string, sh shape) (Mode, *fieldError) {
	bad := errorf(path, `%s: expected "command" or "script"`, path)
	if v.kind != jsonObject || len(v.members) != 1 {
		return Mode{}, bad
	}
	m := v.members[0]
	p := joinPath(path, m.key)
	switch m.key {
	case "command":
		c, ferr := decodeCommandMode(m.value, p)
		return Mode{Command: c}, ferr
	case "script":
		s, ferr := decodeScriptMode(m.value, p, sh)
		return Mode{Script: s}, ferr
	}
	return Mode{}, bad
}

func decodeCommandMode(v *jsonValue, path string) (*CommandMode, *fieldError) {
	obj, ferr := openObject(v, path, path, "command", "args")
	if ferr != nil {
		return nil, ferr
	}
	c := &CommandMode{}
	if f, p := obj.get("command"); f != nil {
		if c.Command, ferr = asString(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("args"); f != nil {
		if c.Args, ferr = asStrings(f, p); ferr != nil {
			return nil, ferr
		}
	}
	return c, nil
}

func decodeScriptMode(v *jsonValue, path string, sh shape) (*ScriptMode, *fieldError) {
	// Each shape has its own name for the interpreter; the other one is a
	// sign of a mixed document and gets a message saying so.
	own, other := "runtime", "interpreter"
	if sh == shapeWorkload {
		own, other = "interpreter", "runtime"
	}
	if v.kind == jsonObject {
		for _, m := range v.members {
			if m.key == other {
				p := joinPath(path, other)
				return nil, errorf(p, `%s: %q belongs to the other task spec shape; with "kind" a script has "runtime", with "workload" it has "interpreter"`, p, other)
			}
		}
	}
	obj, ferr := openObject(v, path, path, own, "body", "args")
	if ferr != nil {
		return nil, ferr
	}
	s := &ScriptMode{}
	if f, p := obj.get(own); f != nil {
		if sh == shapeWorkload {
			s.Runtime.Name = RuntimeInterpreter
			if s.Runtime.Command, ferr = asString(f, p); ferr != nil {
				return nil, ferr
			}
		} else if s.Runtime, ferr = decodeRuntime(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("body"); f != nil {
		if s.Body, ferr = asString(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("args"); f != nil {
		if s.Args, ferr = asStrings(f, p); ferr != nil {
			return nil, ferr
		}
	}
	return s, nil
}

// runtimeError is shared with validation, which sees runtimes built in Go.
func runtimeError(path string) *fieldError {
	return errorf(path, `%s: expected "bash", "python", "node" or {"custom": {"command": ..., "flag": ...}}`, path)
}

func decodeRuntime(v *jsonValue, path string) (Runtime, *fieldError) {
	switch {
	case v.kind == jsonString:
		switch v.text {
		case RuntimeBash, RuntimePython, RuntimeNode:
			return Runtime{Name: v.text}, nil
		}
	case v.kind == jsonObject && len(v.members) == 1 && v.members[0].key == RuntimeCustom:
		p := joinPath(path, RuntimeCustom)
		obj, ferr := openObject(v.members[0].value, p, p, "command", "flag")
		if ferr != nil {
			return Runtime{}, ferr
		}
		r := Runtime{Name: RuntimeCustom}
		if f, fp := obj.get("command"); f != nil {
			if r.Command, ferr = asString(f, fp); ferr != nil {
				return Runtime{}, ferr
			}
		}
		if f, fp := obj.get("flag"); f != nil {
			if r.Flag, ferr = asString(f, fp); ferr != nil {
				return Runtime{}, ferr
			}
		}
		return r, nil
	}
	return Runtime{}, runtimeError(path)
}
