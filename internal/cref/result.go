package cref

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// Step is one call of the C library the probe makes.
type Step string

// The calls, in the words the probe prints. StepFromFD always runs (after a
// successful open); the others run, in the order asked, only when it
// returned 0.
const (
	StepFromFD    Step = "from_fd"   // pmem2_source_from_fd
	StepSize      Step = "size"      // pmem2_source_size
	StepAlignment Step = "alignment" // pmem2_source_alignment
	StepNumaNode  Step = "numa_node" // pmem2_source_numa_node
	StepDeviceID  Step = "device_id" // pmem2_source_device_id (length, then id)
	StepUSC       Step = "usc"       // pmem2_source_device_usc
	// StepBadBlocks is pmem2_badblock_context_new, then pmem2_badblock_next
	// until it returns PMEM2_E_NO_BAD_BLOCK_FOUND (RC 0 then).
	StepBadBlocks Step = "badblocks"
)

// Steps are the steps that can be asked for, in the order the probe
// documents them.
var Steps = append([]Step{StepSize, StepAlignment}, RegionSteps...)

// RegionSteps are the calls on the device's region, DIMMs and bad blocks,
// in that order.
var RegionSteps = []Step{StepNumaNode, StepDeviceID, StepUSC, StepBadBlocks}

// Call is what one library call returned.
type Call struct {
	// Ran is set when the probe printed the call's result.
	Ran bool
	// RC is the return code: 0, a PMEM2_E_* value or -errno.
	RC pmem2.Code
	// Value is the size, alignment or unsafe shutdown count written by
	// the call, or the NUMA node (read it with Int); it means something
	// only when RC is 0 (and for from_fd, device_id and badblocks,
	// nothing).
	Value uint64
	// Text is the id device_id wrote, when RC is 0.
	Text string
}

// Int is Value as the signed number numa_node writes.
func (c Call) Int() int { return int(int64(c.Value)) }

// Result is what the probe reported for one path and mode.
type Result struct {
	Path string
	Mode emulate.OpenMode
	// Steps are the calls asked for after from_fd.
	Steps []Step
	// OpenErrno is the errno of a failed open(2); no call ran then.
	OpenErrno syscall.Errno
	FromFD    Call
	Size      Call
	Alignment Call
	NumaNode  Call
	DeviceID  Call
	USC       Call
	BadBlocks Call
	// BadBlockList is what pmem2_badblock_next returned, in order.
	BadBlockList []pmem2.BadBlock
	// Done is set when the probe reached its end.
	Done bool
	// Signal is the signal that killed the probe, 0 if none.
	Signal syscall.Signal
	// Crashed is the call that was running when the probe was killed: the
	// first call asked for that has no result. "" when the probe was not
	// killed.
	Crashed Step
	// Stderr is what the probe wrote on its standard error.
	Stderr string
}

// Call returns the result of step.
func (r *Result) Call(s Step) Call {
	if s == StepFromFD {
		return r.FromFD
	}
	if c := r.call(s); c != nil {
		return *c
	}
	return Call{}
}

// call is the field of step s, for Parse to fill; nil for from_fd, which
// Parse reads apart.
func (r *Result) call(s Step) *Call {
	switch s {
	case StepSize:
		return &r.Size
	case StepAlignment:
		return &r.Alignment
	case StepNumaNode:
		return &r.NumaNode
	case StepDeviceID:
		return &r.DeviceID
	case StepUSC:
		return &r.USC
	case StepBadBlocks:
		return &r.BadBlocks
	}
	return nil
}

// String renders the result as an emulate.Line, in the words of the check
// table, with the signal in place of the call it killed and "-" for a call
// that did not run: "open EACCES", "from_fd PMEM2_E_INVALID_FILE_TYPE",
// "from_fd 0, size 1073741824, alignment SIGSEGV".
func (r Result) String() string {
	if r.OpenErrno != 0 {
		return emulate.Line{Open: fusefs.ErrnoName(r.OpenErrno)}.String()
	}
	l := emulate.Line{Fields: []emulate.Field{r.field(StepFromFD)}}
	if r.FromFD.Ran && r.FromFD.RC == 0 {
		for _, s := range r.Steps {
			l.Fields = append(l.Fields, r.field(s))
		}
	}
	return l.String()
}

// field is call s as a Line shows it.
func (r *Result) field(s Step) emulate.Field {
	c := r.Call(s)
	f := emulate.Field{Name: string(s)}
	switch {
	case !c.Ran && r.Crashed == s:
		f.Value = signalName(r.Signal)
	case !c.Ran:
		f.Value = "-"
	case s == StepFromFD:
		f.Value = c.RC
	case c.RC != 0:
		f.RC = &c.RC
	case s == StepNumaNode:
		f.Value = c.Int()
	case s == StepDeviceID:
		f.Value = strconv.Quote(c.Text)
	case s == StepBadBlocks:
		f.Value = BadBlocksText(r.BadBlockList)
	default:
		f.Value = c.Value
	}
	return f
}

