package emutest_test

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// A test mounts a Device DAX and gets a pmem2.Source on it; the source,
// its descriptor and the mount are gone when the test ends.
func Example() {
	t := &exampleT{} // in a test: its *testing.T
	defer t.done()

	f := emutest.Start(t, &emulate.Spec{DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Size: 1 << 30}}})
	src := f.Source("dev/dax0.0", unix.O_PATH)
	size, _ := src.Size()
	align, _ := src.Alignment()
	fmt.Println(src.Type(), size, align)
	// Output: devdax 1073741824 2097152
}

// A test breaks the file pmem2 reads for the size, the nd_dax's: like
// libndctl, pmem2 reads it with strtoull and no format check, so junk is a
// size of 0. The fixture counts the reads that reached the file.
func Example_brokenSize() {
	t := &exampleT{}
	defer t.done()

	f := emutest.Start(t, &emulate.Spec{DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Size: 1 << 30}}})
	dax, _ := f.DAX("dax0.0")
	f.WriteFile(dax.SizeFile, []byte("one gigabyte\n"))

	size, err := f.Source("dev/dax0.0", unix.O_PATH).Size()
	fmt.Println(size, err)
	fmt.Println(f.Calls(dax.SizeFile, fusefs.OpRead), "read of the nd_dax size of", f.DevNum("dax0.0"))
	// Output:
	// 0 <nil>
	// 1 read of the nd_dax size of 252:0
}

// An alignment that is not a power of two is an error; the path the error
// names leads back to the fixture's call counters.
func Example_brokenAlignment() {
	t := &exampleT{}
	defer t.done()

	f := emutest.Start(t, &emulate.Spec{DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Size: 1 << 30}}})
	dax, _ := f.DAX("dax0.0")
	f.WriteFile(dax.AlignFile, []byte("12345\n"))

	_, err := f.Source("dev/dax0.0", unix.O_PATH).Alignment()
	var perr *pmem2.Error
	errors.As(err, &perr)
	fmt.Println(perr.Code.Name())
	fmt.Println(f.Calls(perr.Path, fusefs.OpRead), "read of", f.DevNum("dax0.0"), "nd_dax align")
	// Output:
	// PMEM2_E_INVALID_ALIGNMENT_VALUE
	// 1 read of 252:0 nd_dax align
}
