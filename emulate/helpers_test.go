package emulate_test

import (
	"github.com/pmem2emu/pmem2emu/emulate"
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
