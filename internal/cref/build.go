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

//go:embed csrc/mapdax.c
var mapDAXSource []byte

// Hints name the Debian packages that provide what the probe needs.
const (
	gccHint     = "apt-get install -y gcc"
	libpmemHint = "apt-get install -y libpmem2-dev (the C reference library, PMDK 1.12.1)"
)

// program is one C program of csrc, built at most once per test binary.
type program struct {
	once sync.Once
	path string
	err  error
}

var probe, mapDAX program

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
	return probe.build(t, "probe", probeSource)
}

// BuildMapDAX compiles csrc/mapdax.c, a C program that maps a Device DAX
// with pmem2_map_new and stores through the mapping (its comment says
// what it prints), as Build compiles the probe.
func BuildMapDAX(t testing.TB) string {
	t.Helper()
	return mapDAX.build(t, "mapdax", mapDAXSource)
}

func (p *program) build(t testing.TB, name string, src []byte) string {
	t.Helper()
	p.once.Do(func() { p.path, p.err = compile(name, src) })
	if p.err != nil {
		t.Fatal(p.err)
	}
	return p.path
}

func compile(name string, source []byte) (string, error) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return "", fmt.Errorf("cref: gcc is needed to build the C program %s: %v\n\t%s", name, err, gccHint)
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
	src := filepath.Join(dir, name+".c")
	if err := os.WriteFile(src, source, 0o600); err != nil {
		return "", fmt.Errorf("cref: %w", err)
	}
	exe := filepath.Join(dir, name)
	out, err := exec.Command(gcc, "-O2", "-Wall", "-Werror", "-o", exe, src, "-lpmem2").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("cref: gcc %s -lpmem2: %v\n%s\n\tthe program needs libpmem2.h and libpmem2.so: %s", src, err, out, libpmemHint)
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
