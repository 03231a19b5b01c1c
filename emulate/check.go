package emulate

import (
	"cmp"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// OpenMode is how a checked node is opened: "r", "w", "rw" or "path".
type OpenMode string

const (
	ModeR    OpenMode = "r"    // O_RDONLY
	ModeW    OpenMode = "w"    // O_WRONLY
	ModeRW   OpenMode = "rw"   // O_RDWR
	ModePath OpenMode = "path" // O_PATH
)

// Modes lists the open modes in check order.
func Modes() []OpenMode { return []OpenMode{ModeR, ModeW, ModeRW, ModePath} }

// modeAccess is each mode's access mode.
var modeAccess = map[OpenMode]int{ModeR: unix.O_RDONLY, ModeW: unix.O_WRONLY, ModeRW: unix.O_RDWR, ModePath: unix.O_PATH}

// Flags are the open(2) flags of the mode: its access mode with O_NONBLOCK
// (a FIFO must not block the checker) and O_CLOEXEC.
func (m OpenMode) Flags() (int, error) {
	acc, ok := modeAccess[m]
	if !ok {
		return 0, fmt.Errorf("emulate: unknown open mode %q (want r, w, rw or path)", string(m))
	}
	return acc | unix.O_NONBLOCK | unix.O_CLOEXEC, nil
}

// Check is one expectation to verify: open Path (relative to the mount
// root) in Mode and compare what pmem2 returns with Expect.
type Check struct {
	// Source is the JSON location the expectation belongs to
	// ("dax_devices[0]", "nodes[3]").
	Source string
	Path   string
	Mode   OpenMode
	Expect Outcome
	// Derived is set when the spec gave no expectation and Checks
	// derived this one from the declaration.
	Derived bool
	// Caller is set when Expect holds only for that caller (it came from
	// Expect.AsRoot or AsUser); "" when it holds for every caller.
	Caller Caller
}

// Checks lists every expectation of the spec that holds for this process
// (ChecksFor(CurrentCaller())), as `pmem2emu check` runs them.
func (s *Spec) Checks() []Check { return s.ChecksFor(CurrentCaller()) }

// ChecksFor lists every expectation of the spec as caller c meets it (see
// Expect.ForCaller) in a stable order: Device DAX devices, pmem devices,
// then nodes, each in declaration order, each in the modes r, w, rw, path
// (a mode without an outcome is skipped).
//
// A device without "expect" gets one derived check, in mode path (the only
// mode whose result does not depend on nodev), by the rules the package
// documentation states ("Device DAX size and alignment"); give a device
// its own expect where those cannot say.
func (s *Spec) ChecksFor(c Caller) []Check {
	var p problems
	b := s.build(&p)
	var out []Check
	add := func(src, path string, e *Expect) {
		for _, m := range Modes() {
			if o := e.ForCaller(c, m); o != nil {
				ck := Check{Source: src, Path: path, Mode: m, Expect: *o}
				if o == e.variant(c).For(m) {
					ck.Caller = c
				}
				out = append(out, ck)
			}
		}
	}
	for _, in := range s.daxInfos() {
		devPath := "dev/" + in.d.Name
		if in.d.Expect != nil {
			add(in.loc, devPath, in.d.Expect)
			continue
		}
		if o, byCaller, ok := s.deriveDAX(b, &in, c); ok {
			ck := Check{Source: in.loc, Path: devPath, Mode: ModePath, Expect: o, Derived: true}
			if byCaller {
				ck.Caller = c
			}
			out = append(out, ck)
		}
	}
	for _, in := range s.pmemInfos() {
		devPath := "dev/" + in.d.Name
		if in.d.Expect != nil {
			add(in.loc, devPath, in.d.Expect)
			continue
		}
		if !s.touchesNode(devPath) {
			out = append(out, Check{Source: in.loc, Path: devPath, Mode: ModePath, Expect: Outcome{FromFD: new(pmem2.ErrInvalidFileType)}, Derived: true})
		}
	}
	for i, n := range s.Nodes {
		if n.Expect != nil {
			add(fmt.Sprintf("nodes[%d]", i), n.Path, n.Expect)
		}
	}
	return out
}

// deriveDAX is the derived outcome of a Device DAX for caller c; byCaller
// when it holds for c only, ok false when none is derived.
func (s *Spec) deriveDAX(b *builder, in *daxInfo, c Caller) (o Outcome, byCaller, ok bool) {
	devPath := "dev/" + in.d.Name
	if s.touchesNode(devPath) {
		return Outcome{}, false, false
	}
	if s.touchesAny(b.generatedBy(in.loc)) {
		return Outcome{}, false, true
	}
	o = Outcome{FromFD: new(pmem2.Code(0))}
	byCaller = s.deriveRAS(b, in, c, &o)
	if !in.ndBus {
		o.SizeRC = new(pmem2.ErrDAXRegionNotFound)
		o.AlignmentRC = new(pmem2.ErrInvalidAlignmentFormat)
		return o, byCaller, true
	}
	if in.d.SizeRaw == nil {
		o.Size = new(in.d.Size)
	}
	if in.d.AlignRaw == nil {
		o.Alignment = new(in.align)
	}
	return o, byCaller, true
}

// touchesNode reports whether a declared node or fault may change what
// opening p finds: a node at p or at a parent of it, or a fault that could
// match p or a parent.
func (s *Spec) touchesNode(p string) bool {
	for _, n := range s.Nodes {
		if under(p, n.Path) {
			return true
		}
	}
	for _, f := range s.Faults {
		for _, a := range append(ancestors(p), p) {
			if fusefs.MatchPath(f.Path, a) {
				return true
			}
		}
	}
	return false
}

// touchesAny reports whether declared nodes or faults reach any of paths
// (the files a device generated): a node at one of them, above one, or
// below one; a fault matching one.
func (s *Spec) touchesAny(paths []string) bool {
	for _, n := range s.Nodes {
		for _, p := range paths {
			if under(p, n.Path) || under(n.Path, p) {
				return true
			}
		}
	}
	for _, f := range s.Faults {
		for _, p := range paths {
			if fusefs.MatchPath(f.Path, p) {
				return true
			}
		}
	}
	return false
}

// Result is what a checker observed for one node and mode. OpenErrno is 0
// when the open succeeded; the codes are pmem2.CodeOf values, exactly what
// the C functions return; Size and Alignment count only when their code is
// 0, and nothing after a failing FromFD does.
type Result struct {
	OpenErrno   syscall.Errno
	FromFD      pmem2.Code
	Size        uint64
	SizeRC      pmem2.Code
	Alignment   uint64
	AlignmentRC pmem2.Code
	NUMANode    int
	NUMANodeRC  pmem2.Code
	DeviceID    string
	DeviceIDRC  pmem2.Code
	USC         uint64
	USCRC       pmem2.Code
	BadBlocks   BadBlocks
	BadBlocksRC pmem2.Code
}

// fields are the pmem2 calls a check compares after SourceFromFD, each
// with its value and its code, in the order results show them. Result and
// Outcome lines, their mismatches and probe's JSON all walk this list, so
// a new call is one entry here beside its members in Outcome and Result.
var fields = []struct {
	name string                                     // "size": shown as "size N" and "size_rc CODE"
	want func(*Outcome) (value any, rc *pmem2.Code) // value nil: not expected
	got  func(*Result) (value any, rc pmem2.Code)
}{
	{"size",
		func(o *Outcome) (any, *pmem2.Code) { return orNil(o.Size), o.SizeRC },
		func(r *Result) (any, pmem2.Code) { return r.Size, r.SizeRC }},
	{"alignment",
		func(o *Outcome) (any, *pmem2.Code) { return orNil(o.Alignment), o.AlignmentRC },
		func(r *Result) (any, pmem2.Code) { return r.Alignment, r.AlignmentRC }},
	{"numa_node",
		func(o *Outcome) (any, *pmem2.Code) { return orNil(o.NUMANode), o.NUMANodeRC },
		func(r *Result) (any, pmem2.Code) { return r.NUMANode, r.NUMANodeRC }},
	{"device_id",
		func(o *Outcome) (any, *pmem2.Code) { return idValue(o.DeviceID), o.DeviceIDRC },
		func(r *Result) (any, pmem2.Code) { return deviceID(r.DeviceID), r.DeviceIDRC }},
	{"usc",
		func(o *Outcome) (any, *pmem2.Code) { return orNil(o.USC), o.USCRC },
		func(r *Result) (any, pmem2.Code) { return r.USC, r.USCRC }},
	{"badblocks",
		func(o *Outcome) (any, *pmem2.Code) { return listValue(o.BadBlocks), o.BadBlocksRC },
		func(r *Result) (any, pmem2.Code) { return append(BadBlocks{}, r.BadBlocks...), r.BadBlocksRC }},
}

// deviceID is a device id as a line shows it: quoted, so that an empty
// one is seen ("device_id \"\""); JSON writes it as the plain string.
type deviceID string

func (d deviceID) String() string { return strconv.Quote(string(d)) }

func idValue(p *string) any {
	if p == nil {
		return nil
	}
	return deviceID(*p)
}

// listValue is the expected list as a non-nil BadBlocks (none is [], as
// JSON writes it), or nil when not expected.
func listValue(p *BadBlocks) any {
	if p == nil {
		return nil
	}
	return append(BadBlocks{}, *p...)
}

// orNil is *p, or an untyped nil for a nil p.
func orNil[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// Mismatches compares a result with the outcome and describes each
// difference; none means the check passed.
func (o *Outcome) Mismatches(r Result) []string {
	gotOpen := cmp.Or(r.Line().Open, "success")
	if o.OpenErrno != 0 {
		if r.OpenErrno != o.OpenErrno {
			return []string{fmt.Sprintf("open: want %s, got %s", fusefs.ErrnoName(o.OpenErrno), gotOpen)}
		}
		return nil
	}
	if r.OpenErrno != 0 {
		return []string{"open: want success, got " + gotOpen}
	}
	var out []string
	if o.FromFD != nil && *o.FromFD != r.FromFD {
		out = append(out, fmt.Sprintf("from_fd: want %s, got %s", o.FromFD.Name(), r.FromFD.Name()))
	}
	if r.FromFD != 0 {
		if o.FromFD == nil && len(o.Line().Fields) > 0 {
			out = append(out, "from_fd: want 0, got "+r.FromFD.Name())
		}
		return out
	}
	for _, f := range fields {
		wantV, wantRC := f.want(o)
		gotV, gotRC := f.got(&r)
		if wantRC != nil && *wantRC != gotRC {
			out = append(out, fmt.Sprintf("%s_rc: want %s, got %s", f.name, wantRC.Name(), gotRC.Name()))
		}
		switch {
		case wantV == nil:
		case gotRC != 0 && wantRC == nil:
			out = append(out, fmt.Sprintf("%s: want %v, got %s", f.name, wantV, gotRC.Name()))
		case gotRC == 0 && !reflect.DeepEqual(gotV, wantV):
			out = append(out, fmt.Sprintf("%s: want %v, got %v", f.name, wantV, gotV))
		}
	}
	return out
}

// Line is a result as every table of the project shows it, expected or
// observed, from Go or from C: "open EACCES" when the open fails, else its
// fields in order, each as "name value" and, when the code says more than
// the value, "name_rc CODE": "from_fd 0, size 1073741824, alignment
// 2097152", "from_fd 0, size_rc -ERANGE, alignment 2097152". An open with
// nothing else to show is "open ok".
type Line struct {
	Open   string // the errno name of a failed open(2); "" when it succeeded
	Fields []Field
}

// Field is one value of a Line: "from_fd" with its code as the value, or a
// call such as "size" with its value, its code or both.
type Field struct {
	Name  string
	Value any         // nil when not shown; a pmem2.Code shows its name
	RC    *pmem2.Code // nil when not shown; a 0 beside a value is not shown
}

func (l Line) String() string {
	if l.Open != "" {
		return "open " + l.Open
	}
	var parts []string
	for _, f := range l.Fields {
		if f.Value != nil {
			parts = append(parts, f.Name+" "+valueText(f.Value))
		}
		if f.RC != nil && (*f.RC != 0 || f.Value == nil) {
			parts = append(parts, f.Name+"_rc "+f.RC.Name())
		}
	}
	if len(parts) == 0 {
		return "open ok"
	}
	return strings.Join(parts, ", ")
}

func valueText(v any) string {
	if c, ok := v.(pmem2.Code); ok {
		return c.Name()
	}
	return fmt.Sprint(v)
}

// Line is what the outcome expects, field by field.
func (o *Outcome) Line() Line {
	if o.OpenErrno != 0 {
		return Line{Open: fusefs.ErrnoName(o.OpenErrno)}
	}
	var l Line
	if o.FromFD != nil {
		l.Fields = append(l.Fields, Field{Name: "from_fd", Value: *o.FromFD})
	}
	for _, f := range fields {
		if v, rc := f.want(o); v != nil || rc != nil {
			l.Fields = append(l.Fields, Field{Name: f.name, Value: v, RC: rc})
		}
	}
	return l
}

// Line is what was observed: the open's errno, or from_fd and, when it is
// 0, every call with its code and, when that is 0, its value.
func (r Result) Line() Line {
	if r.OpenErrno != 0 {
		return Line{Open: fusefs.ErrnoName(r.OpenErrno)}
	}
	l := Line{Fields: []Field{{Name: "from_fd", Value: r.FromFD}}}
	if r.FromFD != 0 {
		return l
	}
	for _, f := range fields {
		v, rc := f.got(&r)
		if rc != 0 {
			v = nil
		}
		l.Fields = append(l.Fields, Field{Name: f.name, Value: v, RC: &rc})
	}
	return l
}

// LineFor is the observed line in the words of the outcome o: the open's
// errno, or from_fd and, when it is 0, only the calls o expects something
// of, so that a table row reads GOT beside EXPECTED. Line shows them all.
func (r Result) LineFor(o *Outcome) Line {
	l := r.Line()
	if l.Open != "" || r.FromFD != 0 {
		return l
	}
	kept := l.Fields[:1]
	for i, f := range fields {
		if v, rc := f.want(o); v != nil || rc != nil {
			kept = append(kept, l.Fields[1+i])
		}
	}
	l.Fields = kept
	return l
}

// String renders the outcome as its Line.
func (o *Outcome) String() string { return o.Line().String() }

// String renders the result as its Line.
func (r Result) String() string { return r.Line().String() }
