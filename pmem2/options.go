package pmem2

import "path/filepath"

// Option configures SourceFromFD. The zero Option changes nothing.
//
// Option is a plain value rather than a function so that passing one costs
// no allocation: SourceFromFD is meant to be as cheap as the C call.
type Option struct {
	sysfsRoot string
	// procFD is the directory of the per-descriptor links, "/proc/self/fd"
	// when empty. Tests point it elsewhere to exercise the fallback walk
	// used when /proc is not mounted.
	procFD string
}

// DefaultSysfsRoot is where the C library reads sysfs: it is compiled in as
// "/sys" there.
const DefaultSysfsRoot = "/sys"

// WithSysfsRoot makes the source read sysfs under dir instead of "/sys":
// every path the C library (and libndctl behind it) reads below /sys moves
// with it. The device nodes libdaxctl stats, /dev/<name>, move with it to
// the directory "dev" beside dir (filepath.Join(filepath.Dir(dir), "dev"):
// "/dev" for "/sys"), which is where an emulated tree puts them. An empty
// dir keeps the default. It is the one seam a test needs to present an
// emulated Device DAX; nothing else about the source changes.
func WithSysfsRoot(dir string) Option { return Option{sysfsRoot: dir} }

// devRootFor is the directory of device nodes that goes with a sysfs
// root: "dev" beside it.
func devRootFor(sysfsRoot string) string {
	return filepath.Join(filepath.Dir(filepath.Clean(sysfsRoot)), "dev")
}

// apply folds opts into one configuration; later options win.
func apply(opts []Option) Option {
	c := Option{sysfsRoot: DefaultSysfsRoot, procFD: "/proc/self/fd"}
	for _, o := range opts {
		if o.sysfsRoot != "" {
			c.sysfsRoot = o.sysfsRoot
		}
		if o.procFD != "" {
			c.procFD = o.procFD
		}
	}
	return c
}
