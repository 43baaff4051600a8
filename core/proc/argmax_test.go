package proc

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A plan the kernel would refuse to exec is refused before anything starts,
// naming the string that is too long or saying it is the total.
func TestStartRefusesStringsTooBigToExec(t *testing.T) {
	sp := setup(t)
	long := strings.Repeat("x", maxArgStrlen)
	chunk := strings.Repeat("y", maxArgStrlen/2)
	many := make([]string, 2*argMax()/len(chunk))
	for i := range many {
		many[i] = chunk
	}
	for _, c := range []struct {
		name string
		plan *Plan
		what string
	}{
		{"one argument", &Plan{Path: "/bin/true", Args: []string{"a", long}, Env: testEnv}, "Args[1]"},
		{"one variable", &Plan{Path: "/bin/true", Env: append([]string{"BIG=" + long}, testEnv...)}, `Env "BIG"`},
		{"all together", &Plan{Path: "/bin/true", Args: many, Env: testEnv}, "arguments and environment"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := sp.Start(c.plan)
			var se *ExecSizeError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, c.what, se.What)
			assert.Contains(t, err.Error(), "bytes the kernel takes for exec")
		})
	}
}

// Strings of the largest size the kernel execs, and a total above the
// 32-page floor below which no limit is looked up, still run.
func TestStartRunsStringsAtTheLimit(t *testing.T) {
	sp := setup(t)
	arg := strings.Repeat("z", maxArgStrlen-1)
	r := run(t, sp, sh(`printf '%s %s' "${#1}" "${#2}"`, arg, arg))
	assert.Equal(t, "131071 131071", r.stdout)
	assert.Equal(t, 0, r.status.ExitCode)
}
