package stress_test

import (
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pmem2emu/pmem2emu/pmem2"
)

// A rule is one fault rule the flipper turns on and off. Each is consulted
// by at most one step of any call, except dev getattr: Size and Alignment
// of a Device DAX also stat dev/dax0.0 (libdaxctl's /dev node) after Size's
// fstat, so a call may see that fault at one step and not at another. The
// two virtual rules below stand for those later consultations.
type rule uint8

const (
	ruleDevGetattr  rule = iota // dev/dax0.0 getattr EIO: fstat of the device
	ruleSubsystem               // the device's subsystem link, readlink EIO
	ruleSizeRead                // the nd_dax's size, read EIO
	ruleAlignRead               // the nd_dax's align, read EIO
	ruleFileGetattr             // data/small getattr EIO: fstat of the file
	ruleFileRead                // data/small read EIO: pread of the file
	numRules

	ruleDevNodeSize  = numRules     // dev getattr, as Size's lookup stats dev/dax0.0
	ruleDevNodeAlign = numRules + 1 // dev getattr, as Alignment's lookup stats dev/dax0.0
)

// withDevNode sets the virtual rules as dev getattr is: what a call that saw
// no change meets at every step.
func withDevNode(m mask) mask {
	if m.has(ruleDevGetattr) {
		m |= 1<<ruleDevNodeSize | 1<<ruleDevNodeAlign
	}
	return m
}

func (r rule) String() string {
	return [...]string{"dev getattr", "subsystem readlink", "size read", "align read", "file getattr", "file read"}[r]
}

// mask is a set of rules in force.
type mask uint8

func (m mask) has(r rule) bool { return m&(1<<r) != 0 }

// content is one value the flipper writes to a sysfs file, with what pmem2
// makes of it (pmem2 package documentation: what libndctl keeps of the
// nd_dax's size and align, strtoull(buf, NULL, 0) with no format check;
// the alignment must be a power of two).
type content struct {
	text string
	val  uint64
	code pmem2.Code
}

var (
	eio  = -pmem2.Code(5)
	page = uint64(os.Getpagesize())
)

// sizes are the nd_dax size's contents. The first is the one in force
// when the fixture starts.
var sizes = []content{
	{text: "16777216\n", val: 16 << 20},
	{text: "0x2000000\n", val: 32 << 20},
	{text: "0x400\n", val: 1024}, // valid, but too small for a 4096-byte ReadAt
	{text: "16777216", val: 16 << 20},
	{text: "sixteen megabytes\n", val: 0},
	{text: "99999999999999999999\n", val: math.MaxUint64},
	{text: "\xff\xfe\x80\n", val: 0},
	{text: "", val: 0},
}

// aligns are the nd_dax align's contents.
var aligns = []content{
	{text: "2097152\n", val: 2 << 20},
	{text: "4096\n", val: 4096},
	{text: "200000\n", code: pmem2.ErrInvalidAlignmentValue}, // decimal, no power of two
	{text: "12345\n", code: pmem2.ErrInvalidAlignmentValue},
	{text: "2M\n", val: 2},
	{text: "99999999999999999999\n", code: pmem2.ErrInvalidAlignmentValue},
	{text: "\xc3\x28\n", code: pmem2.ErrInvalidAlignmentValue},
}

// state is the fixture as the flipper left it after one change.
type state struct {
	faults      mask
	size, align int // indexes into sizes and aligns
	what        string
}

// An op is one kind of call a worker makes.
type op uint8

const (
	daxFromFD op = iota
	daxSize
	daxAlign
	daxRead
	fileFromFD
	fileSize
	fileAlign
	fileRead
	numOps
)

func (o op) String() string {
	return [...]string{"SourceFromFD(dax)", "Size(dax)", "Alignment(dax)", "ReadAt(dax)",
		"SourceFromFD(file)", "Size(file)", "Alignment(file)", "ReadAt(file)"}[o]
}

// A result is what one call returned: its code and, on success, its value
// (the size, the alignment, the bytes read, or the FileType).
type result struct {
	code pmem2.Code
	val  uint64
}

func (r result) String() string {
	if r.code != 0 {
		return r.code.Name()
	}
	return fmt.Sprintf("ok %d", r.val)
}

const (
	daxReadLen = 4096 // ReadAt(dax) reads this many bytes at offset 0
	fileData   = "hello, pmem\n"
)

