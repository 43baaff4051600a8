package model

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRuntimeProgram(t *testing.T) {
	tests := []struct {
		runtime Runtime
		want    string
	}{
		{Runtime{Name: RuntimeBash}, "bash"},
		{Runtime{Name: RuntimePython}, "python3"},
		{Runtime{Name: RuntimeNode}, "node"},
		{Runtime{Name: RuntimeCustom, Command: "ruby", Flag: "-e"}, "ruby"},
		{Runtime{Name: RuntimeCustom, Command: "/opt/bin/lua", Flag: "-"}, "/opt/bin/lua"},
		{Runtime{Name: "perl"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.runtime.Name+tt.runtime.Command, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.runtime.Program())
		})
	}
}

func TestRuntimeProgramFromJSON(t *testing.T) {
	tests := []struct {
		runtime string
		want    string
	}{
		{`"bash"`, "bash"},
		{`"python"`, "python3"},
		{`"node"`, "node"},
		{`{"custom": {"command": "ruby", "flag": "-e"}}`, "ruby"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			spec := parseSpec(t, withMode(`{"script": {"runtime": `+tt.runtime+`, "body": "ZWNobyBoaQ=="}}`))
			assert.Equal(t, tt.want, spec.Kind.Subprocess.Mode.Script.Runtime.Program())
		})
	}
}

func TestDecodeBodyAccepts(t *testing.T) {
	tests := []struct {
		name string
		body []byte
	}{
		{"short", []byte("echo hello")},
		{"one padding byte", []byte("ab")},
		{"utf-8", []byte("echo 'héllo wörld ✓'")},
		{"200 KiB", bytes.Repeat([]byte("echo line\n"), 200*1024/10)},
		{"exactly the maximum", bytes.Repeat([]byte("x"), MaxScriptBodyBytes)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &ScriptMode{Runtime: Runtime{Name: RuntimeBash}, Body: base64.StdEncoding.EncodeToString(tt.body)}
			got, err := s.DecodeBody()
			require.NoError(t, err)
			assert.Equal(t, tt.body, got)
		})
	}
}

func TestParseTaskSpecLargeScriptBody(t *testing.T) {
	body := bytes.Repeat([]byte("echo 200KiB\n"), 200*1024/12)
	spec := parseSpec(t, withMode(`{"script": {"runtime": "bash", "body": "`+base64.StdEncoding.EncodeToString(body)+`"}}`))
	got, err := spec.Kind.Subprocess.Mode.Script.DecodeBody()
	require.NoError(t, err)
	assert.Equal(t, body, got)
}

func TestDecodeBodyErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		msg  string
	}{
		{"empty", "", "script body cannot be empty"},
		{"missing padding", "YWI", "invalid base64 body: length 3 is not a multiple of 4 (padding is required)"},
		{"missing both paddings", "YQ", "invalid base64 body: length 2 is not a multiple of 4 (padding is required)"},
		{"padding in the middle", "YQ==YQ==", "invalid base64 body: illegal base64 data at input byte 4"},
		{"url-safe alphabet", "Pz8_", "invalid base64 body: illegal base64 data at input byte 3"},
		{"space", "YW Jj", "invalid base64 body: illegal base64 data at input byte 2"},
		{"carriage return", "YWJj\r\n", "invalid base64 body: illegal base64 data at input byte 4"},
		{"invalid UTF-8", base64.StdEncoding.EncodeToString([]byte("ok\xc3(")), "script body is not valid UTF-8: invalid byte 0xc3 at offset 2"},
		{"one byte too many", base64.StdEncoding.EncodeToString(make([]byte, MaxScriptBodyBytes+1)), "script body is 2097153 bytes (decoded), maximum allowed is 2097152 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &ScriptMode{Runtime: Runtime{Name: RuntimeBash}, Body: tt.body}
			got, err := s.DecodeBody()
			assert.Nil(t, got)
			var se *SpecError
			require.True(t, errors.As(err, &se), "want *SpecError, got %T: %v", err, err)
			assert.Equal(t, tt.msg, se.Msg)
			assert.Equal(t, "kind.subprocess.mode.script.body", se.Field)
			assert.Equal(t, "invalid specification: "+tt.msg, err.Error())
		})
	}
}

// An encoded body longer than any 2 MiB body can be is refused by its
// length alone: the text below is not even base64, so the size message
// proves it was never decoded, and the check allocates next to nothing.
func TestDecodeBodyTooLongIsRefusedBeforeDecoding(t *testing.T) {
	assert.Equal(t, 2796204, maxEncodedBodyLen)
	tests := []struct {
		name string
		body string
		msg  string
	}{
		{"one quantum too many", strings.Repeat("!", maxEncodedBodyLen+4), "script body is 2097156 bytes (decoded), maximum allowed is 2097152 bytes"},
		{"padded", strings.Repeat("!", maxEncodedBodyLen+2) + "==", "script body is 2097154 bytes (decoded), maximum allowed is 2097152 bytes"},
		{"far too long", strings.Repeat("!", 16<<20), "script body is 12582912 bytes (decoded), maximum allowed is 2097152 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &ScriptMode{Runtime: Runtime{Name: RuntimeBash}, Body: tt.body}
			_, err := s.DecodeBody()
			assert.EqualError(t, err, "invalid specification: "+tt.msg)
			allocs := testing.AllocsPerRun(5, func() { _, _ = s.DecodeBody() })
			assert.Less(t, allocs, 10.0, "a refused body must not be decoded")
		})
	}
}

// The encoded cap lets through text that decodes to up to two bytes more
// than the limit; the decoded size is checked too.
func TestDecodeBodyAtEncodedCap(t *testing.T) {
	body := strings.Repeat("A", maxEncodedBodyLen) // decodes to 2097153 zero bytes
	s := &ScriptMode{Runtime: Runtime{Name: RuntimeBash}, Body: body}
	_, err := s.DecodeBody()
	assert.EqualError(t, err, "invalid specification: script body is 2097153 bytes (decoded), maximum allowed is 2097152 bytes")
}
