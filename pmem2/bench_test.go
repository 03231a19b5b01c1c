package pmem2

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2/internal/crealpath"
)

// The fake sysfs lives in b.TempDir(), on the local disk: the NVDIMM tree
// of one Device DAX (busDAX), /dev/zero playing the device.

func BenchmarkSourceFromFD(b *testing.B) {
	b.Run("regular", func(b *testing.B) {
		fd := testutil.OpenFD(b, tempFile(b, "data"), unix.O_RDWR)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := SourceFromFD(fd); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("devdax", func(b *testing.B) {
		s := newSysfs(b)
		s.busDAX("1:5")
		fd := testutil.OpenFD(b, "/dev/zero", unix.O_RDWR)
		opt := WithSysfsRoot(s.root)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := SourceFromFD(fd, opt); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSize(b *testing.B) { b.Run("devdax", benchDAXCalls((*Source).Size)) }

func BenchmarkAlignment(b *testing.B) { b.Run("devdax", benchDAXCalls((*Source).Alignment)) }

func BenchmarkSizeAlignment(b *testing.B) {
	b.Run("devdax", benchDAXCalls((*Source).Size, (*Source).Alignment))
}

// benchDAXCalls times the calls, one after the other, on one source of
// benchDAX.
func benchDAXCalls(calls ...func(*Source) (uint64, error)) func(*testing.B) {
	return func(b *testing.B) {
		src := benchDAX(b)
		b.ReportAllocs()
		for b.Loop() {
			for _, call := range calls {
				if _, err := call(src); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

// BenchmarkDevDAXLookup compares the ways to the nd_dax of a Device DAX:
// the direct route Size and Alignment take, the exact lookup (libndctl's
// verdict, for functions that need it), and the walk in libndctl's order,
// taken when the direct route does not apply.
func BenchmarkDevDAXLookup(b *testing.B) {
	src := benchDAX(b)
	for _, c := range []struct {
		name string
		find func(d *ndDevice) bool
	}{
		{"direct", func(d *ndDevice) bool { return src.directDevDAX(d, lookupDevice) == "" }},
		{"exact", func(d *ndDevice) bool { return src.directDevDAX(d, lookupExact) == "" }},
		{"walk", func(d *ndDevice) bool { return src.walkDevDAX(d, lookupDevice) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var d ndDevice
			for b.Loop() {
				if !c.find(&d) {
					b.Fatal("not found")
				}
			}
		})
	}
}

func benchDAX(b *testing.B) *Source {
	s := newSysfs(b)
	s.busDAX("1:5")
	src, err := SourceFromFD(testutil.OpenFD(b, "/dev/zero", unix.O_RDWR), WithSysfsRoot(s.root))
	if err != nil {
		b.Fatal(err)
	}
	return src
}

// BenchmarkCanonical compares the ways of resolving a Device DAX's
// subsystem path: the kernel (openat + readlink of /proc/self/fd/N +
// close), the user-space fallback walk, and glibc's realpath as C calls it.
func BenchmarkCanonical(b *testing.B) {
	s := newSysfs(b)
	s.busDAX("1:5")
	path := s.root + "/dev/char/1:5/subsystem"
	b.Run("kernel", func(b *testing.B) {
		cpath := append([]byte(path), 0)
		var out [pathMax + 1]byte
		b.ReportAllocs()
		for b.Loop() {
			if _, errno := canonical(cpath, out[:], "/proc/self/fd"); errno != 0 {
				b.Fatal(errno)
			}
		}
	})
	b.Run("walk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, errno := realpathWalk(path); errno != 0 {
				b.Fatal(errno)
			}
		}
	})
	b.Run("glibc", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, errno := crealpath.Realpath(path); errno != 0 {
				b.Fatal(errno)
			}
		}
	})
}

// regionCalls are the four region functions, as benchmarks call them.
var regionCalls = []struct {
	name string
	call func(*Source) error
}{
	{"NumaNode", func(s *Source) error { _, err := s.NumaNode(); return err }},
	{"DeviceID", func(s *Source) error { _, err := s.DeviceID(); return err }},
	{"DeviceUSC", func(s *Source) error { _, err := s.DeviceUSC(); return err }},
	{"BadBlocks", func(s *Source) error { _, err := s.BadBlocks(); return err }},
}

// BenchmarkRegionFunctions times NumaNode, DeviceID, DeviceUSC and
// BadBlocks on the Device DAX of one NFIT DIMM whose region lists two bad
// blocks (devdax), and on a regular file of an fsdax namespace of that
// region with bad blocks in its extents (regular: the namespace walk, and
// FIEMAP for BadBlocks).
func BenchmarkRegionFunctions(b *testing.B) {
	for _, tg := range []struct {
		name string
		src  func(b *testing.B) *Source
	}{{"devdax", benchRegionDAX}, {"regular", benchRegionFile}} {
		for _, c := range regionCalls {
			b.Run(tg.name+"/"+c.name, func(b *testing.B) {
				src := tg.src(b)
				b.ReportAllocs()
				for b.Loop() {
					if err := c.call(src); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// regionBenchTree is the Device DAX of BenchmarkRegionFunctions.
var regionBenchTree = withBadblocks("8 8\n1024 1\n")

func benchRegionDAX(b *testing.B) *Source {
	s := newSysfs(b)
	regionBenchTree(s)
	src, err := SourceFromFD(testutil.OpenFD(b, "/dev/zero", unix.O_PATH), WithSysfsRoot(s.root))
	if err != nil {
		b.Fatal(err)
	}
	return src
}

func benchRegionFile(b *testing.B) *Source {
	s := newSysfs(b)
	fileOn(pmemNamespace{n: 1, mode: "memory", bdev: "pmem0"})(s)
	src, err := SourceFromFD(testutil.OpenFD(b, s.base+"/data", unix.O_RDONLY), WithSysfsRoot(s.root))
	if err != nil {
		b.Fatal(err)
	}
	return src
}
