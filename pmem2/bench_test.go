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

func BenchmarkSize(b *testing.B) {
	b.Run("devdax", func(b *testing.B) {
		src := benchDAX(b)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := src.Size(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAlignment(b *testing.B) {
	b.Run("devdax", func(b *testing.B) {
		src := benchDAX(b)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := src.Alignment(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSizeAlignment(b *testing.B) {
	b.Run("devdax", func(b *testing.B) {
		src := benchDAX(b)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := src.Size(); err != nil {
				b.Fatal(err)
			}
			if _, err := src.Alignment(); err != nil {
				b.Fatal(err)
			}
		}
	})
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
