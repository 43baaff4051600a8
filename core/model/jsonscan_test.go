package model

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scanJSON must read every document it accepts exactly as encoding/json
// does, accept nothing encoding/json refuses, and take the common documents
// itself (else it is no fast path).

// checkScanMatchesDecode holds the properties for one document and says
// whether scanJSON took it.
func checkScanMatchesDecode(t *testing.T, data []byte) bool {
	t.Helper()
	fast, ok := scanJSON(data)
	slow, ferr := decodeJSON(data)
	if !ok {
		return false
	}
	require.Nil(t, ferr, "scanJSON accepted what encoding/json refuses: %q", data)
	require.Equal(t, slow, fast, "scanJSON read %q differently", data)
	return true
}

var scannedDocuments = []string{
	specExample,
	upstreamSpec(upstreamCommand, `"labels":{"a":"b"},"runnerSelector":{"matchLabels":{"x":"y"}}`),
	`{"slot": "spawn", "timeout": 600000, "kind": {"subprocess": {"mode": {"command": {"command": "/bin/true", "args": []}}}}}`,
	`{}`, `[]`, ` [ ] `, `null`, `true`, `false`, `0`, `-0`, `-0.5e-3`, `1E+9`, `12.25`, `""`,
	`{"a": [1, {"b": null}, [true, false]], "c": {"d": {}}}`,
	`"tab\there \"quoted\" back\\slash \/ \b\f\n\r \u00e9 \u20AC \u0000"`,
	"\"caf\u00e9 \u6f22\u5b57 \U0001F600\"",
	"\t\r\n{\"x\":\n1\t}\r\n",
	`{"": "", "a b": "c"}`,
	`[` + strings.Repeat(`[`, maxJSONDepth-1) + strings.Repeat(`]`, maxJSONDepth-1) + `]`,
}

var declinedDocuments = []string{
	``, ` `, `{`, `[`, `]`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[,1]`, `{,}`,
	`{"a":1 "b":2}`, `{"a":1}{}`, `{} {}`, `{} x`, `{1: 2}`, `{'a': 1}`,
	`01`, `1.`, `.5`, `-`, `+1`, `1e`, `1e+`, `0x10`, `NaN`, `Infinity`, `tru`, `truex`, `nul`, `True`,
	`"unterminated`, "\"ctl \x01\"", "\"nl \n\"", `"\x"`, `"\u12"`, `"\u12g4"`, `"\`,
	`"\ud800"`, `"\udfff"`, `"\ud83d\ude00"`,
	"\"\xff\"", "{\"\xc3\": 1}", "\xef\xbb\xbf{}",
	`{"slot": "s", "slot": "t"}`,
	`{"a": {"b": 1, "b": 2}}`,
	strings.Repeat(`[`, maxJSONDepth+1) + strings.Repeat(`]`, maxJSONDepth+1),
}

// manyKeys is an object of n distinct keys, and then the keys extra.
func manyKeys(n int, extra ...string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < n; i++ {
		b.WriteString(`"k` + strconv.Itoa(i) + `": ` + strconv.Itoa(i) + ", ")
	}
	for _, k := range extra {
		b.WriteString(`"` + k + `": 0, `)
	}
	b.WriteString(`"last": true}`)
	return b.String()
}

// Objects past smallObject members find repeats in a set: the first and
// the last key, or two keys far apart, still count.
func TestScanJSONRepeatsInLargeObjects(t *testing.T) {
	for _, n := range []int{smallObject - 2, smallObject - 1, smallObject, smallObject + 1, 5000} {
		assert.True(t, checkScanMatchesDecode(t, []byte(manyKeys(n))), "%d keys", n)
		for _, dup := range []string{"k0", "k" + strconv.Itoa(n-1), "last"} {
			assert.False(t, checkScanMatchesDecode(t, []byte(manyKeys(n, dup))), "%d keys, %s repeated", n, dup)
		}
	}
}

func TestScanJSONReadsAsEncodingJSON(t *testing.T) {
	for i, doc := range scannedDocuments {
		t.Run("scanned/"+strconv.Itoa(i), func(t *testing.T) {
			assert.True(t, checkScanMatchesDecode(t, []byte(doc)), "scanJSON declined %q", doc)
		})
	}
	for i, doc := range declinedDocuments {
		t.Run("declined/"+strconv.Itoa(i), func(t *testing.T) {
			assert.False(t, checkScanMatchesDecode(t, []byte(doc)), "scanJSON took %q", doc)
		})
	}
}

// The errors stay encoding/json's: parseJSON gives what decodeJSON gives.
func TestParseJSONErrorsAreTheDecodersOwn(t *testing.T) {
	for _, doc := range declinedDocuments {
		_, fast := parseJSON([]byte(doc))
		_, slow := decodeJSON([]byte(doc))
		assert.Equal(t, slow, fast, "%q", doc)
	}
}

// Every document of the package's fuzz corpora that parses takes the fast
// path, but for those with an escaped surrogate.
func TestScanJSONTakesTheCorpora(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParse*"))
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	taken := 0
	for _, dir := range dirs {
		files, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, f := range files {
			data := corpusBytes(t, filepath.Join(dir, f.Name()))
			if data == nil {
				continue
			}
			scanned := checkScanMatchesDecode(t, data)
			if _, ferr := decodeJSON(data); ferr == nil && !strings.Contains(string(data), `\u`) {
				assert.True(t, scanned, "%s: valid, but scanJSON declined it", f.Name())
			}
			if scanned {
				taken++
			}
		}
	}
	assert.Positive(t, taken)
}

// corpusBytes reads the []byte of a "go test fuzz v1" file; nil if it holds
// something else.
func corpusBytes(t *testing.T, path string) []byte {
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.SplitN(string(raw), "\n", 3)
	if len(lines) < 2 || !strings.HasPrefix(lines[1], "[]byte(") || !strings.HasSuffix(lines[1], ")") {
		return nil
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	if err != nil {
		return nil
	}
	return []byte(s)
}

func FuzzScanJSON(f *testing.F) {
	for _, doc := range append(append([]string(nil), scannedDocuments...), declinedDocuments...) {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkScanMatchesDecode(t, data)
	})
}

// The spec the spawn bench builds, and SPEC section 2's example (about 500
// bytes): the whole parse, and the tree alone by each reader.
func BenchmarkParseTaskSpec(b *testing.B) {
	for name, spec := range map[string]string{"bench-spec": scannedDocuments[2], "spec-example": specExample} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseTaskSpec([]byte(spec)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkJSONTree(b *testing.B) {
	for name, read := range map[string]func([]byte) bool{
		"scan":   func(d []byte) bool { _, ok := scanJSON(d); return ok },
		"decode": func(d []byte) bool { _, err := decodeJSON(d); return err == nil },
	} {
		b.Run(name, func(b *testing.B) {
			data := []byte(specExample)
			b.ReportAllocs()
			for b.Loop() {
				if !read(data) {
					b.Fatal("not read")
				}
			}
		})
	}
}
