package conformance

import (
	"errors"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/cref"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// call is the outcome of one library call on either side.
type call struct {
	ran   bool
	rc    pmem2.Code
	value uint64
	crash syscall.Signal // C only: the probe died in this call
}

func (c call) String() string {
	switch {
	case c.crash != 0:
		return signalName(c.crash)
	case !c.ran:
		return "-"
	case c.rc != 0:
		return c.rc.Name()
	}
	return strconv.FormatUint(c.value, 10)
}

func signalName(s syscall.Signal) string {
	if s == syscall.SIGSEGV {
		return "SIGSEGV"
	}
	return "signal " + strconv.Itoa(int(s))
}

// observed is what one side returned for a path opened in a mode. It
// prints in one form for both sides, so a table row and a known difference
// are plain strings:
//
//	open EACCES
//	from_fd PMEM2_E_INVALID_FILE_TYPE
//	from_fd 0, size 1073741824, alignment 2097152
//	from_fd 0, size 1073741824, alignment SIGSEGV
//	from_fd 0                       (size and alignment not compared)
type observed struct {
	open   syscall.Errno
	fromFD call
	size   call
	align  call
}

func (o observed) String() string {
	if o.open != 0 {
		return "open " + fusefs.ErrnoName(o.open)
	}
	if o.fromFD.crash != 0 {
		return "from_fd " + o.fromFD.String()
	}
	s := "from_fd " + o.fromFD.rc.Name()
	if o.size.ran || o.size.crash != 0 {
		s += ", size " + o.size.String()
	}
	if o.align.ran || o.align.crash != 0 {
		s += ", alignment " + o.align.String()
	}
	return s
}

// classification is the part of String about the open and
// pmem2_source_from_fd alone.
func (o observed) classification() string {
	return observed{open: o.open, fromFD: o.fromFD}.String()
}

// crashed reports whether the C probe died in any call.
func (o observed) crashed() bool {
	return o.fromFD.crash != 0 || o.size.crash != 0 || o.align.crash != 0
}

// goSide opens path in mode and runs the port with the fixture's sysfs
// root. With steps it also asks Size and Alignment when a source was made.
func goSide(path string, mode emulate.OpenMode, sysfs string, steps bool) observed {
	flags, err := mode.Flags()
	if err != nil {
		panic(err)
	}
	fd, err := unix.Open(path, flags, 0)
	if err != nil {
		var errno syscall.Errno
		if !errors.As(err, &errno) {
			panic(err)
		}
		return observed{open: errno}
	}
	defer unix.Close(fd)
	var o observed
	src, err := pmem2.SourceFromFD(fd, pmem2.WithSysfsRoot(sysfs))
	o.fromFD = call{ran: true, rc: pmem2.Code(pmem2.CodeOf(err))}
	if err != nil || !steps {
		return o
	}
	defer src.Delete()
	o.size = goCall(src.Size())
	o.align = goCall(src.Alignment())
	return o
}

// cSide runs the C probe on the same path and mode under the fixture's
// namespace runner. With steps, pmem2_source_size and
// pmem2_source_alignment run in two separate probe processes, so a crash
// in one does not hide the other.
func cSide(t *testing.T, f *emulate.Fixture, probe, path string, mode emulate.OpenMode, steps bool) observed {
	t.Helper()
	var o observed
	first := []cref.Step(nil)
	if steps {
		first = []cref.Step{cref.StepSize}
	}
	r := cref.MustRun(t, f, probe, path, mode, first...)
	if r.OpenErrno != 0 {
		o.open = r.OpenErrno
		return o
	}
	o.fromFD = fromCref(r, cref.StepFromFD)
	if !steps || o.fromFD.crash != 0 || o.fromFD.rc != 0 {
		return o
	}
	o.size = fromCref(r, cref.StepSize)
	r2 := cref.MustRun(t, f, probe, path, mode, cref.StepAlignment)
	if r2.OpenErrno != 0 || !r2.FromFD.Ran || r2.FromFD.RC != o.fromFD.rc {
		t.Fatalf("C probe on %s (%s): from_fd %s in the size run, %s in the alignment run", path, mode, r, r2)
	}
	o.align = fromCref(r2, cref.StepAlignment)
	return o
}

func goCall(v uint64, err error) call {
	if err != nil {
		return call{ran: true, rc: pmem2.Code(pmem2.CodeOf(err))}
	}
	return call{ran: true, value: v}
}

func fromCref(r cref.Result, s cref.Step) call {
	if r.Crashed == s {
		return call{crash: r.Signal}
	}
	c := r.Call(s)
	v := c.Value
	if c.RC != 0 {
		v = 0 // meaningless beside a failing code
	}
	return call{ran: c.Ran, rc: c.RC, value: v}
}

// same reports whether two observations agree: the open errno, every code,
// and every value whose code is 0.
func same(a, b observed) bool {
	eq := func(x, y call) bool {
		return x.ran == y.ran && x.rc == y.rc && x.crash == y.crash && (x.rc != 0 || x.value == y.value)
	}
	return a.open == b.open && eq(a.fromFD, b.fromFD) && eq(a.size, b.size) && eq(a.align, b.align)
}
