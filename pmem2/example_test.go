package pmem2_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

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

// A Device DAX is a character device whose sysfs subsystem is "dax". Here
// /dev/zero plays one, in a sysfs of three symlinks and two files.
func ExampleWithSysfsRoot() {
	sys, err := os.MkdirTemp("", "sysfs")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(sys)
	dev := filepath.Join(sys, "devices/region0/dax0.1/dax0.0")
	os.MkdirAll(dev, 0o755)
	os.MkdirAll(filepath.Join(sys, "devices/region0/dax0.1/dax_region"), 0o755)
	os.MkdirAll(filepath.Join(sys, "bus/dax"), 0o755)
	os.MkdirAll(filepath.Join(sys, "dev/char"), 0o755)
	os.Symlink("../../devices/region0/dax0.1/dax0.0", filepath.Join(sys, "dev/char/1:5"))
	os.Symlink("../../../../bus/dax", filepath.Join(dev, "subsystem"))
	os.WriteFile(filepath.Join(dev, "size"), []byte("8388608\n"), 0o444)
	os.WriteFile(filepath.Join(sys, "devices/region0/dax0.1/dax_region/align"), []byte("2097152\n"), 0o444)

	zero, err := os.Open("/dev/zero")
	if err != nil {
		panic(err)
	}
	defer zero.Close()
	src, err := pmem2.SourceFromFD(int(zero.Fd()), pmem2.WithSysfsRoot(sys))
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
