package model

// The task spec of upstream solti-model 0.0.4 replaces "kind" with a
// "workload" envelope, {"apiVersion": "solti.io/v1", "kind": "Subprocess",
// "spec": {...}} (domain/kind/task.rs, RawWorkloadEnvelope, which denies
// unknown fields), a script's "runtime" with an "interpreter" (an
// executable name or path, domain/kind/subprocess.rs), and makes
// "maxRetries" a non-zero budget of consecutive failure retries
// (resource/spec.rs, Option<NonZeroU32>). The shape is decided by the
// document's top-level key, never field by field, and a document holding
// both shapes is refused.

// WorkloadAPIVersion is the apiVersion of upstream's built-in workloads.
const WorkloadAPIVersion = "solti.io/v1"

// RuntimeInterpreter is a 0.0.4 script's runtime: Command is the
// interpreter as given.
const RuntimeInterpreter = "interpreter"

var workloadKinds = []string{"Subprocess", "Wasm", "Container", "Embedded"}

// shape says which upstream task spec a document follows.
type shape int

const (
	shapeKind     shape = iota // 0.0.2: "kind"
	shapeWorkload              // 0.0.4: "workload"
)

func mixedShapes() *fieldError {
	return errorf("workload", `task spec mixes the 0.0.2 shape ("kind") and the 0.0.4 shape ("workload"): give one`)
}

func decodeWorkload(v *jsonValue, path string) (TaskKind, *fieldError) {
	obj, ferr := openObject(v, path, path, "apiVersion", "kind", "spec")
	if ferr != nil {
		return TaskKind{}, ferr
	}
	req := func(key string) (*jsonValue, string, *fieldError) {
		f, p := obj.get(key)
		if f == nil {
			return nil, p, errorf(p, "%s is required", p)
		}
		return f, p, nil
	}
	f, p, ferr := req("apiVersion")
	if ferr != nil {
		return TaskKind{}, ferr
	}
	if _, ferr := asEnum(f, p, WorkloadAPIVersion); ferr != nil {
		return TaskKind{}, ferr
	}
	f, p, ferr = req("kind")
	if ferr != nil {
		return TaskKind{}, ferr
	}
	kind, ferr := asEnum(f, p, workloadKinds...)
	if ferr != nil {
		return TaskKind{}, ferr
	}
	f, p, ferr = req("spec")
	if ferr != nil {
		return TaskKind{}, ferr
	}
	switch kind {
	case "Subprocess":
		sub, ferr := decodeSubprocessShape(f, p, shapeWorkload)
		if ferr != nil {
			return TaskKind{}, ferr
		}
		return TaskKind{Name: KindSubprocess, Subprocess: sub}, nil
	case "Wasm":
		return TaskKind{Name: KindWasm}, objectOnly(f, p)
	case "Container":
		return TaskKind{Name: KindContainer}, objectOnly(f, p)
	}
	return TaskKind{Name: KindEmbedded}, objectOnly(f, p)
}

func objectOnly(v *jsonValue, path string) *fieldError {
	if v.kind != jsonObject {
		return expected(v, path, "an object")
	}
	return nil
}
