package cref

import (
	"bufio"
	"bytes"
	"cmp"
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
)

// Call is what one library call returned.
type Call struct {
	// Ran is set when the probe printed the call's result.
	Ran bool
	// RC is the return code: 0, a PMEM2_E_* value or -errno.
	RC pmem2.Code
	// Value is the size or alignment written by the call; it means
	// something only when RC is 0 (and for from_fd, nothing).
	Value uint64
}

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
	switch s {
	case StepFromFD:
		return r.FromFD
	case StepSize:
		return r.Size
	case StepAlignment:
		return r.Alignment
	}
	return Call{}
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
	default:
		f.Value = c.Value
	}
	return f
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
		case (f[0] == "size" || f[0] == "alignment") && len(f) == 3 && r.FromFD.Ran && r.FromFD.RC == 0 && r.asked(Step(f[0])):
			c := Call{Ran: true}
			if c.RC, err = parseCode(f[1]); err == nil {
				c.Value, err = strconv.ParseUint(f[2], 10, 64)
			}
			if f[0] == "size" {
				r.Size = c
			} else {
				r.Alignment = c
			}
		default:
			return r, fmt.Errorf("cref: probe printed %q, which it never prints", line)
		}
		if err != nil {
			return r, fmt.Errorf("cref: probe printed %q: %v", line, err)
		}
	}
	return r, sc.Err()
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
