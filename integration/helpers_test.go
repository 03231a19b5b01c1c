package integration_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30
)

var page = uint64(os.Getpagesize())

// Open modes, as the tables spell them.
const (
	rdonly = unix.O_RDONLY
	wronly = unix.O_WRONLY
	rdwr   = unix.O_RDWR
	opath  = unix.O_PATH
)

// fixture is the spec most tests start from: one Device DAX of each model
// (NVDIMM bus with the dax bus, NVDIMM bus with the old dax class, no
// NVDIMM bus at all), a char device of another subsystem, one unknown to
// sysfs, a block device, and a regular file of each kind. Small, so that
// every test can afford a mount of its own (a few milliseconds).
func fixture() *emulate.Spec {
	noBus := false
	return &emulate.Spec{
		DAXDevices: []emulate.DAXDevice{
			{Name: "dax0.0", Major: 252, Minor: 0, Size: gib, Align: 2 * mib},
			{Name: "dax1.0", Major: 252, Minor: 1, Size: 512 * mib, Align: 4 * kib, Subsystem: "class"},
			{Name: "dax2.0", Major: 252, Minor: 2, Size: gib, Align: 2 * mib, NDBus: &noBus},
		},
		Nodes: []emulate.Node{
			{Path: "data/empty", Type: "file"},
			{Path: "data/small", Type: "file", Content: "hello, pmem\n"},
			{Path: "data/sparse", Type: "file", Size: 1 << 40},
			{Path: "data/link", Type: "symlink", Target: "small"},
			{Path: "data/dir", Type: "dir"},
			{Path: "data/fifo", Type: "fifo"},
			{Path: "data/socket", Type: "socket"},
			{Path: "dev/sda", Type: "block", Major: 8, Minor: 0},
			{Path: "dev/mem5", Type: "char", Major: 1, Minor: 5, Subsystem: "mem"},
			{Path: "dev/experimental", Type: "char", Major: 60, Minor: 0},
		},
	}
}

// Names of the fixture's Device DAX in sysfs, relative to the mount root.
const (
	dax0Char = "sys/dev/char/252:0"
	dax1Char = "sys/dev/char/252:1"
	dax2Char = "sys/dev/char/252:2"
)

// deviceSpec is a fixture that may be mounted in device mode: its only
// device node, a Device DAX of 16 MiB aligned to 2 MiB, is char 1:5, so
// opening it opens /dev/zero and mapping it maps zeros.
func deviceSpec() *emulate.Spec {
	return &emulate.Spec{
		DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Major: 1, Minor: 5, Size: 16 * mib, Align: 2 * mib}},
		Nodes:      []emulate.Node{{Path: "data/small", Type: "file", Content: "hello, pmem\n"}},
	}
}

// start mounts spec (the small fixture when nil) for this test alone.
func start(t *testing.T, spec *emulate.Spec, opts ...emulate.Option) *emulate.Fixture {
	t.Helper()
	if spec == nil {
		spec = fixture()
	}
	return emulate.Start(t, spec, opts...)
}

// openFD opens path with flags|O_CLOEXEC and closes the descriptor when the
// test ends (a test that closes it itself makes that close fail harmlessly).
func openFD(t *testing.T, path string, flags int) int {
	t.Helper()
	fd, err := unix.Open(path, flags|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open %s (flags %#x): %v", path, flags, err)
	}
	t.Cleanup(func() { _ = unix.Close(fd) })
	return fd
}

// newSource opens rel below the fixture in the given mode and makes a
// Source of it, failing the test if either step fails.
func newSource(t *testing.T, f *emulate.Fixture, rel string, flags int) (*pmem2.Source, int) {
	t.Helper()
	fd := openFD(t, f.Path(rel), flags)
	src, err := pmem2.SourceFromFD(fd, pmem2.WithSysfsRoot(f.Sysfs()))
	if err != nil {
		t.Fatalf("SourceFromFD(%s): %v", rel, err)
	}
	t.Cleanup(func() { _ = src.Delete() })
	return src, fd
}

// fromFD is SourceFromFD on the fixture's sysfs.
func fromFD(f *emulate.Fixture, fd int) (*pmem2.Source, error) {
	return pmem2.SourceFromFD(fd, pmem2.WithSysfsRoot(f.Sysfs()))
}

// wantCode checks err against the code C would return: CodeOf, the
// errors.Is sentinel, and for a -errno code the syscall.Errno too. Every
// failure must be a *pmem2.Error.
func wantCode(t *testing.T, err error, want pmem2.Code) {
	t.Helper()
	if got := pmem2.CodeOf(err); got != int(want) {
		t.Fatalf("code %d (%s), want %d (%s); err = %v", got, pmem2.Code(got).Name(), int(want), want.Name(), err)
	}
	if want == 0 {
		return
	}
	var pe *pmem2.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err %T %v is not a *pmem2.Error", err, err)
	}
	if !errors.Is(err, want) {
		t.Errorf("errors.Is(err, %s) is false; err = %v", want.Name(), err)
	}
	if want < 0 && want > -4096 {
		if errno := syscall.Errno(-want); !errors.Is(err, errno) {
			t.Errorf("errors.Is(err, %s) is false; err = %v", unix.ErrnoName(errno), err)
		}
	}
}

