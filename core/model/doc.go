// Package model owns what a caller hands to solti-exec: the task spec and the
// runner configuration, their JSON wire format (camelCase, the shapes of the
// upstream Rust model, SPEC section 2), their defaults and their validation.
//
// Decoding is strict on purpose. The specs carry resource limits and
// privilege settings, so a misspelt field must fail loudly instead of
// silently dropping a limit: unknown fields are errors at any depth, as are
// duplicate fields, wrong types, negative or fractional counts and trailing
// data after the JSON value. Every error names the field by its JSON path.
// A JSON null for an optional field means the same as leaving it out.
//
// Errors are *SpecError for task specs and *ConfigError for runner
// configurations; their texts carry the upstream prefixes
// ("invalid specification: ...", "invalid runner configuration: ...") so the
// C and Python layers can pass them through unchanged.
//
// The format reference, with every field, bound and message, is
// docs/format.md; specs are accepted as upstream solti-model 0.0.2 writes
// them ("kind") and in 0.0.4's "workload" shape, decided by the top-level
// key.
//
// Why a hand-written tree over encoding/json's tokens rather than
// github.com/go-json-experiment/json (encoding/json/v2): measured on one
// 500-byte spec, 2 shared cores, ParseTaskSpec takes 51-81 µs (481
// allocations); v2's Unmarshal into equivalent structs with
// RejectUnknownMembers takes 7-10 µs (17 allocations), and v2's token stream
// alone 9-12 µs. v2's Unmarshal is not the same strictness, though: it
// refuses 1e3 and 1000.0 for integers (accepted here, since Python and
// JavaScript print computed counts that way), cannot express serde's
// externally tagged enums (exactly one key) or null meaning absent without a
// custom unmarshaler per type, and words its errors its own way, which the C
// and Python layers pass through. v2's jsontext token stream under this tree
// would keep every rule, detect duplicate names and invalid UTF-8 itself with
// a JSON pointer, and cut most of the parse cost; it is the next step, taken
// separately because it rewrites the malformed-JSON texts that the C and
// Python suites match.
//
// The package does not resolve programs, write script files, merge
// environments or allocate run ids (that is the build step), and it knows
// nothing about processes, cgroups or the shim. It is pure Go with no
// imports beyond the standard library, so every other package can depend on
// it.
package model
