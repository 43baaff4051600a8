package model

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Typed reads from the JSON tree. Each takes the value's path so that every
// error names the field; none of them accepts null, because null handling
// (same as absent) belongs to the object a field lives in.

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func indexPath(parent string, i int) string { return fmt.Sprintf("%s[%d]", parent, i) }

// object is a JSON object whose keys have been checked against the fields a
// shape allows.
type object struct {
	path    string
	members []jsonMember
}

// openObject checks that v is an object with no fields besides keys. where
// names the object in the unknown-field message ("task spec" at the top,
// else the path), so the message reads `unknown field "x" in kind.subprocess`.
// Unknown fields are reported before any value is looked at: a misspelt key
// is the likelier cause of whatever else is wrong.
func openObject(v *jsonValue, path, where string, keys ...string) (*object, *fieldError) {
	if v.kind != jsonObject {
		return nil, expected(v, path, "an object")
	}
	for _, m := range v.members {
		known := false
		for _, k := range keys {
			if m.key == k {
				known = true
				break
			}
		}
		if !known {
			return nil, errorf(joinPath(path, m.key), "unknown field %q in %s", m.key, where)
		}
	}
	return &object{path: path, members: v.members}, nil
}

// get returns the field's value and path, or a nil value when the field is
// absent or null: the two mean the same on this wire.
func (o *object) get(key string) (*jsonValue, string) {
	p := joinPath(o.path, key)
	for _, m := range o.members {
		if m.key == key && m.value.kind != jsonNull {
			return m.value, p
		}
	}
	return nil, p
}

func expected(v *jsonValue, path, want string) *fieldError {
	return errorf(path, "%s: expected %s, got %s", path, want, describe(v))
}

func asString(v *jsonValue, path string) (string, *fieldError) {
	if v.kind != jsonString {
		return "", expected(v, path, "a string")
	}
	return v.text, nil
}

func asBool(v *jsonValue, path string) (bool, *fieldError) {
	if v.kind != jsonBool {
		return false, expected(v, path, "a boolean")
	}
	return v.boolean, nil
}

func asStrings(v *jsonValue, path string) ([]string, *fieldError) {
	if v.kind != jsonArray {
		return nil, expected(v, path, "an array of strings")
	}
	out := make([]string, 0, len(v.items))
	for i, item := range v.items {
		s, ferr := asString(item, indexPath(path, i))
		if ferr != nil {
			return nil, ferr
		}
		out = append(out, s)
	}
	return out, nil
}

func asFloat(v *jsonValue, path string) (float64, *fieldError) {
	if v.kind != jsonNumber {
		return 0, expected(v, path, "a number")
	}
	// An out-of-range literal (1e400) comes back as ±Inf with ErrRange; the
	// value is kept so that validation gives its usual "must be finite".
	f, _ := strconv.ParseFloat(v.text, 64)
	return f, nil
}

func asUint64(v *jsonValue, path string) (uint64, *fieldError) {
	return asUint(v, path, math.MaxUint64)
}

func asUint32(v *jsonValue, path string) (uint32, *fieldError) {
	n, ferr := asUint(v, path, math.MaxUint32)
	return uint32(n), ferr
}

func asInt(v *jsonValue, path string) (int, *fieldError) {
	n, ferr := asUint(v, path, math.MaxInt)
	return int(n), ferr
}

// asUint reads a non-negative integer no larger than limit.
func asUint(v *jsonValue, path string, limit uint64) (uint64, *fieldError) {
	if v.kind != jsonNumber {
		return 0, expected(v, path, "a non-negative integer")
	}
	n, ok, inRange := parseUintLiteral(v.text)
	switch {
	case !ok:
		return 0, expected(v, path, "a non-negative integer")
	case !inRange || n > limit:
		return 0, errorf(path, "%s: %s is out of range (max %d)", path, describe(v), limit)
	}
	return n, nil
}

// parseUintLiteral reads a JSON number literal as an exact non-negative
// integer. Python's json and JavaScript print a computed 1000 as 1000.0 or
// 1e3, so any spelling whose exact value is a whole number is accepted; a
// minus sign (other than -0) or a fractional part is not. The work is done
// on the decimal digits, never through float64, so no value is rounded
// into acceptance, and a huge exponent costs nothing.
// ok reports a non-negative whole number; inRange that it fits in uint64.
func parseUintLiteral(lit string) (n uint64, ok, inRange bool) {
	if u, err := strconv.ParseUint(lit, 10, 64); err == nil {
		return u, true, true
	}
	negative := strings.HasPrefix(lit, "-")
	lit = strings.TrimPrefix(lit, "-")
	mantissa, exp := lit, 0
	if i := strings.IndexAny(lit, "eE"); i >= 0 {
		mantissa = lit[:i]
		e, err := strconv.Atoi(lit[i+1:])
		if err != nil {
			// Only a range error is possible for a literal the JSON
			// scanner accepted; clamp, the answer no longer depends on it.
			e = 1 << 30
			if strings.HasPrefix(lit[i+1:], "-") {
				e = -e
			}
		}
		exp = e
	}
	whole, frac, _ := strings.Cut(mantissa, ".")
	digits := strings.TrimLeft(whole+frac, "0")
	if digits == "" {
		return 0, true, true // 0, 0.0, -0, 0e99
	}
	if negative {
		return 0, false, false
	}
	shift := exp - len(frac) // value = digits × 10^shift
	for strings.HasSuffix(digits, "0") {
		digits = digits[:len(digits)-1]
		shift++
	}
	if shift < 0 {
		return 0, false, false
	}
	if len(digits)+shift > 20 { // more digits than any uint64
		return 0, true, false
	}
	u, err := strconv.ParseUint(digits+strings.Repeat("0", shift), 10, 64)
	if err != nil {
		return 0, true, false
	}
	return u, true, true
}

// asEnum reads a string that must be one of allowed. A value of the wrong
// type gets the same message: the list of allowed values is what helps.
func asEnum(v *jsonValue, path string, allowed ...string) (string, *fieldError) {
	if v.kind == jsonString {
		for _, a := range allowed {
			if v.text == a {
				return a, nil
			}
		}
	}
	return "", enumError(path, allowed...)
}

// enumError gives the message used both when decoding and when validating a
// value set from Go: `restart.type must be "never", "onFailure" or "always"`.
func enumError(path string, allowed ...string) *fieldError {
	return errorf(path, "%s must be %s", path, quotedList(allowed))
}

// quotedList renders `"a", "b" or "c"`.
func quotedList(items []string) string {
	quoted := make([]string, len(items))
	for i, it := range items {
		quoted[i] = strconv.Quote(it)
	}
	if len(quoted) == 1 {
		return quoted[0]
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
}

func containsNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }
