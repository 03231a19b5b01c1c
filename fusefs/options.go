package fusefs

import "time"

// defaultTimeout is how long the kernel may cache entries, attributes and
// negative lookups by default. Every change the server makes is notified to
// the kernel, so a long timeout costs no staleness.
const defaultTimeout = time.Minute

// Options configure a mount. The zero value (or a nil *Options) is a
// private nodev,nosuid mount with kernel caching on.
type Options struct {
	// EntryTimeout, AttrTimeout and NegativeTimeout are how long the
	// kernel may cache a name, a node's attributes and a name's absence.
	// Zero means one minute. Nodes a fault rule watches are never cached.
	EntryTimeout, AttrTimeout, NegativeTimeout time.Duration
	// NoCache turns all kernel caching off (timeouts zero, no symlink
	// caching, no page or listing cache): every call reaches the server.
	// For comparisons.
	NoCache bool
	// KernelOpen lets the kernel open files and directories without
	// asking the server (FUSE's no-open), for clients that open hundreds
	// of files: warm, they cost no round trip. Opens are then neither
	// counted nor seen by the server (the kernel checks permissions:
	// default_permissions), and rules on open or shortening reads are
	// refused: see Kernel caching in the package documentation.
	KernelOpen bool
	// Prefetch fills the kernel's caches before Mount returns, so the
	// first client finds them warm: every directory is listed (a round
	// trip each) and, with KernelOpen, small files and link targets go
	// to the page cache. Nodes a rule watches are left alone.
	Prefetch bool
	// DeviceMode mounts without nodev, so device nodes open the real
	// device: allowed only when every device node is a harmless memory
	// device (char 1:3 null, 1:5 zero, 1:7 full, 1:8 random, 1:9
	// urandom), at Mount and at every Set. Needs root.
	DeviceMode bool
	// AllowOther lets other users use the mount (allow_other).
	AllowOther bool
	// Force allows mounting on a non-empty directory.
	Force bool
	// Faults are the rules in force from the start.
	Faults []Fault
	// FsName is the mount source shown in /proc/self/mountinfo; default
	// "pmem2emu".
	FsName string
	// Debug logs every FUSE request and reply.
	Debug bool
	// OnBusy, when set, is called with the mount point when Close finds
	// the mount busy: a descriptor, a working directory or a call in
	// progress holds it (see Server.Close).
	OnBusy func(dir string)
}

func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	if out.NoCache {
		out.EntryTimeout, out.AttrTimeout, out.NegativeTimeout = 0, 0, 0
	} else {
		for _, d := range []*time.Duration{&out.EntryTimeout, &out.AttrTimeout, &out.NegativeTimeout} {
			if *d <= 0 {
				*d = defaultTimeout
			}
		}
	}
	if out.FsName == "" {
		out.FsName = fsType
	}
	return out
}
