package fusefs

import (
	"fmt"
	"io/fs"
	"syscall"
	"time"
)

// Op is a file system operation that a Fault can target and that the
// server counts.
type Op uint8

const (
	OpLookup Op = iota + 1
	OpGetattr
	OpOpen
	OpRead
	OpWrite
	OpReadlink
	OpReaddir
	OpFsync
	OpSetattr // also truncate, chmod, utimes
)

var opNames = [...]string{
	OpLookup:   "lookup",
	OpGetattr:  "getattr",
	OpOpen:     "open",
	OpRead:     "read",
	OpWrite:    "write",
	OpReadlink: "readlink",
	OpReaddir:  "readdir",
	OpFsync:    "fsync",
	OpSetattr:  "setattr",
}

// Ops lists every operation.
func Ops() []Op {
	out := make([]Op, 0, len(opNames)-1)
	for op := range opNames[1:] {
		out = append(out, Op(op+1))
	}
	return out
}

func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// ParseOp reads an operation written as String writes it; "truncate" is
// accepted for OpSetattr.
func ParseOp(s string) (Op, error) {
	if s == "truncate" {
		return OpSetattr, nil
	}
	for op, n := range opNames {
		if n != "" && n == s {
			return Op(op), nil
		}
	}
	return 0, fmt.Errorf("unknown operation %q (want lookup, getattr, open, read, write, readlink, readdir, fsync, setattr or truncate)", s)
}

// Fault is a rule that makes matching calls fail, run short or run slow.
//
// A call matches when its operation is Op and the node's path matches Path.
// Of the matching calls, the first After pass untouched; the next ones are
// faulted, Times of them (0: forever). With 0 < Probability < 1 each of
// those is faulted only with that probability, drawn from a generator seeded
// with Seed, so a run can be reproduced; only calls actually faulted count
// towards Times.
type Fault struct {
	// Path is a path relative to the mount ("data/file") or a glob in
	// path.Match syntax, where a "**" component also matches any number of
	// components ("sys/**/size").
	Path string
	Op   Op
	// Errno is returned by a faulted call.
	Errno syscall.Errno
	// Short, for OpRead and OpWrite instead of Errno, makes a faulted call
	// transfer at most Short bytes.
	Short int
	// Delay is slept before a faulted call is answered; alone (no Errno,
	// no Short) it makes a slow call.
	Delay       time.Duration
	After       int
	Times       int
	Probability float64
	Seed        int64
}

// Validate reports why the rule cannot be applied: an unknown operation, a
// bad path or glob, both Errno and Short (or neither, nor a Delay), Short on
// an operation other than read or write, a probability outside [0, 1], or a
// negative count or delay.
func (f Fault) Validate() error {
	bad := func(format string, args ...any) error {
		return &fs.PathError{Op: "fault " + f.Op.String(), Path: f.Path,
			Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalidFault}, args...)...)}
	}
	if int(f.Op) < 1 || int(f.Op) >= len(opNames) {
		return bad("unknown operation %d", f.Op)
	}
	if _, err := compileGlob(f.Path); err != nil {
		return bad("path: %v", err)
	}
	switch {
	case f.Errno != 0 && f.Short != 0:
		return bad("a faulted call either fails (Errno) or runs short (Short), not both")
	case f.Errno >= 4096:
		return bad("errno %d out of range", int(f.Errno))
	case f.Short < 0:
		return bad("negative Short %d", f.Short)
	case f.Short > 0 && f.Op != OpRead && f.Op != OpWrite:
		return bad("Short applies to read and write only")
	case f.Errno == 0 && f.Short == 0 && f.Delay == 0:
		return bad("the rule does nothing: give Errno, Short or Delay")
	case f.Delay < 0:
		return bad("negative Delay %v", f.Delay)
	case !(f.Probability >= 0 && f.Probability <= 1):
		return bad("probability %v outside [0, 1]", f.Probability)
	case f.After < 0 || f.Times < 0:
		return bad("negative After or Times")
	}
	return nil
}
