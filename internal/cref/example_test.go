package cref_test

import (
	"fmt"

	"github.com/pmem2emu/pmem2emu/internal/cref"
)

// What a probe killed in pmem2_source_alignment leaves behind parses into a
// partial result; Run then adds the signal and the call that was running.
func ExampleParse() {
	out := "from_fd 0\nsize 0 1073741824\n"
	r, err := cref.Parse([]byte(out), []cref.Step{cref.StepSize, cref.StepAlignment})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.FromFD.RC, r.Size.Value, r.Alignment.Ran, r.Done)
	fmt.Println(r)
	// Output:
	// 0 1073741824 false false
	// from_fd 0, size 1073741824, alignment -
}
