package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// The one way tests get the pmem2emu command: built from this module's
// source with `go build`, once per test binary, so that they run the
// binary a user runs (its main, its signal handling, its init hooks) and
// not an in-process call or a stand-in.
var cli struct {
	sync.Mutex
	dir, bin string
	err      error
}

// CLI returns the path of the pmem2emu command built from source, building
// it on the first call; Run (and so Main) removes it when the tests end.
// A build failure fails every test that asks.
func CLI(t testing.TB) string {
	t.Helper()
	cli.Lock()
	defer cli.Unlock()
	if cli.bin == "" && cli.err == nil {
		cli.bin, cli.err = buildCLI()
	}
	if cli.err != nil {
		t.Fatal(cli.err)
	}
	return cli.bin
}

func buildCLI() (string, error) {
	dir, err := os.MkdirTemp("", "pmem2emu-cli-")
	if err != nil {
		return "", err
	}
	cli.dir = dir
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(dir, "pmem2emu")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/pmem2emu/pmem2emu/cmd/pmem2emu")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/pmem2emu: %v\n%s", err, out)
	}
	return bin, nil
}

func removeCLI() {
	cli.Lock()
	defer cli.Unlock()
	if cli.dir != "" {
		os.RemoveAll(cli.dir)
	}
}
