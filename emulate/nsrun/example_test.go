package nsrun_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/pmem2emu/pmem2emu/emulate/nsrun"
)

// A program that hard-codes /sys and /dev reads a fake sysfs attribute and
// a file put into /dev.
func ExampleCommand() {
	root, err := os.MkdirTemp("", "nsrun-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(root)
	os.MkdirAll(filepath.Join(root, "sys/class/demo/demo0"), 0o755)
	os.WriteFile(filepath.Join(root, "sys/class/demo/demo0/size"), []byte("4096\n"), 0o644)
	os.MkdirAll(filepath.Join(root, "dev"), 0o755)
	os.WriteFile(filepath.Join(root, "dev/demo0"), []byte("device data\n"), 0o644)

	cmd, err := nsrun.Command(nsrun.Config{Sys: root + "/sys", Dev: root + "/dev"},
		"sh", "-c", "cat /sys/class/demo/demo0/size /dev/demo0; ls /dev | grep demo")
	if err != nil {
		fmt.Println(err) // e.g. no user namespaces for non-root
		return
	}
	out, err := cmd.Output()
	if err != nil {
		fmt.Println(err)
	}
	fmt.Print(string(out))
	// Output:
	// 4096
	// device data
	// demo0
}

// Supported says whether, and why not, this process can run commands in
// their own namespaces.
func ExampleSupported() {
	if err := nsrun.Supported(); err != nil {
		fmt.Println(err) // says what failed and what to do
		return
	}
	fmt.Println("namespaces available")
	// Output: namespaces available
}
