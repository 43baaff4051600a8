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
// Why a hand-written tree rather than github.com/go-json-experiment/json
// (encoding/json/v2): v2's Unmarshal into equivalent structs with
// RejectUnknownMembers was measured at 7-10 µs for a 500-byte spec, but it
// is not the same strictness: it refuses 1e3 and 1000.0 for integers
// (accepted here, since Python and JavaScript print computed counts that
// way), cannot express serde's externally tagged enums (exactly one key) or
// null meaning absent without a custom unmarshaler per type, and words its
// errors its own way, which the C and Python layers pass through.
//
// The tree is read by a plain scanner (jsonscan.go) when the document is
// well formed, and by encoding/json's token stream otherwise, so that every
// malformed-JSON message stays encoding/json's. Measured alternately on 2
// shared cores, the whole ParseTaskSpec of SPEC section 2's example went
// from 23-26.5 µs (408 allocations) to 8.6-9.8 µs (146), and of the spawn
// bench's spec from 9.6-10.2 µs (150) to 3.7-4.0 µs (67). A table, the fuzz
// corpora and FuzzScanJSON hold the scanner to encoding/json's reading.
//
// The package does not resolve programs, write script files, merge
// environments or allocate run ids (that is the build step), and it knows
// nothing about processes, cgroups or the shim. It is pure Go with no
// imports beyond the standard library, so every other package can depend on
// it.
package model
