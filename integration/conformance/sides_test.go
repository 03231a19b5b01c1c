package conformance

import (
	"slices"
	"strconv"
	"syscall"
	"testing"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/cref"
	"github.com/pmem2emu/pmem2emu/internal/probe"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// call is the outcome of one library call on either side.
type call struct {
	ran   bool
	rc    pmem2.Code
	value uint64
	// text is the value of a call whose value is not a size: a NUMA
	// node, a quoted device id, a bad block list ("[4096+4096]").
	text  string
	crash syscall.Signal // C only: the probe died in this call
}

// shown is the call as a field of a line shows it: the signal the probe
// died of in it, its code when that is not 0, else its value; nil when it
// did not run.
func (c call) shown() any {
	switch {
	case c.crash != 0:
		return signalName(c.crash)
	case !c.ran:
		return nil
	case c.rc != 0:
		return c.rc
	case c.text != "":
		return c.text
	}
	return c.value
}

func signalName(s syscall.Signal) string {
	if s == syscall.SIGSEGV {
		return "SIGSEGV"
	}
	return "signal " + strconv.Itoa(int(s))
}

// observed is what one side returned for a path opened in a mode. It
// prints as an emulate.Line, in one form for both sides, so a table row
// and a known difference are plain strings (a failing call shows its
// code as its value):
//
//	open EACCES
//	from_fd PMEM2_E_INVALID_FILE_TYPE
//	from_fd 0, size 1073741824, alignment 2097152, numa_node 0, device_id "8089-a2-1837-00000abc", usc 7, badblocks [4096+4096]
//	from_fd 0, size 1073741824, alignment SIGSEGV, numa_node …
//	from_fd 0                       (nothing else compared)
//
// core is the part up to the alignment, which the known differences
// state; the calls on DIMMs and bad blocks (ras) come after it.
type observed struct {
	open   syscall.Errno
	fromFD call
	size   call
	align  call
	ras    [4]call // numa_node, device_id, usc, badblocks
}

// rasNames name the calls of observed.ras, as probe --json does.
var rasNames = [4]string{"numa_node", "device_id", "usc", "badblocks"}

func (o observed) String() string { return o.line(true).String() }

// core is String without the calls on DIMMs and bad blocks.
func (o observed) core() string { return o.line(false).String() }

// line is the observation as an emulate.Line, the calls on DIMMs and bad
// blocks with it when ras is set.
func (o observed) line(ras bool) emulate.Line {
	if o.open != 0 {
		return emulate.Line{Open: fusefs.ErrnoName(o.open)}
	}
	from := o.fromFD.shown()
	if o.fromFD.crash == 0 {
		from = o.fromFD.rc
	}
	l := emulate.Line{Fields: []emulate.Field{{Name: "from_fd", Value: from}}}
	names, calls := []string{"size", "alignment"}, []call{o.size, o.align}
	if ras {
		names, calls = append(names, rasNames[:]...), append(calls, o.ras[:]...)
	}
	for i, c := range calls {
		if v := c.shown(); v != nil {
			l.Fields = append(l.Fields, emulate.Field{Name: names[i], Value: v})
		}
	}
	return l
}

// classification is the part of String about the open and
// pmem2_source_from_fd alone.
func (o observed) classification() string {
	return observed{open: o.open, fromFD: o.fromFD}.String()
}

// calls are every call after from_fd.
func (o observed) calls() []call { return append([]call{o.size, o.align}, o.ras[:]...) }

// crashed reports whether the C probe died in any call.
func (o observed) crashed() bool {
	for _, c := range append(o.calls(), o.fromFD) {
		if c.crash != 0 {
			return true
		}
	}
	return false
}

// goSide opens path in mode and runs the port with the fixture's sysfs
// root, as `pmem2emu probe` does. With steps it keeps what the calls after
// SourceFromFD returned.
func goSide(path string, mode emulate.OpenMode, sysfs string, steps bool) observed {
	r, err := probe.Run(path, mode, pmem2.WithSysfsRoot(sysfs))
	if err != nil {
		panic(err)
	}
	return observedOf(r.Result, steps)
}

// observedOf is what the port returned, as probe.Run reports it.
func observedOf(r emulate.Result, steps bool) observed {
	if r.OpenErrno != 0 {
		return observed{open: r.OpenErrno}
	}
	o := observed{fromFD: call{ran: true, rc: r.FromFD}}
	if r.FromFD != 0 || !steps {
		return o
	}
	o.size = call{ran: true, rc: r.SizeRC, value: r.Size}
	o.align = call{ran: true, rc: r.AlignmentRC, value: r.Alignment}
	o.ras = [4]call{
		{ran: true, rc: r.NUMANodeRC, text: strconv.Itoa(r.NUMANode)},
		{ran: true, rc: r.DeviceIDRC, text: strconv.Quote(r.DeviceID)},
		{ran: true, rc: r.USCRC, value: r.USC},
		{ran: true, rc: r.BadBlocksRC, text: r.BadBlocks.String()},
	}
	return o
}

// cSide runs the C probe on the same path and mode under the fixture's
// namespace runner. With steps, pmem2_source_size, pmem2_source_alignment
// and the calls on DIMMs and bad blocks run in three separate probe
// processes, so a crash in one does not hide the others.
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
	again := func(steps ...cref.Step) cref.Result {
		r2 := cref.MustRun(t, f, probe, path, mode, steps...)
		if r2.OpenErrno != 0 || !r2.FromFD.Ran || r2.FromFD.RC != o.fromFD.rc {
			t.Fatalf("C probe on %s (%s): from_fd %s in the size run, %s in the run of %v", path, mode, r, r2, steps)
		}
		return r2
	}
	o.align = fromCref(again(cref.StepAlignment), cref.StepAlignment)
	r3 := again(cref.RegionSteps...)
	for i, s := range cref.RegionSteps {
		o.ras[i] = fromCref(r3, s)
	}
	return o
}

func fromCref(r cref.Result, s cref.Step) call {
	if r.Crashed == s {
		return call{crash: r.Signal}
	}
	c := r.Call(s)
	out := call{ran: c.Ran, rc: c.RC, value: c.Value}
	switch {
	case !c.Ran || c.RC != 0:
		out.value = 0 // meaningless beside a failing code
	case s == cref.StepNumaNode:
		out.value, out.text = 0, strconv.Itoa(c.Int())
	case s == cref.StepDeviceID:
		out.text = strconv.Quote(c.Text)
	case s == cref.StepBadBlocks:
		list := emulate.BadBlocks{}
		for _, b := range r.BadBlockList {
			list = append(list, emulate.BadBlock{Offset: b.Offset, Length: b.Length})
		}
		out.text = list.String()
	}
	return out
}

// same reports whether two observations agree: the open errno, every code,
// and every value whose code is 0.
func same(a, b observed) bool {
	return a.open == b.open && sameCall(a.fromFD, b.fromFD) && slices.EqualFunc(a.calls(), b.calls(), sameCall)
}

// sameRAS reports whether the calls on DIMMs and bad blocks agree.
func sameRAS(a, b observed) bool { return slices.EqualFunc(a.ras[:], b.ras[:], sameCall) }

func sameCall(x, y call) bool {
	return x.ran == y.ran && x.rc == y.rc && x.crash == y.crash && (x.rc != 0 || x.value == y.value && x.text == y.text)
}
