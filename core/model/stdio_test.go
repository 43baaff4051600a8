package model

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const echoMode = `"mode": {"command": {"command": "cat"}}`

func TestStdioFields(t *testing.T) {
	s := parseSpec(t, withSubprocess(`{`+echoMode+`, "stdin": "pipe", "stderr": "stdout"}`)).Kind.Subprocess
	assert.Equal(t, StdinPipe, s.Stdin)
	assert.Equal(t, StderrStdout, s.Stderr)
	assert.Nil(t, s.Input)
	assert.Nil(t, s.Pty)

	s = parseSpec(t, withSubprocess(`{`+echoMode+`, "input": "aGkK"}`)).Kind.Subprocess
	assert.Equal(t, StdinPipe, s.Stdin, "an input alone means a stdin pipe")
	in, err := s.DecodeInput()
	require.NoError(t, err)
	assert.Equal(t, "hi\n", string(in))

	s = parseSpec(t, withSubprocess(`{`+echoMode+`, "input": ""}`)).Kind.Subprocess
	in, err = s.DecodeInput()
	require.NoError(t, err)
	assert.Empty(t, in, "an empty input closes stdin at once")

	s = parseSpec(t, withSubprocess(`{`+echoMode+`, "pty": {}}`)).Kind.Subprocess
	assert.Equal(t, &PtySize{Rows: 24, Cols: 80}, s.Pty)
	s = parseSpec(t, withSubprocess(`{`+echoMode+`, "pty": {"rows": 50, "cols": 132}, "stdin": "pipe"}`)).Kind.Subprocess
	assert.Equal(t, &PtySize{Rows: 50, Cols: 132}, s.Pty)

	s = parseSpec(t, withSubprocess(`{`+echoMode+`}`)).Kind.Subprocess
	assert.Equal(t, StdinNull, s.Stdin)
	assert.Equal(t, StderrPipe, s.Stderr)
}

func TestStdioValidationMessages(t *testing.T) {
	tooBig := base64.StdEncoding.EncodeToString(make([]byte, MaxInputBytes+3))
	tests := []struct {
		name, body, field, msg string
	}{
		{"stdin unknown", `"stdin": "tty"`, "kind.subprocess.stdin", `"null", "inherit" or "pipe"`},
		{"stderr unknown", `"stderr": "stderr"`, "kind.subprocess.stderr", `"pipe" or "stdout"`},
		{"input with null", `"stdin": "null", "input": "aGkK"`, inputField, `input needs stdin "pipe", got "null"`},
		{"input not base64", `"input": "a b"`, inputField, "invalid base64 input"},
		{"input unpadded", `"input": "aGk"`, inputField, "invalid base64 input"},
		{"input too big", `"input": "` + tooBig + `"`, inputField, "maximum allowed is 16777216 bytes"},
		{"input with pty", `"input": "aGkK", "pty": {}`, inputField, "input is not taken with pty"},
		{"pty with inherit", `"stdin": "inherit", "pty": {}`, ptyField, `stdin must be "pipe" or unset`},
		{"pty with stderr", `"stderr": "stdout", "pty": {}`, ptyField, "stderr must be unset"},
		{"pty rows zero", `"pty": {"rows": 0}`, ptyField + ".rows", "pty.rows must be greater than zero"},
		{"pty cols zero", `"pty": {"cols": 0}`, ptyField + ".cols", "pty.cols must be greater than zero"},
		{"pty rows big", `"pty": {"rows": 65536}`, ptyField + ".rows", "must be at most 65535, got 65536"},
		{"pty cols big", `"pty": {"cols": 70000}`, ptyField + ".cols", "must be at most 65535, got 70000"},
		{"pty unknown", `"pty": {"height": 3}`, ptyField, "height"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			se := requireSpecError(t, withSubprocess(`{`+echoMode+`, `+tt.body+`}`))
			assert.True(t, strings.HasPrefix(se.Field, tt.field), "field %q", se.Field)
			assert.Contains(t, se.Error(), tt.msg)
		})
	}
}
