package model

import (
	"fmt"
	"strings"
)

// EnvVar is one environment entry, a list element on the wire
// ({"key": ..., "value": ...}) so that order is kept: inside one list the
// last entry for a key wins when the build step merges.
type EnvVar struct {
	Key   string
	Value string
}

func decodeEnv(v *jsonValue, path string) ([]EnvVar, *fieldError) {
	if v.kind != jsonArray {
		return nil, expected(v, path, "an array of {\"key\": ..., \"value\": ...}")
	}
	env := make([]EnvVar, 0, len(v.items))
	for i, item := range v.items {
		p := indexPath(path, i)
		obj, ferr := openObject(item, p, p, "key", "value")
		if ferr != nil {
			return nil, ferr
		}
		// Both are required, as in upstream's KeyValue (serde has no
		// default for either).
		var e EnvVar
		for _, fld := range []struct {
			key string
			dst *string
		}{{"key", &e.Key}, {"value", &e.Value}} {
			f, fp := obj.get(fld.key)
			if f == nil {
				return nil, errorf(fp, "%s is required", fp)
			}
			if *fld.dst, ferr = asString(f, fp); ferr != nil {
				return nil, ferr
			}
		}
		env = append(env, e)
	}
	return env, nil
}

// validateEnv checks the rules shared by task and runner env. A key with
// '=' would be split differently by the child's libc; a NUL in a key or
// value would silently cut the entry at exec (upstream did not check
// values). path is the JSON path for SpecError.Field; messages say "env[i]"
// as upstream did.
func validateEnv(env []EnvVar, path string) *fieldError {
	for i, e := range env {
		name := fmt.Sprintf("env[%d]", i)
		field := indexPath(path, i)
		switch {
		case e.Key == "":
			return errorf(field+".key", "%s.key must not be empty", name)
		case strings.ContainsRune(e.Key, '='):
			return errorf(field+".key", "%s.key must not contain '='", name)
		case containsNUL(e.Key):
			return errorf(field+".key", "%s.key must not contain NUL", name)
		case containsNUL(e.Value):
			return errorf(field+".value", "%s.value must not contain NUL", name)
		}
	}
	return nil
}