// wantMsg checks that the error message holds each part; "{sys}" in a part
// stands for the fixture's sysfs root.
func wantMsg(t *testing.T, f *emulate.Fixture, err error, parts ...string) {
	t.Helper()
	if err == nil {
		if len(parts) > 0 {
			t.Errorf("no error, want a message with %q", parts)
		}
		return
	}
	for _, p := range parts {
		if f != nil {
			p = strings.ReplaceAll(p, "{sys}", f.Sysfs())
		}
		if !strings.Contains(err.Error(), p) {
			t.Errorf("message %q does not name %q", err.Error(), p)
		}
	}
}

// devDir is the real sysfs directory of a Device DAX, relative to the mount
// root, found the way pmem2 finds it: by resolving sys/dev/char/M:m.
func devDir(t *testing.T, f *emulate.Fixture, charLink string) string {
	t.Helper()
	real, err := filepath.EvalSymlinks(f.Path(charLink))
	if err != nil {
		t.Fatalf("resolving %s: %v", charLink, err)
	}
	rel, err := filepath.Rel(f.Root(), real)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.ToSlash(rel)
}

func pathDir(p string) string { return p[:strings.LastIndexByte(p, '/')] }

// ndDaxDir is the directory of the nd_dax above a Device DAX of the bus
// model (its parent), relative to the mount root.
func ndDaxDir(t *testing.T, f *emulate.Fixture, charLink string) string {
	t.Helper()
	return pathDir(devDir(t, f, charLink))
}

// regionAlign is the dax_region/align file pmem2's walk finds first for a
// Device DAX on the NVDIMM bus: in the parent of the device's directory.
func regionAlign(t *testing.T, f *emulate.Fixture, charLink string) string {
	t.Helper()
	return filepath.ToSlash(filepath.Join(filepath.Dir(devDir(t, f, charLink)), "dax_region/align"))
}

// unusedFD is a descriptor number that is not open in this process now.
// High numbers are used so that nothing the process opens meanwhile (the
// kernel hands out the lowest free number) takes it.
func unusedFD(t *testing.T) int {
	t.Helper()
	for fd := 900; fd < 1000; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == unix.EBADF {
			return fd
		}
	}
	t.Fatal("no unused descriptor number between 900 and 999")
	return -1
}

// highDup duplicates fd onto an unused high number, which the test may
// close and be sure no other open reuses at once.
func highDup(t *testing.T, fd int) int {
	t.Helper()
	n := unusedFD(t)
	if err := unix.Dup3(fd, n, unix.O_CLOEXEC); err != nil {
		t.Fatalf("dup3(%d, %d): %v", fd, n, err)
	}
	t.Cleanup(func() { _ = unix.Close(n) })
	return n
}

// within fails the test if fn does not return in d: the guard of every
// call that must not block (a FIFO standing in for a sysfs file).
func within(t *testing.T, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v: it blocks", what, d)
	}
}

// addFault installs a fault rule, failing the test if it is refused.
func addFault(t *testing.T, f *emulate.Fixture, path, op, errno string) {
	t.Helper()
	if err := f.AddFault(emulate.Fault{Path: path, Op: op, Errno: errno}); err != nil {
		t.Fatalf("AddFault(%s %s %s): %v", path, op, errno, err)
	}
}

// must fails the test on a fixture change that did not apply.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
