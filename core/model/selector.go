package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Labels are string-to-string metadata: a task's own labels (kept on the
// task, shown in its metrics series) and a runner's labels (what a task's
// runnerSelector is matched against).
type Labels map[string]string

// RunnerLabelName is the label every runner carries with its name, as
// upstream's runner registration attaches it.
const RunnerLabelName = "runner-name"

// SelectorOperator is a match expression's operator, spelled as upstream's
// serde writes it.
type SelectorOperator string

const (
	OpIn           SelectorOperator = "In"
	OpNotIn        SelectorOperator = "NotIn"
	OpExists       SelectorOperator = "Exists"
	OpDoesNotExist SelectorOperator = "DoesNotExist"
)

var selectorOperators = []string{string(OpIn), string(OpNotIn), string(OpExists), string(OpDoesNotExist)}

// SelectorRequirement is one match expression: {"key", "operator", "values"}.
type SelectorRequirement struct {
	Key      string
	Operator SelectorOperator
	Values   []string
}

// RunnerSelector says which runners may run the task: every matchLabels
// pair must be equal, and every expression must hold (all ANDed). An empty
// selector matches every runner.
type RunnerSelector struct {
	MatchLabels      Labels
	MatchExpressions []SelectorRequirement
}

// decodeLabels reads a JSON object of strings.
func decodeLabels(v *jsonValue, path string) (Labels, *fieldError) {
	if v.kind != jsonObject {
		return nil, expected(v, path, "an object of strings")
	}
	out := make(Labels, len(v.members))
	for _, m := range v.members {
		s, ferr := asString(m.value, joinPath(path, m.key))
		if ferr != nil {
			return nil, ferr
		}
		out[m.key] = s
	}
	return out, nil
}

func decodeSelector(v *jsonValue, path string) (*RunnerSelector, *fieldError) {
	obj, ferr := openObject(v, path, path, "matchLabels", "matchExpressions")
	if ferr != nil {
		return nil, ferr
	}
	sel := &RunnerSelector{}
	if f, p := obj.get("matchLabels"); f != nil {
		if sel.MatchLabels, ferr = decodeLabels(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("matchExpressions"); f != nil {
		if f.kind != jsonArray {
			return nil, expected(f, p, "an array of {\"key\", \"operator\", \"values\"}")
		}
		for i, item := range f.items {
			ip := indexPath(p, i)
			// Upstream's SelectorRequirement denies unknown fields too.
			eo, ferr := openObject(item, ip, ip, "key", "operator", "values")
			if ferr != nil {
				return nil, ferr
			}
			var req SelectorRequirement
			kf, kp := eo.get("key")
			if kf == nil {
				return nil, errorf(kp, "%s is required", kp)
			}
			if req.Key, ferr = asString(kf, kp); ferr != nil {
				return nil, ferr
			}
			of, op := eo.get("operator")
			if of == nil {
				return nil, enumError(op, selectorOperators...)
			}
			o, ferr := asEnum(of, op, selectorOperators...)
			if ferr != nil {
				return nil, ferr
			}
			req.Operator = SelectorOperator(o)
			if vf, vp := eo.get("values"); vf != nil {
				if req.Values, ferr = asStrings(vf, vp); ferr != nil {
					return nil, ferr
				}
			}
			sel.MatchExpressions = append(sel.MatchExpressions, req)
		}
	}
	return sel, nil
}

// validateLabels refuses NUL in keys and values: labels reach metric series
// and C strings, where a NUL would cut them.
func validateLabels(l Labels, path string) *fieldError {
	for _, k := range l.Keys() {
		p := fmt.Sprintf("%s[%q]", path, k)
		switch {
		case k == "":
			return errorf(path, "%s: a label key must not be empty", path)
		case containsNUL(k) || containsNUL(l[k]):
			return errorf(p, "%s must not contain NUL", p)
		}
	}
	return nil
}

// validateSelector holds upstream's SelectorRequirement::validate rules: a
// non-empty key; In and NotIn need values; Exists and DoesNotExist take none.
func validateSelector(s *RunnerSelector) *fieldError {
	if ferr := validateLabels(s.MatchLabels, "runnerSelector.matchLabels"); ferr != nil {
		return ferr
	}
	for i, r := range s.MatchExpressions {
		p := indexPath("runnerSelector.matchExpressions", i)
		if strings.TrimSpace(r.Key) == "" {
			return errorf(p+".key", "%s.key: selector requirement key must not be empty", p)
		}
		switch r.Operator {
		case OpIn, OpNotIn:
			if len(r.Values) == 0 {
				return errorf(p+".values", "selector requirement '%s' with operator %s must have non-empty values", r.Key, r.Operator)
			}
		case OpExists, OpDoesNotExist:
			if len(r.Values) != 0 {
				return errorf(p+".values", "selector requirement '%s' with operator %s must have empty values", r.Key, r.Operator)
			}
		default:
			return enumError(p+".operator", selectorOperators...)
		}
	}
	return nil
}

// Keys returns the label keys sorted, for stable messages and output.
func (l Labels) Keys() []string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// JSON renders the labels as a JSON object, keys sorted; "{}" when empty.
func (l Labels) JSON() []byte {
	if l == nil {
		l = Labels{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]string(l)) // a map of strings always encodes
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// String renders {a=1, b=2} in key order.
func (l Labels) String() string {
	parts := make([]string, 0, len(l))
	for _, k := range l.Keys() {
		parts = append(parts, k+"="+l[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// Mismatch returns "" when labels satisfy every term of the selector, else
// the first term that fails, written as it reads: `matchLabels zone=eu`,
// `matchExpressions[0] gpu In [a100 h100]`. Upstream's
// RunnerSelector::matches gives the semantics: NotIn holds for an absent
// key, In does not.
func (s *RunnerSelector) Mismatch(labels Labels) string {
	if s == nil {
		return ""
	}
	for _, k := range s.MatchLabels.Keys() {
		if v, ok := labels[k]; !ok || v != s.MatchLabels[k] {
			return fmt.Sprintf("matchLabels %s=%s", k, s.MatchLabels[k])
		}
	}
	for i, r := range s.MatchExpressions {
		v, present := labels[r.Key]
		in := false
		for _, x := range r.Values {
			if present && x == v {
				in = true
			}
		}
		var ok bool
		switch r.Operator {
		case OpIn:
			ok = in
		case OpNotIn:
			ok = !in
		case OpExists:
			ok = present
		case OpDoesNotExist:
			ok = !present
		}
		if !ok {
			term := fmt.Sprintf("matchExpressions[%d] %s %s", i, r.Key, r.Operator)
			if len(r.Values) > 0 {
				term += " [" + strings.Join(r.Values, " ") + "]"
			}
			return term
		}
	}
	return ""
}
