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
	root, err := os.MkdirTemp("", "pmem")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(root)
	put := func(path, content string) { // a file, or a symbolic link to "-> target"
		path = filepath.Join(root, path)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if target, ok := strings.CutPrefix(content, "-> "); ok {
			os.Symlink(target, path)
			return
		}
		os.WriteFile(path, []byte(content), 0o444)
	}
	region := "sys/devices/platform/e820_pmem/ndbus0/region0"
	put("sys/dev/char/1:5", "-> ../../devices/platform/e820_pmem/ndbus0/region0/dax0.1/dax0.0")
	put(region+"/dax0.1/dax0.0/subsystem", "-> ../../../../../../../bus/dax")
	put("sys/bus/dax/uevent", "")
	put(region+"/dax0.1/dax0.0/size", "8388608\n") // libdaxctl reads it to list the device
	put(region+"/dax0.1/size", "8388608\n")
	put(region+"/dax0.1/align", "2097152\n")
	put("dev/dax0.0", "-> /dev/zero")

	zero, err := os.Open("/dev/zero")
	if err != nil {
		panic(err)
	}
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
