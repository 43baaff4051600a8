package model

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzDecodeBody drives the base64/script path on its own, with any text as
// the body. The properties: no panic; a refusal is a *SpecError on the body
// field with one of SPEC's messages; what is accepted is bounded, valid UTF-8
// and the one canonical encoding of its bytes (so no two texts decode to the
// same script); and, the other way round, every valid UTF-8 text within the
// bound, encoded, comes back unchanged.
func FuzzDecodeBody(f *testing.F) {
	for _, seed := range []string{
		"ZWNobyBoaQ==", "YQ==", "YWI=", "YWJj", "", "YQ", "YWI", "YQ==YQ==", "Pz8_", "YW Jj",
		"YWJj\r\n", "YWJj\n", "YR==", "YWJ=", "====", "=", "A===", "b2vDKA==", "7aCA", "7aCAZQ==",
		"4pyT", "8J2Ung==", "AA==", "////", "++++", "Zm9v\x00", "\xff\xfe", "ZW NobyBoaQ==",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s := &ScriptMode{Runtime: Runtime{Name: RuntimeBash}, Body: text}
		body, err := s.DecodeBody()
		if err != nil {
			assert.Nil(t, body)
			var se *SpecError
			require.True(t, errors.As(err, &se), "want *SpecError, got %T: %v", err, err)
			assert.Equal(t, bodyField, se.Field)
			assert.True(t, knownBodyMessage(se.Msg), "unexpected message %q", se.Msg)
			assert.Equal(t, "invalid specification: "+se.Msg, err.Error())
		} else {
			assert.NotEmpty(t, body)
			assert.LessOrEqual(t, len(body), MaxScriptBodyBytes)
			assert.True(t, utf8.Valid(body), "accepted invalid UTF-8: %q", body)
			assert.Equal(t, text, base64.StdEncoding.EncodeToString(body), "accepted a non-canonical encoding")
		}

		// The reverse direction: the text itself as a script.
		if text != "" && utf8.ValidString(text) && len(text) <= MaxScriptBodyBytes {
			enc := &ScriptMode{Runtime: Runtime{Name: RuntimeBash}, Body: base64.StdEncoding.EncodeToString([]byte(text))}
			got, err := enc.DecodeBody()
			require.NoError(t, err)
			assert.Equal(t, text, string(got))
		}
	})
}

// knownBodyMessage reports whether msg is one of the body's SPEC messages.
func knownBodyMessage(msg string) bool {
	for _, prefix := range []string{
		"script body cannot be empty",
		"invalid base64 body: ",
		"script body is not valid UTF-8: ",
		"script body is ",
	} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}
