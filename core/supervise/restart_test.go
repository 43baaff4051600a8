package supervise

import (
	"testing"

	"github.com/solti-exec/solti-exec/core/model"
	"github.com/stretchr/testify/assert"
)

func TestShouldRestart(t *testing.T) {
	never := model.RestartPolicy{Type: "never"}
	onFailure := model.RestartPolicy{Type: "onFailure"}
	always := model.RestartPolicy{Type: "always", IntervalMs: 100}
	cases := []struct {
		name  string
		p     model.RestartPolicy
		max   uint32
		so    uint32
		end   End
		again bool
	}{
		{"never after failure", never, 0, 0, EndFailure, false},
		{"onFailure after failure", onFailure, 0, 0, EndFailure, true},
		{"onFailure after timeout", onFailure, 0, 0, EndTimeout, true},
		{"onFailure after success", onFailure, 0, 0, EndSuccess, false},
		{"always after success", always, 0, 0, EndSuccess, true},
		{"always after failure", always, 0, 5, EndFailure, true},
		{"cancel never restarts", always, 0, 0, EndCanceled, false},
		{"fatal never restarts", always, 0, 0, EndFatal, false},
		{"lost never restarts", always, 0, 0, EndLost, false},
		{"lost never restarts on failure", onFailure, 0, 0, EndLost, false},
		{"maxRetries 2 allows the 2nd retry", onFailure, 2, 1, EndFailure, true},
		{"maxRetries 2 stops the 3rd retry", onFailure, 2, 2, EndFailure, false},
		{"maxRetries 0 is unlimited", onFailure, 0, 1000, EndFailure, true},
	}
	for _, c := range cases {
		assert.Equal(t, c.again, ShouldRestart(c.p, c.max, c.so, c.end), c.name)
	}
}
