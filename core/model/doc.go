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
// The package does not resolve programs, write script files, merge
// environments or allocate run ids (that is the build step), and it knows
// nothing about processes, cgroups or the shim. It is pure Go with no
// imports beyond the standard library, so every other package can depend on
// it.
package model
