package emulate_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pmem2emu/pmem2emu/emulate"
)

// Healthy keeps what a program can use quietly and drops what Default
// breaks on purpose; it is a valid spec with expectations of its own.
func TestHealthyIsDefaultWithoutItsBrokenParts(t *testing.T) {
	s := emulate.Healthy()
	require.NoError(t, s.Validate())
	var names []string
	for _, d := range s.DAXDevices {
		names = append(names, d.Name)
	}
	assert.Equal(t, []string{"dax0.0", "dax0.1", "dax1.0", "dax20.0", "dax21.0", "dax21.1"}, names, "Device DAX devices")
	var dimms []string
	for _, d := range s.DIMMs {
		dimms = append(dimms, d.Name)
	}
	assert.Equal(t, []string{"nmem20", "nmem21", "nmem22"}, dimms, "their DIMMs")
	var paths []string
	for _, n := range s.Nodes {
		paths = append(paths, n.Path)
	}
	assert.Equal(t, []string{"data", "data/empty", "data/small", "data/sparse", "data/link", "data/dir", "data/fifo",
		"data/socket", "dev/sda", "dev/mem5", "dev/experimental", "data/secret", "data/ras"}, paths, "nodes")
	assert.Empty(t, s.Faults, "faults")
	assert.Len(t, s.PmemDevices, 1, "pmem devices")
	assert.NotEmpty(t, s.Checks(), "expectations")
}
