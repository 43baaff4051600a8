package model

import (
	"strings"
	"unicode/utf8"
)

// scanJSON is parseJSON's fast path: a plain scanner for the documents that
// parse, which are nearly all of them. It builds the same tree parseJSON
// would and declines (false) on anything it does not accept as it stands,
// so that parseJSON's encoding/json reading names the error: bad syntax,
// invalid UTF-8, a duplicate key, too deep a nesting. It also declines an
// escaped UTF-16 surrogate, whose replacement by U+FFFD it leaves to
// encoding/json.
//
// Why: encoding/json's Decoder.Token costs 6-7 us for the tree of a small
// task spec (one allocation for every token, an error value built at the
// end of every scalar), on the host's thread, for every task built. This
// reads the same tree in about 1 us.
func scanJSON(data []byte) (*jsonValue, bool) {
	if !utf8.Valid(data) {
		return nil, false
	}
	s := &scanner{data: data}
	v, ok := s.value(0)
	if !ok {
		return nil, false
	}
	s.skipSpace()
	return v, s.pos == len(s.data)
}

type scanner struct {
	data []byte
	pos  int
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) value(depth int) (*jsonValue, bool) {
	s.skipSpace()
	if s.pos >= len(s.data) {
		return nil, false
	}
	switch c := s.data[s.pos]; {
	case c == '{' || c == '[':
		if depth >= maxJSONDepth {
			return nil, false
		}
		s.pos++
		if c == '{' {
			return s.object(depth)
		}
		return s.array(depth)
	case c == '"':
		text, ok := s.str()
		return &jsonValue{kind: jsonString, text: text}, ok
	case c == '-' || (c >= '0' && c <= '9'):
		text, ok := s.number()
		return &jsonValue{kind: jsonNumber, text: text}, ok
	case s.literal("true"):
		return &jsonValue{kind: jsonBool, boolean: true}, true
	case s.literal("false"):
		return &jsonValue{kind: jsonBool}, true
	case s.literal("null"):
		return &jsonValue{kind: jsonNull}, true
	}
	return nil, false
}

func (s *scanner) literal(word string) bool {
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return false
	}
	s.pos += len(word)
	return true
}

// next skips white space and consumes c if it comes next.
func (s *scanner) next(c byte) bool {
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

func (s *scanner) array(depth int) (*jsonValue, bool) {
	v := &jsonValue{kind: jsonArray}
	if s.next(']') {
		return v, true
	}
	for {
		item, ok := s.value(depth + 1)
		if !ok {
			return nil, false
		}
		v.items = append(v.items, item)
		if s.next(']') {
			return v, true
		}
		if !s.next(',') {
			return nil, false
		}
	}
}

// smallObject is how many members an object's keys are compared one by one
// for a repeat before a set of them is made: the specs' objects are smaller,
// and a document with a great many keys must not cost their square.
const smallObject = 16

func (s *scanner) object(depth int) (*jsonValue, bool) {
	v := &jsonValue{kind: jsonObject}
	if s.next('}') {
		return v, true
	}
	var keys map[string]struct{}
	for {
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return nil, false
		}
		key, ok := s.str()
		if !ok || !s.next(':') {
			return nil, false
		}
		if repeatedKey(v.members, &keys, key) {
			return nil, false
		}
		value, ok := s.value(depth + 1)
		if !ok {
			return nil, false
		}
		v.members = append(v.members, jsonMember{key: key, value: value})
		if s.next('}') {
			return v, true
		}
		if !s.next(',') {
			return nil, false
		}
	}
}

// repeatedKey says whether key is among members' keys. Up to smallObject
// members it compares them in turn (sooner than a map is made); past that it
// keeps them in *keys.
func repeatedKey(members []jsonMember, keys *map[string]struct{}, key string) bool {
	if len(members) < smallObject {
		for _, m := range members {
			if m.key == key {
				return true
			}
		}
		return false
	}
	if *keys == nil {
		*keys = make(map[string]struct{}, 2*len(members))
		for _, m := range members {
			(*keys)[m.key] = struct{}{}
		}
	}
	if _, dup := (*keys)[key]; dup {
		return true
	}
	(*keys)[key] = struct{}{}
	return false
}

// str reads a string from its opening quote.
func (s *scanner) str() (string, bool) {
	s.pos++
	start := s.pos
	for s.pos < len(s.data) {
		switch c := s.data[s.pos]; {
		case c == '"':
			text := string(s.data[start:s.pos])
			s.pos++
			return text, true
		case c == '\\':
			return s.escapedStr(start)
		case c < 0x20:
			return "", false
		default:
			s.pos++
		}
	}
	return "", false
}

// escapedStr finishes a string that holds an escape, from its first byte.
func (s *scanner) escapedStr(start int) (string, bool) {
	var b strings.Builder
	b.Write(s.data[start:s.pos])
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return b.String(), true
		case c < 0x20:
			return "", false
		case c != '\\':
			b.WriteByte(c)
			s.pos++
			continue
		}
		if s.pos+1 >= len(s.data) {
			return "", false
		}
		e := s.data[s.pos+1]
		s.pos += 2
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := s.hex4()
			if !ok || utf16Surrogate(r) {
				return "", false
			}
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	return "", false
}

func utf16Surrogate(r rune) bool { return r >= 0xd800 && r < 0xe000 }

func (s *scanner) hex4() (rune, bool) {
	if s.pos+4 > len(s.data) {
		return 0, false
	}
	var r rune
	for _, c := range s.data[s.pos : s.pos+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	s.pos += 4
	return r, true
}

// number reads a number as RFC 8259 writes it: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() (string, bool) {
	start := s.pos
	if s.data[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(s.data) && s.data[s.pos] == '0':
		s.pos++
	case s.digits() == 0:
		return "", false
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if s.digits() == 0 {
			return "", false
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if s.digits() == 0 {
			return "", false
		}
	}
	return string(s.data[start:s.pos]), true
}

func (s *scanner) digits() int {
	n := 0
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		s.pos++
		n++
	}
	return n
}