// expect is what the pmem2 package documentation says op returns when the
// rules in m are in force and the nd_dax's files hold sizes[si] and
// aligns[ai]. Every rule fails its step with EIO; the steps, in the
// library's order:
//
//	SourceFromFD(dax)  fstat (dev getattr), realpath of the subsystem link
//	Size(dax)          fstat, stat of dev/dax0.0 (dev getattr: not found), read the nd_dax's size
//	                   (a failed read is 2^64-1)
//	Alignment(dax)     stat of dev/dax0.0 (not found: INVALID_ALIGNMENT_FORMAT), read the nd_dax's
//	                   align (a failed read is 0), power of two
//	ReadAt(dax)        Size's error as is, length check, Alignment's error as is, mmap
//	SourceFromFD(file) fstat (file getattr)
//	Size(file)         fstat
//	Alignment(file)    nothing: the page size
//	ReadAt(file)       Size's error, pread (EIO is PMEM2_E_IO_FAIL)
func expect(o op, m mask, si, ai int) result {
	size := func() result {
		switch {
		case m.has(ruleDevGetattr):
			return result{code: eio}
		case m.has(ruleDevNodeSize):
			return result{code: pmem2.ErrDAXRegionNotFound}
		case m.has(ruleSizeRead):
			return result{val: math.MaxUint64}
		}
		return result{code: sizes[si].code, val: sizes[si].val}
	}
	align := func() result {
		switch {
		case m.has(ruleDevNodeAlign):
			return result{code: pmem2.ErrInvalidAlignmentFormat}
		case m.has(ruleAlignRead):
			return result{code: pmem2.ErrInvalidAlignmentValue}
		}
		a := aligns[ai]
		return result{code: a.code, val: a.val}
	}
	switch o {
	case daxFromFD:
		if m.has(ruleDevGetattr) || m.has(ruleSubsystem) {
			return result{code: eio}
		}
		return result{val: uint64(pmem2.FileTypeDevDAX)}
	case daxSize:
		return size()
	case daxAlign:
		return align()
	case daxRead:
		if r := size(); r.code != 0 {
			return r
		} else if r.val < daxReadLen {
			return result{code: pmem2.ErrLengthOutOfRange}
		}
		if r := align(); r.code != 0 {
			return r
		}
		return result{val: daxReadLen}
	case fileFromFD:
		if m.has(ruleFileGetattr) {
			return result{code: eio}
		}
		return result{val: uint64(pmem2.FileTypeRegular)}
	case fileSize:
		if m.has(ruleFileGetattr) {
			return result{code: eio}
		}
		return result{val: uint64(len(fileData))}
	case fileAlign:
		return result{val: page}
	case fileRead:
		switch {
		case m.has(ruleFileGetattr):
			return result{code: eio}
		case m.has(ruleFileRead):
			return result{code: pmem2.ErrIOFail}
		}
		return result{val: uint64(len(fileData))}
	}
	panic("unknown op")
}

// stateLog is every state the fixture has been in, in order, with the
// counters that bracket each change. Entry k is the state after change k.
type stateLog struct {
	mu      sync.RWMutex
	entries []state
	// started is the last change that may already be visible; finished
	// the last one that is certainly visible.
	started, finished atomic.Int64
}

// begin records the state a change is about to produce and announces it.
func (l *stateLog) begin(s state) {
	l.mu.Lock()
	l.entries = append(l.entries, s)
	k := int64(len(l.entries) - 1)
	l.mu.Unlock()
	l.started.Store(k)
}

// end marks the change announced last as visible.
func (l *stateLog) end() { l.finished.Store(l.started.Load()) }

// current is the state after the last change.
func (l *stateLog) current() state {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.entries[len(l.entries)-1]
}

// span summarises the states lo … hi: the rules on in some of them, the
// rules off in some of them, and the size and align contents seen (bit i
// for sizes[i], aligns[i]).
type span struct {
	on, off      mask
	sizes, align uint16
}

func (l *stateLog) span(lo, hi int64) span {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var sp span
	for _, s := range l.entries[lo : hi+1] {
		sp.on |= s.faults
		sp.off |= ^s.faults
		sp.sizes |= 1 << s.size
		sp.align |= 1 << s.align
	}
	return sp
}

// changes describes the changes lo+1 … hi, for a message.
func (l *stateLog) changes(lo, hi int64) string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []string
	for k := lo + 1; k <= hi && len(out) < 6; k++ {
		out = append(out, l.entries[k].what)
	}
	if hi-lo > 6 {
		out = append(out, fmt.Sprintf("and %d more", hi-lo-6))
	}
	if len(out) == 0 {
		return "no change"
	}
	return strings.Join(out, "; ")
}

// each calls fn with every result op may give in a call during which the
// states of sp were in force, until fn returns false. A rule that was both
// on and off in the span may have been either at the moment its step ran,
// independently of the other rules; likewise each file's content.
func (sp span) each(o op, fn func(result) bool) {
	fixed := sp.on &^ sp.off
	var flipping []rule
	for r := range numRules {
		if sp.on.has(r) && sp.off.has(r) {
			flipping = append(flipping, r)
		}
	}
	fixed = withDevNode(fixed)
	if len(flipping) > 0 && slices.Contains(flipping, ruleDevGetattr) {
		flipping = append(flipping, ruleDevNodeSize, ruleDevNodeAlign)
	}
	for bits := 0; bits < 1<<len(flipping); bits++ {
		m := fixed
		for i, r := range flipping {
			if bits&(1<<i) != 0 {
				m |= 1 << r
			}
		}
		for si := range sizes {
			if sp.sizes&(1<<si) == 0 {
				continue
			}
			for ai := range aligns {
				if sp.align&(1<<ai) != 0 && !fn(expect(o, m, si, ai)) {
					return
				}
			}
		}
	}
}

// allows reports whether r is among the results of sp for op o.
func (sp span) allows(o op, r result) bool {
	found := false
	sp.each(o, func(x result) bool { found = x == r; return !found })
	return found
}

// allowed lists the results of sp for op o, for a message.
func (sp span) allowed(o op) []string {
	set := map[string]bool{}
	sp.each(o, func(x result) bool { set[x.String()] = true; return true })
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
