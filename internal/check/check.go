// Package check runs a fixture spec's expectations against the pmem2
// library: for every emulate.Check it opens the node on the mounted fixture
// in the check's mode, runs the library as probe.Run does, and compares
// what came back with the expected outcome. It is the logic behind
// `pmem2emu check`.
package check

import (
	"context"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/internal/probe"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// Row is one check and its verdict.
type Row struct {
	Check emulate.Check
	// Got is what the library returned; Got.Result is in the words of
	// Check.Expect.
	Got probe.Result
	// Mismatches describes each way Got differs from Check.Expect; none
	// means the check passed.
	Mismatches []string
}

// Pass reports whether the library returned what the check expects.
func (r Row) Pass() bool { return len(r.Mismatches) == 0 }

// Report is the outcome of a run.
type Report struct {
	Rows           []Row
	Passed, Failed int
}

// Run verifies checks against the fixture f, in order. It stops early, with
// ctx's error, when ctx is done; the rows finished by then are returned.
func Run(ctx context.Context, f *emulate.Fixture, checks []emulate.Check) (Report, error) {
	var rep Report
	for _, c := range checks {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		got, err := probe.Run(f.Path(c.Path), c.Mode, pmem2.WithSysfsRoot(f.Sysfs()))
		if err != nil {
			return rep, err
		}
		row := Row{Check: c, Got: got, Mismatches: c.Expect.Mismatches(got.Result)}
		if row.Pass() {
			rep.Passed++
		} else {
			rep.Failed++
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep, nil
}
