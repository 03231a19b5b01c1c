package cref

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
)

//go:embed csrc/probe.c
var probeSource []byte

// Hints name the Debian packages that provide what the probe needs.
const (
	gccHint     = "apt-get install -y gcc"
	libpmemHint = "apt-get install -y libpmem2-dev (the C reference library, PMDK 1.12.1)"
)

var built struct {
	once sync.Once
	path string
	err  error
}

// Build compiles the probe against the installed libpmem2 and returns the
// path of the executable. The first call of a test binary compiles; later
// calls return the same program. A missing gcc or libpmem2-dev fails t
// with the apt-get command that installs it: the comparison with C never
// silently skips.
//
// The program lives in a directory named after this process under
// $TMPDIR/pmem2emu-cref-<uid>; directories of processes that no longer
// run are removed on the way, so runs do not pile up.
func Build(t testing.TB) string {
	t.Helper()
	built.once.Do(func() { built.path, built.err = build() })
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

func build() (string, error) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return "", fmt.Errorf("cref: gcc is needed to build the C reference probe: %v\n\t%s", err, gccHint)
	}
	parent := filepath.Join(os.TempDir(), fmt.Sprintf("pmem2emu-cref-%d", os.Geteuid()))
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", fmt.Errorf("cref: %w", err)
	}
	removeDead(parent)
	dir := filepath.Join(parent, strconv.Itoa(os.Getpid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("cref: %w", err)
	}
	src := filepath.Join(dir, "probe.c")
	if err := os.WriteFile(src, probeSource, 0o600); err != nil {
		return "", fmt.Errorf("cref: %w", err)
	}
	exe := filepath.Join(dir, "probe")
	out, err := exec.Command(gcc, "-O2", "-Wall", "-Werror", "-o", exe, src, "-lpmem2").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("cref: gcc %s -lpmem2: %v\n%s\n\tthe probe needs libpmem2.h and libpmem2.so: %s", src, err, out, libpmemHint)
	}
	return exe, nil
}

// removeDead removes the probe directories of processes that have ended.
func removeDead(parent string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(filepath.Join(parent, e.Name()))
		}
	}
}
