package emulate_test

import (
	"encoding/json"
	"fmt"
	"log"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// Outside a test (in tests, emutest.Start does this and closes in
// Cleanup): mount a one-device fixture, open its node, hand pmem2 the fake
// sysfs.
func Example() {
	dir, _ := os.MkdirTemp("", "pmem2emu-example")
	defer os.RemoveAll(dir)

	f, err := emulate.Mount(dir, &emulate.Spec{DAXDevices: []emulate.DAXDevice{
		{Name: "dax0.0", Size: 1 << 30, Align: 2 << 20},
	}})
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()

	fd, _ := unix.Open(f.Path("dev/dax0.0"), unix.O_PATH|unix.O_CLOEXEC, 0)
	defer unix.Close(fd)
	src, _ := pmem2.SourceFromFD(fd, f.PmemOptions()...)
	size, _ := src.Size()
	align, _ := src.Alignment()
	fmt.Println(src.Type(), size, align)
	// Output: devdax 1073741824 2097152
}

// A spec in Go uses Go types where its JSON uses names: fusefs node types
// and ops, syscall errnos, fs.FileMode modes, time.Duration delays.
func ExampleSpec_MarshalJSON() {
	s := &emulate.Spec{
		Nodes:  []emulate.Node{{Path: "data/f", Type: fusefs.TypeFile, Mode: 0o600, Content: "x"}},
		Faults: []emulate.Fault{{Path: "data/f", Op: fusefs.OpRead, Errno: syscall.EIO, Delay: 10 * time.Millisecond}},
	}
	text, _ := json.Marshal(s)
	fmt.Println(string(text))
	// Output: {"nodes":[{"path":"data/f","type":"file","mode":"0600","content":"x"}],"faults":[{"path":"data/f","op":"read","errno":"EIO","delay":"10ms"}]}
}

// The built-in fixture as JSON: the starting point of one's own spec.
func ExampleDefault() {
	s := emulate.Default()
	fmt.Println(len(s.DAXDevices), "Device DAX,", len(s.Checks()), "checks")
	text, _ := s.Indent()
	back, err := emulate.Parse(text)
	fmt.Println(err == nil && len(back.Nodes) == len(s.Nodes))
	// Output:
	// 29 Device DAX, 172 checks
	// true
}

// A spec that breaks rules is rejected as a whole, each problem named.
func ExampleParse() {
	_, err := emulate.Parse([]byte(`{"dax_devices": [{"name": "dax0", "size": "1G"}]}`))
	fmt.Println(err)
	// Output:
	// emulate: invalid fixture spec: 2 errors:
	// 	dax_devices[0].size: want a non-negative integer, got a string (rule wrong-type)
	// 	dax_devices[0].name: "dax0": want daxR.N (region R, instance N, decimal without leading zeros) (rule bad-dax-name)
}
