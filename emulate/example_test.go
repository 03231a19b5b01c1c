package emulate_test

import (
	"fmt"
	"log"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// Test code against an emulated Device DAX: mount a one-device fixture,
// open its node, hand pmem2 the fake sysfs.
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
	src, _ := pmem2.SourceFromFD(fd, pmem2.WithSysfsRoot(f.Sysfs()))
	size, _ := src.Size()
	align, _ := src.Alignment()
	fmt.Println(src.Type(), size, align)
	// Output: devdax 1073741824 2097152
}

// In a test, Start mounts under t.TempDir() and unmounts in t.Cleanup.
func ExampleStart() {
	testMyCode := func(t *testing.T) {
		f := emulate.Start(t, &emulate.Spec{DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Size: 1 << 30}}})
		fd, err := unix.Open(f.Path("dev/dax0.0"), unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		src, err := pmem2.SourceFromFD(fd, pmem2.WithSysfsRoot(f.Sysfs()))
		if err != nil {
			t.Fatal(err)
		}
		defer src.Delete()
		// … the code under test uses src …
	}
	_ = testMyCode
}

// The built-in fixture as JSON: the starting point of one's own spec.
func ExampleDefault() {
	s := emulate.Default()
	fmt.Println(len(s.DAXDevices), "Device DAX,", len(s.Checks()), "checks")
	text, _ := s.Indent()
	back, err := emulate.Parse(text)
	fmt.Println(err == nil && len(back.Nodes) == len(s.Nodes))
	// Output:
	// 16 Device DAX, 112 checks
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
