package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// The documents are first read into a small tree instead of straight into
// structs. encoding/json's DisallowUnknownFields cannot name the path of a
// stray field, cannot see duplicate keys, and its map decoding loses the
// order of the fields (so the first error would change from run to run).
// The tree keeps the order, rejects duplicates, and leaves the typed decoding
// to helpers that know each value's path.

type jsonKind int

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

func (k jsonKind) String() string {
	switch k {
	case jsonNull:
		return "null"
	case jsonBool:
		return "a boolean"
	case jsonNumber:
		return "a number"
	case jsonString:
		return "a string"
	case jsonArray:
		return "an array"
	default:
		return "an object"
	}
}

type jsonValue struct {
	kind    jsonKind
	boolean bool
	text    string // a string's contents, or a number's literal as written
	items   []*jsonValue
	members []jsonMember
}

type jsonMember struct {
	key   string
	value *jsonValue
}

// maxJSONDepth bounds nesting. The schemas are a handful of levels deep;
// only the opaque wasm and container bodies can go further, and no honest
// spec needs more than this. The bound keeps a hostile document from
// costing unbounded recursion.
const maxJSONDepth = 128

// parseJSON reads exactly one JSON value from data. Anything but whitespace
// after it is an error: a second object glued to the first is a caller bug
// that should not pass as "the first object". A document scanJSON reads is
// not read again; decodeJSON reads the others and names what is wrong.
func parseJSON(data []byte) (*jsonValue, *fieldError) {
	if v, ok := scanJSON(data); ok {
		return v, nil
	}
	return decodeJSON(data)
}

// decodeJSON is parseJSON with encoding/json, whose errors say where a
// document is malformed.
func decodeJSON(data []byte) (*jsonValue, *fieldError) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	// encoding/json replaces invalid UTF-8 in strings with U+FFFD without a
	// word; the offset of the first bad byte lets the reader name the
	// string that holds it instead.
	p := &parser{dec: dec, bad: -1}
	if !utf8.Valid(data) {
		at, _ := firstInvalidUTF8(data)
		p.bad = int64(at)
	}
	v, ferr := p.readValue("", 0)
	if ferr != nil {
		return nil, ferr
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errorf("", "unexpected data after the JSON value")
	}
	return v, nil
}

// parser is a decoder and the offset of the document's first invalid UTF-8
// byte (-1 when there is none).
type parser struct {
	dec *json.Decoder
	bad int64
}

// token reads the next token and refuses a string that held invalid UTF-8,
// naming it by path (a key is named by its object's path and the key as
// decoded).
func (p *parser) token(path string) (json.Token, *fieldError) {
	start := p.dec.InputOffset()
	tok, err := p.dec.Token()
	if err != nil {
		return nil, syntaxError(err)
	}
	if _, ok := tok.(string); ok && p.bad >= start && p.bad < p.dec.InputOffset() {
		if path == "" {
			path = "the document"
		}
		return nil, errorf(path, "%s: invalid UTF-8 at byte %d", path, p.bad)
	}
	return tok, nil
}

func (p *parser) readValue(path string, depth int) (*jsonValue, *fieldError) {
	tok, ferr := p.token(path)
	if ferr != nil {
		return nil, ferr
	}
	switch t := tok.(type) {
	case nil:
		return &jsonValue{kind: jsonNull}, nil
	case bool:
		return &jsonValue{kind: jsonBool, boolean: t}, nil
	case json.Number:
		return &jsonValue{kind: jsonNumber, text: string(t)}, nil
	case string:
		return &jsonValue{kind: jsonString, text: t}, nil
	case json.Delim:
		if depth >= maxJSONDepth {
			return nil, errorf("", "malformed JSON: nested deeper than %d levels", maxJSONDepth)
		}
		if t == '[' {
			return p.readArray(path, depth)
		}
		return p.readObject(path, depth)
	}
	return nil, errorf("", "malformed JSON: unexpected token %v", tok)
}

func (p *parser) readArray(path string, depth int) (*jsonValue, *fieldError) {
	v := &jsonValue{kind: jsonArray}
	for p.dec.More() {
		item, ferr := p.readValue(indexPath(path, len(v.items)), depth+1)
		if ferr != nil {
			return nil, ferr
		}
		v.items = append(v.items, item)
	}
	return v, closeDelim(p.dec)
}

func (p *parser) readObject(path string, depth int) (*jsonValue, *fieldError) {
	v := &jsonValue{kind: jsonObject}
	seen := make(map[string]struct{})
	for p.dec.More() {
		where := "a key of " + path
		if path == "" {
			where = "a top-level key"
		}
		tok, ferr := p.token(where)
		if ferr != nil {
			return nil, ferr
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errorf("", "malformed JSON: object key is not a string")
		}
		// A repeated key is rejected rather than letting the last one win:
		// two "memory" limits in one object are a mistake either way.
		if _, dup := seen[key]; dup {
			return nil, errorf(joinPath(path, key), "duplicate field %q", joinPath(path, key))
		}
		seen[key] = struct{}{}
		value, ferr := p.readValue(joinPath(path, key), depth+1)
		if ferr != nil {
			return nil, ferr
		}
		v.members = append(v.members, jsonMember{key: key, value: value})
	}
	return v, closeDelim(p.dec)
}

// closeDelim consumes the ']' or '}' that dec.More reported.
func closeDelim(dec *json.Decoder) *fieldError {
	if _, err := dec.Token(); err != nil {
		return syntaxError(err)
	}
	return nil
}

func syntaxError(err error) *fieldError {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return errorf("", "malformed JSON at byte %d: %s", se.Offset, se.Error())
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errorf("", "malformed JSON: unexpected end of input")
	default:
		return errorf("", "malformed JSON: %s", err.Error())
	}
}

// describe names a value for a type error. Numbers are shown as written
// (cut short) because "got -5" says more than "got a number".
func describe(v *jsonValue) string {
	if v.kind == jsonNumber {
		lit := v.text
		if len(lit) > 32 {
			lit = lit[:32] + "..."
		}
		return lit
	}
	return v.kind.String()
}
