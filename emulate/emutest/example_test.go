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

// A test breaks the file pmem2 reads for the size and checks the error;
// the path the error names leads back to the fixture's call counters.
func Example_brokenSize() {
	t := &exampleT{}
	defer t.done()

	f := emutest.Start(t, &emulate.Spec{DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Size: 1 << 30}}})
	dax, _ := f.DAX("dax0.0")
	f.WriteFile(dax.SizeFile, []byte("one gigabyte\n"))

	_, err := f.Source("dev/dax0.0", unix.O_PATH).Size()
	var perr *pmem2.Error
	errors.As(err, &perr)
	fmt.Println(perr.Code.Name())
	fmt.Println(f.Calls(perr.Path, fusefs.OpRead), "read of", f.DevNum("dax0.0"), "size")
	// Output:
	// PMEM2_E_INVALID_SIZE_FORMAT
	// 1 read of 252:0 size
}
