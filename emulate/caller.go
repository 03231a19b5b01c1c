package emulate

import "os"

// Caller is who runs a check, for the expectations that depend on it
// (Expect.AsRoot, Expect.AsUser): root passes every permission check the
// kernel and the fixture make, while any other user meets the modes and
// owners of the nodes — an EACCES opening a root-owned 0600 file, or
// reading the 0400 dax_region/align of a Device DAX, as on real hardware.
type Caller string

const (
	CallerRoot Caller = "root" // effective uid 0
	CallerUser Caller = "user" // any other effective uid
)

// CurrentCaller is the caller this process is: CallerRoot when its
// effective uid is 0.
func CurrentCaller() Caller {
	if os.Geteuid() == 0 {
		return CallerRoot
	}
	return CallerUser
}

// ForCaller returns the outcome expected for mode when c checks: the one
// AsRoot or AsUser gives for c, else the one For gives; nil when none.
func (e *Expect) ForCaller(c Caller, m OpenMode) *Outcome {
	if o := e.variant(c).For(m); o != nil {
		return o
	}
	return e.For(m)
}

// variant is the part of e that holds only for c, or nil.
func (e *Expect) variant(c Caller) *Expect {
	switch {
	case e == nil:
		return nil
	case c == CallerRoot:
		return e.AsRoot
	case c == CallerUser:
		return e.AsUser
	}
	return nil
}
