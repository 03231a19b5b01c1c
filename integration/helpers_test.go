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
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30
)

var page = uint64(os.Getpagesize())

// devSize is the size of deviceSpec's Device DAX.
const devSize = 16 * mib

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
			{Path: "data/empty", Type: fusefs.TypeFile},
			{Path: "data/small", Type: fusefs.TypeFile, Content: "hello, pmem\n"},
			{Path: "data/sparse", Type: fusefs.TypeFile, Size: 1 << 40},
			{Path: "data/link", Type: fusefs.TypeSymlink, Target: "small"},
			{Path: "data/dir", Type: fusefs.TypeDir},
			{Path: "data/fifo", Type: fusefs.TypeFIFO},
			{Path: "data/socket", Type: fusefs.TypeSocket},
			{Path: "dev/sda", Type: fusefs.TypeBlockDev, Major: 8, Minor: 0},
			{Path: "dev/mem5", Type: fusefs.TypeCharDev, Major: 1, Minor: 5, Subsystem: "mem"},
			{Path: "dev/experimental", Type: fusefs.TypeCharDev, Major: 60, Minor: 0},
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
// device node, a Device DAX of devSize aligned to 2 MiB, is char 1:5, so
// opening it opens /dev/zero and mapping it maps zeros.
func deviceSpec() *emulate.Spec {
	return &emulate.Spec{
		DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Major: 1, Minor: 5, Size: devSize, Align: 2 * mib}},
		Nodes:      []emulate.Node{{Path: "data/small", Type: fusefs.TypeFile, Content: "hello, pmem\n"}},
	}
}

// start mounts spec (the small fixture when nil) for this test alone.
func start(t *testing.T, spec *emulate.Spec, opts ...emulate.Option) *emulate.Fixture {
	t.Helper()
	if spec == nil {
		spec = fixture()
	}
	return emutest.Start(t, spec, opts...).Fixture
}

// startDevice mounts spec in device mode, where a device node opens the
// device it names; only root may mount without nodev.
func startDevice(t *testing.T, spec *emulate.Spec) *emulate.Fixture {
	t.Helper()
	testutil.RootOnly(t, "device mode mounts without nodev")
	return start(t, spec, emulate.WithDeviceMode())
}

// newSource opens rel below the fixture in the given mode and makes a
// Source of it, failing the test if either step fails.
func newSource(t *testing.T, f *emulate.Fixture, rel string, flags int) (*pmem2.Source, int) {
	t.Helper()
	fd := testutil.OpenFD(t, f.Path(rel), flags)
	src, err := pmem2.SourceFromFD(fd, pmem2.WithSysfsRoot(f.Sysfs()))
	if err != nil {
		t.Fatalf("SourceFromFD(%s): %v", rel, err)
	}
	t.Cleanup(func() { _ = src.Delete() })
	return src, fd
}

// ndDaxSource mounts the small fixture and makes a source of its dax0.0,
// opened O_PATH; file is the attribute attr ("size", "align") of the
// nd_dax above it.
func ndDaxSource(t *testing.T, attr string) (f *emulate.Fixture, src *pmem2.Source, file string) {
	t.Helper()
	f = start(t, nil)
	src, _ = newSource(t, f, "dev/dax0.0", opath)
	return f, src, ndDaxDir(t, f, dax0Char) + "/" + attr
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

// valueCase is one Size or Alignment call and what C returns for it.
type valueCase struct {
	name  string
	want  pmem2.Code
	value uint64 // when want is 0
	msg   []string
}

// A valueCall is Size or Alignment.
type valueCall struct {
	name string
	fn   func(*pmem2.Source) (uint64, error)
}

var (
	sizeCall      = valueCall{"Size", (*pmem2.Source).Size}
	alignmentCall = valueCall{"Alignment", (*pmem2.Source).Alignment}
)

// check runs the call on src, which must not block, and checks what it
// returns against c.
func (vc valueCall) check(t *testing.T, f *emulate.Fixture, src *pmem2.Source, c valueCase) {
	t.Helper()
	var got uint64
	var err error
	testutil.Within(t, 10*time.Second, vc.name, func() { got, err = vc.fn(src) })
	vc.checkResult(t, f, got, err, c)
}

// checkResult checks what one call of vc returned against c.
func (vc valueCall) checkResult(t *testing.T, f *emulate.Fixture, got uint64, err error, c valueCase) {
	t.Helper()
	wantErr(t, f, err, c.want, c.msg...)
	if c.want == 0 && got != c.value {
		t.Errorf("%s() = %d, want %d", vc.name, got, c.value)
	}
	if c.want != 0 && got != 0 {
		t.Errorf("a failing %s() returned %d, want 0", vc.name, got)
	}
}

// checkDevZeroIn checks the call on deviceSpec's Device DAX, mounted in
// device mode, whose nd_dax attribute attr ("size", "align") is replaced by
// a node of /dev/zero: a read of it fills libndctl's buffer with NUL bytes.
func (vc valueCall) checkDevZeroIn(t *testing.T, attr string, c valueCase) {
	t.Helper()
	f := startDevice(t, deviceSpec())
	file := ndDaxDir(t, f, "sys/dev/char/1:5") + "/" + attr
	src, _ := newSource(t, f, "dev/dax0.0", rdonly)
	if err := f.SetNode(emulate.Node{Path: file, Type: fusefs.TypeCharDev, Major: 1, Minor: 5}); err != nil {
		t.Fatal(err)
	}
	vc.check(t, f, src, c)
}

// sourceCase is a source opened on rel with flags, and what the call
// returns for it.
type sourceCase struct {
	rel   string
	flags int
	valueCase
}

// checkEach checks the call on the source of each case, opened on f, in a
// subtest named by the case.
func (vc valueCall) checkEach(t *testing.T, f *emulate.Fixture, cases []sourceCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, _ := newSource(t, f, c.rel, c.flags)
			vc.check(t, f, src, c.valueCase)
		})
	}
}

// wantErr checks err against the code C would return and the parts its
// message must name (see wantCode and wantMsg), logging it for the reader.
func wantErr(t *testing.T, f *emulate.Fixture, err error, want pmem2.Code, msg ...string) {
	t.Helper()
	if err != nil {
		t.Log(err)
	}
	wantCode(t, err, want)
	wantMsg(t, f, err, msg...)
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

// callsDuring is how many calls of op on path reached f's server while fn
// ran: 0 means a fault on them cannot have fired, or a cached value was
// used.
func callsDuring(f *emulate.Fixture, path string, op fusefs.Op, fn func()) uint64 {
	before := f.Server().Calls(path, op)
	fn()
	return f.Server().Calls(path, op) - before
}

// addFault installs a fault rule, failing the test if it is refused.
func addFault(t *testing.T, f *emulate.Fixture, path, op, errno string) {
	t.Helper()
	o, _ := fusefs.ParseOp(op)
	e, _ := fusefs.ParseErrno(errno)
	if err := f.AddFault(emulate.Fault{Path: path, Op: o, Errno: e}); err != nil {
		t.Fatalf("AddFault(%s %s %s): %v", path, op, errno, err)
	}
}
