package output

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// OpenFDs counts a ring's eventfd once, however often ReadyFD is asked, and
// not after Release (however often that is called).
func TestOpenFDsCountsReadinessFDs(t *testing.T) {
	before := OpenFDs()
	r := NewRing(RingConfig{})
	assert.Equal(t, before, OpenFDs(), "no eventfd until asked")
	_, err := r.ReadyFD()
	require.NoError(t, err)
	_, err = r.ReadyFD()
	require.NoError(t, err)
	assert.Equal(t, before+1, OpenFDs())
	r.Release()
	r.Release()
	assert.Equal(t, before, OpenFDs())
}
