package check_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/internal/check"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

func TestRun(t *testing.T) {
	t.Run("every expectation of the default fixture holds", func(t *testing.T) {
		f := emutest.Start(t, nil).Fixture
		rep, err := check.Run(context.Background(), f, f.Spec().Checks())
		require.NoError(t, err)
		for _, r := range rep.Rows {
			assert.True(t, r.Pass(), "%s (%s): %v", r.Check.Path, r.Check.Mode, r.Mismatches)
		}
		assert.Equal(t, len(rep.Rows), rep.Passed)
		assert.Zero(t, rep.Failed)
	})

	t.Run("a wrong expectation is a failed row that says what differs", func(t *testing.T) {
		size := uint64(4096)
		spec := &emulate.Spec{DAXDevices: []emulate.DAXDevice{{
			Name: "dax0.0", Size: 1 << 30,
			Expect: &emulate.Expect{Path: &emulate.Outcome{Size: &size}},
		}}}
		f := emutest.Start(t, spec).Fixture
		rep, err := check.Run(context.Background(), f, spec.Checks())
		require.NoError(t, err)
		require.Len(t, rep.Rows, 1)
		assert.Equal(t, 1, rep.Failed)
		assert.False(t, rep.Rows[0].Pass())
		assert.NotEmpty(t, rep.Rows[0].Mismatches)
		assert.Equal(t, uint64(1<<30), rep.Rows[0].Got.Size)
		assert.Equal(t, pmem2.Code(0), rep.Rows[0].Got.FromFD)
	})

	t.Run("a cancelled context stops the run with its error", func(t *testing.T) {
		f := emutest.Start(t, nil).Fixture
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		rep, err := check.Run(ctx, f, f.Spec().Checks())
		assert.ErrorIs(t, err, context.Canceled)
		assert.Empty(t, rep.Rows)
	})
}
