package runner

import (
	"testing"

	"github.com/solti-exec/solti-exec/core/model"
	"github.com/solti-exec/solti-exec/core/output"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunnerLabelsCarryItsName(t *testing.T) {
	r := newRunner(t, `{"labels": {"zone": "eu"}}`)
	assert.Equal(t, model.Labels{"runner-name": "test-runner", "zone": "eu"}, r.Labels())
}

// A spec as upstream 0.0.2 writes it, with labels and a matching selector,
// builds and runs; one whose selector does not match is refused at build,
// naming the term and the runner's labels.
func TestRunnerSelectorAtBuild(t *testing.T) {
	r := newRunner(t, `{"labels": {"zone": "eu"}}`)
	doc := `{"slot":"sel","kind":{"subprocess":{"mode":{"command":{"command":"echo","args":["hi"]}},"failOnNonZero":true}},` +
		`"timeout":5000,"restart":{"type":"never"},"backoff":{"jitter":"full","firstMs":1000,"maxMs":30000,"factor":2.0},` +
		`"admission":"dropIfRunning","labels":{"team":"infra"},` +
		`"runnerSelector":{"matchLabels":{"runner-name":"test-runner"},"matchExpressions":[{"key":"zone","operator":"In","values":["eu"]}]}}`
	task := build(t, r, []byte(doc))
	assert.Equal(t, model.Labels{"team": "infra"}, task.Labels())
	rep, evs := runToEnd(t, task)
	assert.Equal(t, OutcomeSuccess, rep.Outcome)
	assert.Equal(t, []string{"hi"}, lines(evs, output.Stdout))

	s, err := model.ParseTaskSpec(spec("sel", command("true"), map[string]any{
		"runnerSelector": map[string]any{"matchExpressions": []any{map[string]any{"key": "gpu", "operator": "Exists"}}},
	}))
	require.NoError(t, err)
	_, err = r.Build(s)
	var se *model.SpecError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, `invalid specification: runnerSelector term matchExpressions[0] gpu Exists does not match runner "test-runner" with labels {runner-name=test-runner, zone=eu}`, err.Error())
}
