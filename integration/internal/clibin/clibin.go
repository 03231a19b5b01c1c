// Package clibin builds the pmem2emu command for test packages that run it
// as a separate process (crash, security), so they test the binary a user
// runs rather than an in-process call.
package clibin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// Build compiles cmd/pmem2emu into a new temporary directory and returns
// the binary's path and a function that removes the directory.
func Build() (bin string, remove func(), err error) {
	dir, err := os.MkdirTemp("", "pmem2emu-bin-")
	if err != nil {
		return "", nil, err
	}
	remove = func() { os.RemoveAll(dir) }
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin = filepath.Join(dir, "pmem2emu")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/pmem2emu/pmem2emu/cmd/pmem2emu")
	if out, err := cmd.CombinedOutput(); err != nil {
		remove()
		return "", nil, fmt.Errorf("go build cmd/pmem2emu: %v\n%s", err, out)
	}
	return bin, remove, nil
}
