package pmem2

import "strings"

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
// the directory "dev" beside dir, "<dir>/../dev" as the kernel resolves it
// ("/dev" for "/sys"), which is where an emulated tree puts them. An empty
// dir keeps the default. It is the one seam a test needs to present an
// emulated Device DAX; nothing else about the source changes.
func WithSysfsRoot(dir string) Option { return Option{sysfsRoot: dir} }

// devPath appends "<dev>/<name>" to dst: <dev> is the directory of device
// nodes that goes with the sysfs root, "dev" beside it as the kernel
// finds it (".." of the real directory, whatever links lead to it).
func devPath[N string | []byte](dst []byte, sysfsRoot string, name N) []byte {
	if sysfsRoot == DefaultSysfsRoot {
		dst = append(dst, "/dev"...)
	} else {
		dst = append(dst, strings.TrimSuffix(sysfsRoot, "/")...)
		dst = append(dst, "/../dev"...)
	}
	dst = append(dst, '/')
	return append(dst, name...)
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
