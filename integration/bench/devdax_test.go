package bench

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/internal/cref"
	"github.com/pmem2emu/pmem2emu/internal/cref/clib"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// BenchmarkDevDAXSizeAlignment times pmem2_source_size followed by
// pmem2_source_alignment on one Device DAX source, the port against the C
// library, on the same descriptor and tree, side by side: each iteration
// runs the pair once on each side, in alternating batches on one thread
// that sees the tree at /sys and /dev, so that noise hits both alike. It
// reports go-ns/op, c-ns/op and their ratio c/go (the number to quote),
// and on FUSE the requests that reached the server per pair on each side.
//
// Trees: the default fixture (dax0.0, which libndctl finds last of its 16
// devices) and a fixture of one Device DAX, each served by FUSE and copied
// to a tmpfs.
func BenchmarkDevDAXSizeAlignment(b *testing.B) {
	for _, tg := range devdaxTargets(b) {
		b.Run(tg.name, func(b *testing.B) {
			b.ReportAllocs()
			var goTime, cTime time.Duration
			var goCalls, cCalls uint64
			err := onThread(tg.sys, tg.dev, func(start func()) error {
				src, err := pmem2.SourceFromFD(tg.fd, pmem2.WithSysfsRoot("/sys"))
				if err != nil {
					return err
				}
				defer src.Delete()
				if err := sameSizeAlignment(src, tg.fd); err != nil {
					return err
				}
				count := func(into *uint64, f func() error) error {
					if tg.fuse == nil {
						return f()
					}
					if err := tg.fuse.resetCalls(); err != nil {
						return err
					}
					if err := f(); err != nil {
						return err
					}
					n, err := tg.fuse.calls()
					*into += n
					return err
				}
				start()
				const batch = 8
				for done := 0; done < b.N; done += batch {
					k := min(batch, b.N-done)
					if err := count(&goCalls, func() error {
						t0 := time.Now()
						defer func() { goTime += time.Since(t0) }()
						for range k {
							if _, err := src.Size(); err != nil {
								return err
							}
							if _, err := src.Alignment(); err != nil {
								return err
							}
						}
						return nil
					}); err != nil {
						return err
					}
					if err := count(&cCalls, func() error {
						t0 := time.Now()
						rc := clib.SizeAlignmentLoop(tg.fd, k)
						cTime += time.Since(t0)
						if rc != 0 {
							return pmem2.Code(rc)
						}
						return nil
					}); err != nil {
						return err
					}
				}
				b.StopTimer()
				return nil
			}, b.ResetTimer)
			if err != nil {
				b.Fatalf("%s: %v", tg.name, err)
			}
			b.ReportMetric(float64(goTime.Nanoseconds())/float64(b.N), "go-ns/op")
			b.ReportMetric(float64(cTime.Nanoseconds())/float64(b.N), "c-ns/op")
			b.ReportMetric(float64(cTime)/float64(goTime), "c/go")
			if tg.fuse != nil {
				b.ReportMetric(float64(goCalls)/float64(b.N), "go-fuse-calls/op")
				b.ReportMetric(float64(cCalls)/float64(b.N), "c-fuse-calls/op")
			}
		})
	}
}

// sameSizeAlignment checks, from the thread that sees the tree at /sys,
// that both libraries give the same size and alignment, so the benchmark
// times two ways to one answer.
func sameSizeAlignment(src *pmem2.Source, fd int) error {
	size, err := src.Size()
	if err != nil {
		return err
	}
	align, err := src.Alignment()
	if err != nil {
		return err
	}
	cSizeRC, cSize := clib.Size(fd)
	cAlignRC, cAlign := clib.Alignment(fd)
	if cSizeRC != 0 || cAlignRC != 0 || cSize != size || cAlign != align {
		return fmt.Errorf("Go: size %d, alignment %d; C: size %d (code %d), alignment %d (code %d)",
			size, align, cSize, cSizeRC, cAlign, cAlignRC)
	}
	return nil
}

// devdaxTargets mounts the default fixture and a one-device fixture,
// copies both to a tmpfs and opens dax0.0 (O_PATH) on each. The C library
// runs in this process, where a crash would take the FUSE servers down:
// the C probe, in a child under the namespace runner, sees each tree first.
func devdaxTargets(b *testing.B) []target {
	b.Helper()
	asRootQuietly(b)
	tmpfs := mountTmpfs(b)
	probe := cref.Build(b)
	var targets []target
	for _, fx := range []struct {
		name string
		spec *emulate.Spec
	}{
		{"default", nil},
		{"one-device", &emulate.Spec{DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Size: 1 << 30, Align: 2 << 20}}}},
	} {
		f := emutest.Start(b, fx.spec).Fixture
		copyDir := filepath.Join(tmpfs, fx.name)
		materialize(b, f.Spec(), copyDir)
		for _, tg := range []target{
			{name: fx.name + "-fuse", fd: testutil.OpenFD(b, f.Path("dev/dax0.0"), unix.O_PATH), sys: f.Sysfs(), dev: f.Dev(),
				want: pmem2.FileTypeDevDAX, fuse: inProcess{f}},
			{name: fx.name + "-tmpfs", fd: testutil.OpenFD(b, filepath.Join(copyDir, "dev/dax0.0"), unix.O_PATH),
				sys: filepath.Join(copyDir, "sys"), dev: filepath.Join(copyDir, "dev"), want: pmem2.FileTypeDevDAX},
		} {
			for _, step := range []cref.Step{cref.StepSize, cref.StepAlignment} {
				r, err := tg.cProbe(probe, step)
				if err != nil || r.Signal != 0 || r.Call(step).RC != 0 {
					b.Fatalf("%s: the C probe on the same tree: %s (%v)", tg.name, r, err)
				}
			}
			targets = append(targets, tg)
		}
	}
	return targets
}
