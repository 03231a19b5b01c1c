package emulate_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/internal/check"
	"github.com/pmem2emu/pmem2emu/internal/probe"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// observe opens path in mode and runs pmem2 on the descriptor, as
// `pmem2emu check` does (it is the same code).
func observe(path, sysfs string, mode emulate.OpenMode) emulate.Result {
	r, err := probe.Run(path, mode, pmem2.WithSysfsRoot(sysfs))
	if err != nil {
		panic(err)
	}
	return r.Result
}

// meets runs checks on f as `pmem2emu check` does (internal/check), and
// in a subtest a check ("PATH MODE") requires that pmem2 returned what
// the check expects.
func meets(t *testing.T, f *emutest.Fixture, checks []emulate.Check) {
	t.Helper()
	rep, err := check.Run(context.Background(), f.Fixture, checks)
	require.NoError(t, err)
	for _, r := range rep.Rows {
		c := r.Check
		t.Run(fmt.Sprintf("%s %s", c.Path, c.Mode), func(t *testing.T) {
			assert.Empty(t, r.Mismatches, "%s (%s) in mode %s: want %s, got %s", c.Path, c.Source, c.Mode, c.Expect.String(), r.Got.Result)
		})
	}
}