// BadBlocksText writes bad blocks as the results show them:
// "[4096+4096 524288+512]", offset+length in bytes; "[]" for none.
func BadBlocksText(bbs []pmem2.BadBlock) string {
	parts := make([]string, len(bbs))
	for i, b := range bbs {
		parts[i] = b.String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// Parse reads what the probe printed when asked for steps. It accepts the
// partial output of a killed probe (the caller sets Signal and Crashed);
// anything the probe never prints is an error.
func Parse(out []byte, steps []Step) (Result, error) {
	r := Result{Steps: append([]Step(nil), steps...)}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			return r, fmt.Errorf("cref: probe printed an empty line")
		}
		if r.Done {
			return r, fmt.Errorf("cref: probe printed %q after done", line)
		}
		if seen[f[0]] {
			return r, fmt.Errorf("cref: probe printed %s twice", f[0])
		}
		seen[f[0]] = true
		var err error
		switch {
		case f[0] == "done" && len(f) == 1:
			r.Done = true
		case f[0] == "open_errno" && len(f) == 2 && len(seen) == 1:
			var n int64
			n, err = strconv.ParseInt(f[1], 10, 32)
			r.OpenErrno = syscall.Errno(n)
		case f[0] == "from_fd" && len(f) == 2 && len(seen) == 1:
			r.FromFD.Ran = true
			r.FromFD.RC, err = parseCode(f[1])
		case r.call(Step(f[0])) != nil && len(f) >= 2 && r.FromFD.Ran && r.FromFD.RC == 0 && r.asked(Step(f[0])):
			err = r.parseStep(Step(f[0]), f[1:])
		default:
			return r, fmt.Errorf("cref: probe printed %q, which it never prints", line)
		}
		if err != nil {
			return r, fmt.Errorf("cref: probe printed %q: %v", line, err)
		}
	}
	return r, sc.Err()
}

// parseStep reads the words after a step's name: "RC VALUE" for size,
// alignment, usc and numa_node (signed), "RC HEX" for device_id (the id's
// bytes, "-" for none), "RC [OFF,LEN]..." for badblocks.
func (r *Result) parseStep(s Step, f []string) error {
	c := Call{Ran: true}
	var err error
	if c.RC, err = parseCode(f[0]); err != nil {
		return err
	}
	switch s {
	case StepBadBlocks:
		for _, w := range f[1:] {
			off, length, ok := strings.Cut(w, ",")
			var bb pmem2.BadBlock
			if !ok {
				return fmt.Errorf("bad block %q is not OFF,LEN", w)
			}
			if bb.Offset, err = strconv.ParseUint(off, 10, 64); err != nil {
				return err
			}
			if bb.Length, err = strconv.ParseUint(length, 10, 64); err != nil {
				return err
			}
			r.BadBlockList = append(r.BadBlockList, bb)
		}
	case StepDeviceID:
		if len(f) != 2 {
			return fmt.Errorf("want RC and the id in hex")
		}
		if f[1] != "-" {
			b, err := hex.DecodeString(f[1])
			if err != nil {
				return err
			}
			c.Text = string(b)
		}
	case StepNumaNode:
		if len(f) != 2 {
			return fmt.Errorf("want RC and VALUE")
		}
		v, err := strconv.ParseInt(f[1], 10, 32)
		if err != nil {
			return err
		}
		c.Value = uint64(v)
	default:
		if len(f) != 2 {
			return fmt.Errorf("want RC and VALUE")
		}
		if c.Value, err = strconv.ParseUint(f[1], 10, 64); err != nil {
			return err
		}
	}
	*r.call(s) = c
	return nil
}

func (r *Result) asked(s Step) bool {
	for _, a := range r.Steps {
		if a == s {
			return true
		}
	}
	return false
}

// pending is the first call asked for that has no result: the one running
// when a killed probe died, or "" when every call finished.
func (r *Result) pending() Step {
	if r.OpenErrno != 0 {
		return ""
	}
	if !r.FromFD.Ran {
		return StepFromFD
	}
	if r.FromFD.RC != 0 {
		return ""
	}
	for _, s := range r.Steps {
		if !r.Call(s).Ran {
			return s
		}
	}
	return ""
}

func parseCode(s string) (pmem2.Code, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	return pmem2.Code(n), err
}

// signalName is "SIGSEGV" for syscall.SIGSEGV.
func signalName(s syscall.Signal) string {
	return cmp.Or(unix.SignalName(s), "signal "+strconv.Itoa(int(s)))
}
