package pmem2

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
// "<dir>/dev/char/M:m/subsystem", "<dir>/dev/char/M:m/size", the
// dax_region/align walk and its stop at "<dir>/devices" all move with it.
// An empty dir keeps the default. It is the one seam a test needs to
// present an emulated Device DAX; nothing else about the source changes.
func WithSysfsRoot(dir string) Option { return Option{sysfsRoot: dir} }

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
