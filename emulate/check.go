package emulate

import (
	"fmt"
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

// Flags are the open(2) flags of the mode: its access mode with O_NONBLOCK
// (a FIFO must not block the checker) and O_CLOEXEC.
func (m OpenMode) Flags() (int, error) {
	var acc int
	switch m {
	case ModeR:
		acc = unix.O_RDONLY
	case ModeW:
		acc = unix.O_WRONLY
	case ModeRW:
		acc = unix.O_RDWR
	case ModePath:
		acc = unix.O_PATH
	default:
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
}

// Checks lists every expectation of the spec in a stable order: Device
// DAX devices, pmem devices, then nodes, each in declaration order, each
// in the modes r, w, rw, path (a mode without an outcome is skipped).
//
// A device without "expect" gets one derived check, in mode path (the only
// mode whose result does not depend on nodev): a Device DAX is classified
// DevDAX with its declared size and alignment (no dax_region: size
// PMEM2_E_DAX_REGION_NOT_FOUND, alignment PMEM2_E_INVALID_ALIGNMENT_VALUE;
// size_raw or align_raw: that value unchecked); a pmem device is
// PMEM2_E_INVALID_FILE_TYPE. When declared nodes or faults touch what the
// device generates, only a successful open is derived, and when they touch
// its node in dev/ nothing is: give such a device its own expect.
func (s *Spec) Checks() []Check {
	var p problems
	b := s.build(&p)
	var out []Check
	add := func(src, path string, e *Expect) {
		for _, m := range Modes() {
			if o := e.For(m); o != nil {
				out = append(out, Check{Source: src, Path: path, Mode: m, Expect: *o})
			}
		}
	}
	for _, in := range s.daxInfos() {
		devPath := "dev/" + in.d.Name
		if in.d.Expect != nil {
			add(in.loc, devPath, in.d.Expect)
			continue
		}
		if o, ok := s.deriveDAX(b, &in); ok {
			out = append(out, Check{Source: in.loc, Path: devPath, Mode: ModePath, Expect: o, Derived: true})
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

func (s *Spec) deriveDAX(b *builder, in *daxInfo) (Outcome, bool) {
	devPath := "dev/" + in.d.Name
	if s.touchesNode(devPath) {
		return Outcome{}, false
	}
	if s.touchesAny(b.generatedBy(in.loc)) {
		return Outcome{}, true
	}
	o := Outcome{FromFD: new(pmem2.Code(0))}
	switch {
	case !in.daxRegion && in.d.SizeRaw == nil:
		o.SizeRC = new(pmem2.ErrDAXRegionNotFound)
	case in.d.SizeRaw == nil:
		o.Size = new(in.d.Size)
	}
	switch {
	case !in.daxRegion:
		o.AlignmentRC = new(pmem2.ErrInvalidAlignmentValue)
	case in.d.AlignRaw == nil:
		o.Alignment = new(in.align)
	}
	return o, true
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
			if faultMatches(f.Path, a) {
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
			if faultMatches(f.Path, p) {
				return true
			}
		}
	}
	return false
}

// faultMatches is fusefs's fault path rule.
func faultMatches(pattern, p string) bool { return fusefs.MatchPath(pattern, p) }

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
}

// Mismatches compares a result with the outcome and describes each
// difference; none means the check passed.
func (o *Outcome) Mismatches(r Result) []string {
	var out []string
	if o.OpenErrno != 0 {
		if r.OpenErrno != o.OpenErrno {
			out = append(out, fmt.Sprintf("open: want %s, got %s", openText(o.OpenErrno), openText(r.OpenErrno)))
		}
		return out
	}
	if r.OpenErrno != 0 {
		return append(out, "open: want success, got "+openText(r.OpenErrno))
	}
	if o.FromFD != nil && *o.FromFD != r.FromFD {
		out = append(out, fmt.Sprintf("from_fd: want %s, got %s", o.FromFD.Name(), r.FromFD.Name()))
	}
	if r.FromFD != 0 {
		if o.Size != nil || o.SizeRC != nil || o.Alignment != nil || o.AlignmentRC != nil {
			if o.FromFD == nil {
				out = append(out, "from_fd: want 0, got "+r.FromFD.Name())
			}
		}
		return out
	}
	if o.SizeRC != nil && *o.SizeRC != r.SizeRC {
		out = append(out, fmt.Sprintf("size_rc: want %s, got %s", o.SizeRC.Name(), r.SizeRC.Name()))
	}
	if o.Size != nil {
		switch {
		case r.SizeRC != 0 && o.SizeRC == nil:
			out = append(out, fmt.Sprintf("size: want %d, got %s", *o.Size, r.SizeRC.Name()))
		case r.SizeRC == 0 && r.Size != *o.Size:
			out = append(out, fmt.Sprintf("size: want %d, got %d", *o.Size, r.Size))
		}
	}
	if o.AlignmentRC != nil && *o.AlignmentRC != r.AlignmentRC {
		out = append(out, fmt.Sprintf("alignment_rc: want %s, got %s", o.AlignmentRC.Name(), r.AlignmentRC.Name()))
	}
	if o.Alignment != nil {
		switch {
		case r.AlignmentRC != 0 && o.AlignmentRC == nil:
			out = append(out, fmt.Sprintf("alignment: want %d, got %s", *o.Alignment, r.AlignmentRC.Name()))
		case r.AlignmentRC == 0 && r.Alignment != *o.Alignment:
			out = append(out, fmt.Sprintf("alignment: want %d, got %d", *o.Alignment, r.Alignment))
		}
	}
	return out
}

func openText(e syscall.Errno) string {
	if e == 0 {
		return "success"
	}
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return fmt.Sprintf("errno %d", int(e))
}

// String renders the outcome for a table: "open EACCES", or the expected
// fields ("from_fd 0, size 1073741824, alignment 2097152"); "open ok" when
// only a successful open is expected.
func (o *Outcome) String() string {
	if o.OpenErrno != 0 {
		return "open " + openText(o.OpenErrno)
	}
	var parts []string
	if o.FromFD != nil {
		parts = append(parts, "from_fd "+o.FromFD.Name())
	}
	if o.Size != nil {
		parts = append(parts, "size "+utoa(*o.Size))
	}
	if o.SizeRC != nil {
		parts = append(parts, "size_rc "+o.SizeRC.Name())
	}
	if o.Alignment != nil {
		parts = append(parts, "alignment "+utoa(*o.Alignment))
	}
	if o.AlignmentRC != nil {
		parts = append(parts, "alignment_rc "+o.AlignmentRC.Name())
	}
	if len(parts) == 0 {
		return "open ok"
	}
	return strings.Join(parts, ", ")
}

// String renders a result in the same words as Outcome.String.
func (r Result) String() string {
	if r.OpenErrno != 0 {
		return "open " + openText(r.OpenErrno)
	}
	parts := []string{"from_fd " + r.FromFD.Name()}
	if r.FromFD == 0 {
		if r.SizeRC == 0 {
			parts = append(parts, "size "+utoa(r.Size))
		} else {
			parts = append(parts, "size_rc "+r.SizeRC.Name())
		}
		if r.AlignmentRC == 0 {
			parts = append(parts, "alignment "+utoa(r.Alignment))
		} else {
			parts = append(parts, "alignment_rc "+r.AlignmentRC.Name())
		}
	}
	return strings.Join(parts, ", ")
}
