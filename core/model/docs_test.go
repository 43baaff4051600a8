package model

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/solti-exec/solti-exec/core/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docBlock matches a fenced JSON example in docs/: "```json task" is a task
// spec, "```json runner" a runner config. A bare "```json" is refused below,
// so no example escapes the check.
var docBlock = regexp.MustCompile("(?s)```json([^\n]*)\n(.*?)\n```")

// Every JSON example in docs/ parses and validates as what it says it is.
func TestDocsExamplesParse(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testutil.RepoRoot(), "docs", "*.md"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "docs/ holds the format reference")
	total := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		for i, m := range docBlock.FindAllStringSubmatch(string(data), -1) {
			total++
			name := fmt.Sprintf("%s example %d", filepath.Base(f), i+1)
			doc := []byte(m[2])
			switch strings.TrimSpace(m[1]) {
			case "task":
				_, err := ParseTaskSpec(doc)
				assert.NoError(t, err, "%s:\n%s", name, doc)
			case "runner":
				_, err := ParseRunnerConfig(doc)
				assert.NoError(t, err, "%s:\n%s", name, doc)
			default:
				t.Errorf("%s: a JSON example must say ```json task or ```json runner, got %q", name, m[1])
			}
		}
	}
	assert.Greater(t, total, 10, "examples found")
}
