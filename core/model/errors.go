package model

import "fmt"

// SpecError reports a task spec that could not be decoded or is invalid.
// Field is the JSON path of the offending value ("slot",
// "kind.subprocess.env[2].key"), or "" when the document as a whole is at
// fault (malformed JSON). Msg already names the field, so Error() needs no
// other context.
type SpecError struct {
	Field string
	Msg   string
}

func (e *SpecError) Error() string { return "invalid specification: " + e.Msg }

// ConfigError is SpecError's twin for runner configurations. The two are
// distinct types because the C layer maps them to different codes.
type ConfigError struct {
	Field string
	Msg   string
}

func (e *ConfigError) Error() string { return "invalid runner configuration: " + e.Msg }

// fieldError is a decode or validation failure before the caller decides
// whether it belongs to a task spec or a runner configuration: the JSON
// helpers and the env and output rules are shared by both documents.
type fieldError struct {
	field string
	msg   string
}

func errorf(field, format string, args ...any) *fieldError {
	return &fieldError{field: field, msg: fmt.Sprintf(format, args...)}
}

// specError converts to the task spec's error type. It must only be called
// on a non-nil receiver; callers check first, so that a nil *fieldError never
// turns into a non-nil error interface.
func (e *fieldError) specError() error { return &SpecError{Field: e.field, Msg: e.msg} }

func (e *fieldError) configError() error { return &ConfigError{Field: e.field, Msg: e.msg} }
