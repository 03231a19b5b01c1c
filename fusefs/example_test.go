package fusefs_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"syscall"

	"github.com/pmem2emu/pmem2emu/fusefs"
)

// A tree is a literal, like testing/fstest.MapFS; parents are implied.
func Example_tree() {
	dir, err := os.MkdirTemp("", "fusefs-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	srv, err := fusefs.Mount(dir, fusefs.Tree{
		"devices/widget0/size":       fusefs.File("4096\n"),
		"devices/widget0/data":       fusefs.ZeroFile(1 << 40),
		"bus/widget/devices/widget0": fusefs.Symlink("../../../devices/widget0"),
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	b, err := os.ReadFile(filepath.Join(dir, "bus/widget/devices/widget0/size"))
	fmt.Printf("%q %v\n", b, err)
	// Output: "4096\n" <nil>
}

// Rules make calls fail; the kernel's caches never hide a watched node.
func ExampleServer_AddFault() {
	dir, _ := os.MkdirTemp("", "fusefs-example-")
	defer os.RemoveAll(dir)
	srv, err := fusefs.Mount(dir, fusefs.Tree{"size": fusefs.File("4096\n")}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	p := filepath.Join(dir, "size")
	os.ReadFile(p) // warm the caches
	srv.AddFault(fusefs.Fault{Path: "size", Op: fusefs.OpRead, Errno: syscall.EIO, Times: 1})
	_, err = os.ReadFile(p)
	fmt.Println(errors.Is(err, syscall.EIO))
	b, err := os.ReadFile(p)
	fmt.Printf("%q %v\n", b, err)
	// Each ReadFile is two reads (the data, then EOF); the faulted one,
	// one.
	fmt.Println(srv.Calls("size", fusefs.OpRead), "reads")
	// Output:
	// true
	// "4096\n" <nil>
	// 5 reads
}
