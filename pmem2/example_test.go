package pmem2_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pmem2emu/pmem2emu/pmem2"
)

func ExampleSourceFromFD() {
	f, err := os.CreateTemp("", "pmem2-example")
	if err != nil {
		panic(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	f.WriteString("hello, pmem")

	src, err := pmem2.SourceFromFD(int(f.Fd()))
	if err != nil {
		panic(err)
	}
	defer src.Delete() // never closes f
	size, _ := src.Size()
	align, _ := src.Alignment()
	fmt.Println(src.Type(), size, align == uint64(os.Getpagesize()))
	// Output: regular 11 true
}

func ExampleCodeOf() {
	_, err := pmem2.SourceFromFD(-1)
	fmt.Println(pmem2.CodeOf(err), pmem2.Code(pmem2.CodeOf(err)).Name())
	fmt.Println(errors.Is(err, pmem2.ErrInvalidFileHandle))
	fmt.Println(pmem2.CodeOf(nil))
	// Output:
	// -100004 PMEM2_E_INVALID_FILE_HANDLE
	// true
	// 0
}

// A Device DAX is a character device whose sysfs subsystem is "dax"; its
// size and alignment are those of the nd_dax above it, and libdaxctl knows
// it by its node in /dev. Here /dev/zero plays dax0.0, in the files of a
// sysfs the port reads (a real one has many more).
func ExampleWithSysfsRoot() {
	region := "sys/devices/platform/e820_pmem/ndbus0/region0"
	root, zero := zeroDevDAX(map[string]string{
		"sys/dev/char/1:5":                  "-> ../../devices/platform/e820_pmem/ndbus0/region0/dax0.1/dax0.0",
		region + "/dax0.1/dax0.0/subsystem": "-> ../../../../../../../bus/dax",
		"sys/bus/dax/uevent":                "",
		region + "/dax0.1/dax0.0/size":      "8388608\n", // libdaxctl reads it to list the device
		region + "/dax0.1/size":             "8388608\n",
		region + "/dax0.1/align":            "2097152\n",
		"dev/dax0.0":                        "-> /dev/zero",
	})
	defer os.RemoveAll(root)
	defer zero.Close()
	src, err := pmem2.SourceFromFD(int(zero.Fd()), pmem2.WithSysfsRoot(filepath.Join(root, "sys")))
	if err != nil {
		panic(err)
	}
	size, err := src.Size()
	fmt.Println(src.Type(), size, err)
	align, err := src.Alignment()
	fmt.Println(align, err)
	// Output:
	// devdax 8388608 <nil>
	// 2097152 <nil>
}

func ExampleSourceFromAnon() {
	src, _ := pmem2.SourceFromAnon(1 << 20)
	size, _ := src.Size()
	_, err := src.FD()
	fmt.Println(src.Type(), size)
	fmt.Println(err)
	// Output:
	// anon 1048576
	// pmem2_source_get_fd: get fd: PMEM2_E_FILE_DESCRIPTOR_NOT_SET: an anonymous source has no file descriptor
}

func ExampleSource_Delete() {
	src, _ := pmem2.SourceFromAnon(4096)
	src.Delete()
	src.Delete() // idempotent
	_, err := src.Size()
	fmt.Println(src.Type(), errors.Is(err, pmem2.ErrDeleted), pmem2.CodeOf(err))
	// Output: unknown true -100004
}

// A Device DAX on one NFIT DIMM, with two bad blocks in its region: the
// files libndctl reads to find the device's region, namespace and DIMMs
// (a real sysfs has many more). A program checks the unsafe shutdown
// count against the one it saved, and the bad blocks before it reads.
func ExampleSource_DeviceUSC() {
	bus := "sys/devices/platform/ACPI0012:00/ndbus0"
	region := bus + "/region0"
	root, zero := zeroDevDAX(map[string]string{
		// The Device DAX dax0.0 (1:5, played by /dev/zero) of the nd_dax
		// dax0.1, which claims namespace0.0.
		"sys/dev/char/1:5":                  "-> ../../devices/platform/ACPI0012:00/ndbus0/region0/dax0.1/dax0.0",
		region + "/dax0.1/dax0.0/subsystem": "-> ../../../../../../../bus/dax",
		"sys/bus/dax/uevent":                "",
		region + "/dax0.1/dax0.0/size":      "8388608\n",
		"dev/dax0.0":                        "-> /dev/zero",
		region + "/dax0.1/namespace":        "namespace0.0\n",
		region + "/dax0.1/modalias":         "nd:t7\n",
		region + "/dax0.1/uuid":             "\n",
		region + "/dax0.1/mode":             "pmem\n",
		region + "/dax0.1/size":             "8388608\n",
		region + "/dax0.1/resource":         "0x240000000\n",
		region + "/namespace0.0/holder":     "dax0.1\n",
		region + "/namespace0.0/nstype":     "4\n",
		region + "/namespace0.0/size":       "8388608\n",
		region + "/namespace0.0/force_raw":  "0\n",
		region + "/namespace0.0/modalias":   "nd:t4\n",
		region + "/namespace0.0/mode":       "dax\n",
		// The bus, found through its control device ndctl0, on ACPI NFIT.
		"sys/class/nd/ndctl0":  "-> ../../devices/platform/ACPI0012:00/ndbus0/ndctl0",
		"sys/dev/char/250:0":   "-> ../../devices/platform/ACPI0012:00/ndbus0/ndctl0",
		bus + "/ndctl0/dev":    "250:0\n",
		bus + "/ndctl0/device": "-> ..",
		bus + "/commands":      "ars_cap ars_start ars_status clear_error\n",
		bus + "/provider":      "ACPI.NFIT\n",
		bus + "/nfit/revision": "1\n",
		// The region: NUMA node 1, an interleave set of the DIMM nmem0,
		// two bad blocks (in 512-byte sectors from its start).
		region + "/size":      "8388608\n",
		region + "/read_only": "0\n",
		region + "/modalias":  "nd:t2\n",
		region + "/nstype":    "4\n",
		region + "/numa_node": "1\n",
		region + "/resource":  "0x240000000\n",
		region + "/mappings":  "1\n",
		region + "/mapping0":  "nmem0,0,8388608,0\n",
		region + "/badblocks": "8 8\n1024 1\n",
		// The DIMM.
		bus + "/nmem0/dev":                 "251:0\n",
		bus + "/nmem0/commands":            "smart get_size\n",
		bus + "/nmem0/modalias":            "nd:t1\n",
		bus + "/nmem0/nfit/handle":         "0x1\n",
		bus + "/nmem0/nfit/phys_id":        "0x10\n",
		bus + "/nmem0/nfit/id":             "8089-a2-1837-00000abc\n",
		bus + "/nmem0/nfit/dirty_shutdown": "7\n",
	})
	defer os.RemoveAll(root)
	defer zero.Close()
	src, err := pmem2.SourceFromFD(int(zero.Fd()), pmem2.WithSysfsRoot(filepath.Join(root, "sys")))
	if err != nil {
		panic(err)
	}
	node, err := src.NumaNode()
	fmt.Println("NUMA node", node, err)
	id, err := src.DeviceID()
	fmt.Println("device", id, err)
	usc, err := src.DeviceUSC()
	fmt.Println("unsafe shutdowns", usc, err)
	bbs, err := src.BadBlocks()
	fmt.Println("bad blocks", bbs, err)

	anon, _ := pmem2.SourceFromAnon(4096)
	_, err = anon.DeviceUSC()
	fmt.Println(pmem2.Code(pmem2.CodeOf(err)).Name())
	// Output:
	// NUMA node 1 <nil>
	// device 8089-a2-1837-00000abc <nil>
	// unsafe shutdowns 7 <nil>
	// bad blocks [4096+4096 524288+512] <nil>
	// PMEM2_E_NOSUPP
}

// zeroDevDAX writes files (see putFile) below a new temporary root and
// opens /dev/zero, which plays the Device DAX they describe.
func zeroDevDAX(files map[string]string) (root string, zero *os.File) {
	root, err := os.MkdirTemp("", "pmem")
	if err != nil {
		panic(err)
	}
	for path, content := range files {
		putFile(root, path, content)
	}
	if zero, err = os.Open("/dev/zero"); err != nil {
		panic(err)
	}
	return root, zero
}

// putFile writes content at path below root, mode 0444, or, for "-> target",
// a symbolic link to target.
func putFile(root, path, content string) {
	path = filepath.Join(root, path)
	os.MkdirAll(filepath.Dir(path), 0o755)
	if target, ok := strings.CutPrefix(content, "-> "); ok {
		os.Symlink(target, path)
		return
	}
	os.WriteFile(path, []byte(content), 0o444)
}
