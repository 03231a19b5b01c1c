package bench

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/emulate/nsrun"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// The enumeration benchmarks time the clients that open, read and list
// hundreds of sysfs files per call — the C libpmem2 through libndctl and
// libdaxctl, ndctl, daxctl, and the Go port — on a fixture and on a tmpfs
// copy of the same tree (fusefs.Tree.Materialize, which also makes the copy
// list directories in the mount's order), alternating the two in every
// iteration so that noise hits both alike. They report, besides ns/op (one
// iteration: both sides), medians over the iterations:
//
//	fuse-ns/call, tmpfs-ns/call   one call on each side
//	fuse/tmpfs                    their ratio, the number to quote
//	fuse-calls/call               requests that reached the FUSE server
//
// The C side runs testdata/enumbench.c under the namespace runner, as
// `pmem2emu exec` runs a program, timing its loop inside the process so
// that the start of a process does not dilute the ratio; the fixture is
// served by this process, as `pmem2emu exec` serves it. The fixtures are
// the default one without its two fault rules (on tmpfs they could not
// fire, and the C library would take other paths) and a small one with
// one Device DAX. Each runs with fusefs's default options and with
// KernelOpen (and, for the first call after Mount, with Prefetch too).
// Before timing, the C side checks that both trees give the same size and
// alignment, and ndctl and daxctl that they print the same.

//go:embed testdata/enumbench.c
var enumbenchSource []byte

// profile is one way of mounting the fixture.
type profile struct {
	name string
	opts fusefs.Options
}

var profiles = []profile{
	{"default", fusefs.Options{}},
	{"kernel-open", fusefs.Options{KernelOpen: true}},
}

// coldProfiles add Prefetch, which changes only what a first call finds.
var coldProfiles = slices.Concat(profiles, []profile{{"kernel-open-prefetch", fusefs.Options{KernelOpen: true, Prefetch: true}}})

// fixtureSpecs are the trees compared.
func fixtureSpecs() []struct {
	name string
	spec *emulate.Spec
} {
	def := emulate.Default()
	def.Faults = nil
	small := &emulate.Spec{DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Size: 1 << 30}}}
	return []struct {
		name string
		spec *emulate.Spec
	}{{"small", small}, {"default", def}}
}

// side is one tree a client runs against: the fixture (with its server, to
// count requests) or its tmpfs copy.
type side struct {
	sys, dev string
	srv      *fusefs.Server
}

func (s side) cfg() nsrun.Config { return nsrun.Config{Sys: s.sys, Dev: s.dev} }

// copies mounts spec with opts and materializes the same tree on a tmpfs.
func copies(b *testing.B, spec *emulate.Spec, opts fusefs.Options) (fuse, tmp side) {
	b.Helper()
	f := emutest.Start(b, spec, emulate.WithFusefsOptions(opts))
	dir := mountTmpfs(b)
	materialize(b, f.Spec(), dir)
	return side{sys: f.Sysfs(), dev: f.Dev(), srv: f.Server()},
		side{sys: filepath.Join(dir, "sys"), dev: filepath.Join(dir, "dev")}
}

// buildEnumbench compiles testdata/enumbench.c against the installed
// libpmem2 into a temporary directory.
func buildEnumbench(b *testing.B) string {
	b.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		b.Fatalf("gcc is needed to build the C benchmark program: %v (apt-get install -y gcc)", err)
	}
	dir := b.TempDir()
	src, exe := filepath.Join(dir, "enumbench.c"), filepath.Join(dir, "enumbench")
	if err := os.WriteFile(src, enumbenchSource, 0o600); err != nil {
		b.Fatal(err)
	}
	if out, err := exec.Command(gcc, "-O2", "-Wall", "-Werror", "-o", exe, src, "-lpmem2").CombinedOutput(); err != nil {
		b.Fatalf("gcc %s -lpmem2: %v\n%s\n\tit needs libpmem2.h and libpmem2.so: apt-get install -y libpmem2-dev", src, err, out)
	}
	return exe
}

// cResult is what one enumbench run printed.
type cResult struct {
	ns          float64
	size, align uint64
}

// runC runs enumbench with args under the namespace runner on s.
func runC(b *testing.B, s side, exe string, args ...string) cResult {
	b.Helper()
	cmd, err := nsrun.Command(s.cfg(), exe, args...)
	if err != nil {
		b.Fatal(err)
	}
	cmd.Env = append(os.Environ(), "DAXCTL_LOG=0", "NDCTL_LOG=0")
	out, err := cmd.Output()
	line := strings.TrimSpace(string(out))
	var r cResult
	if _, serr := fmt.Sscanf(line, "ns %g size %d align %d", &r.ns, &r.size, &r.align); err != nil || serr != nil {
		b.Fatalf("enumbench %s on %s: %q, %v", strings.Join(args, " "), s.sys, line, err)
	}
	return r
}

// pairs collects the samples of both sides and reports their medians.
type pairs struct{ fuse, tmpfs, calls, mount []float64 }

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

func (p *pairs) report(b *testing.B) {
	med := median
	f, t := med(p.fuse), med(p.tmpfs)
	b.ReportMetric(f, "fuse-ns/call")
	b.ReportMetric(t, "tmpfs-ns/call")
	b.ReportMetric(f/t, "fuse/tmpfs")
	if len(p.calls) > 0 {
		b.ReportMetric(med(p.calls), "fuse-calls/call")
	}
	if len(p.mount) > 0 {
		b.ReportMetric(med(p.mount), "mount-ns")
	}
}

// alternateC runs enumbench on both sides in every iteration, the FUSE
// side first, and requires both to return the same size and alignment.
// calls is how many library calls (or commands) one run makes after its
// warm-up, for the request count.
func alternateC(b *testing.B, fuse, tmp side, exe string, calls int, args ...string) {
	var p pairs
	for range b.N {
		fuse.srv.ResetCalls()
		fr := runC(b, fuse, exe, args...)
		p.calls = append(p.calls, float64(totalCalls(fuse.srv))/float64(calls+1))
		tr := runC(b, tmp, exe, args...)
		if fr.size != tr.size || fr.align != tr.align {
			b.Fatalf("FUSE gave size %d align %d, tmpfs size %d align %d: not the same work", fr.size, fr.align, tr.size, tr.align)
		}
		p.fuse = append(p.fuse, fr.ns)
		p.tmpfs = append(p.tmpfs, tr.ns)
	}
	p.report(b)
}

// BenchmarkEnumerate: C pmem2_source_size + pmem2_source_alignment of
// dax0.0 (pair), C pmem2_source_from_fd (classify), `ndctl list -NRD` and
// `daxctl list -R` 20 times, and the Go port's Size + Alignment, per
// profile and fixture.
func BenchmarkEnumerate(b *testing.B) {
	exe := buildEnumbench(b)
	for _, prof := range profiles {
		for _, fx := range fixtureSpecs() {
			b.Run(prof.name+"/"+fx.name, func(b *testing.B) {
				fuse, tmp := copies(b, fx.spec, prof.opts)
				checkToolsAgree(b, fuse, tmp)
				n := 50
				if fx.name == "default" {
					n = 10
				}
				b.Run("c-size-alignment", func(b *testing.B) {
					alternateC(b, fuse, tmp, exe, n, "pair", strconv.Itoa(n))
				})
				b.Run("c-classify", func(b *testing.B) {
					alternateC(b, fuse, tmp, exe, 200, "classify", "200")
				})
				b.Run("ndctl-list-NRD-x20", func(b *testing.B) {
					alternateC(b, fuse, tmp, exe, 20, "exec", "20", "ndctl", "list", "-NRD")
				})
				b.Run("daxctl-list-R-x20", func(b *testing.B) {
					alternateC(b, fuse, tmp, exe, 20, "exec", "20", "daxctl", "list", "-R")
				})
				b.Run("go-size-alignment", func(b *testing.B) { goSizeAlignment(b, fuse, tmp) })
			})
		}
	}
}

// checkToolsAgree makes sure ndctl and daxctl print the same on both
// sides, so that the comparison is of the same work.
func checkToolsAgree(b *testing.B, fuse, tmp side) {
	b.Helper()
	for _, args := range [][]string{{"ndctl", "list", "-NRD"}, {"daxctl", "list", "-R"}} {
		var outs []string
		for _, s := range []side{fuse, tmp} {
			cmd, err := nsrun.Command(s.cfg(), args[0], args[1:]...)
			if err != nil {
				b.Fatal(err)
			}
			cmd.Env = append(os.Environ(), "DAXCTL_LOG=0", "NDCTL_LOG=0")
			out, err := cmd.Output()
			if err != nil {
				b.Fatalf("%s on %s: %v (it needs ndctl and daxctl: apt-get install -y ndctl daxctl)", strings.Join(args, " "), s.sys, err)
			}
			outs = append(outs, string(out))
		}
		if outs[0] != outs[1] {
			b.Fatalf("%s prints differently on FUSE and on tmpfs:\n%s\n---\n%s", strings.Join(args, " "), outs[0], outs[1])
		}
	}
}

// goSizeAlignment times pmem2's Source.Size + Alignment of dev/dax0.0 in
// this process, alternating batches of 16 calls between the two sides.
func goSizeAlignment(b *testing.B, fuse, tmp side) {
	srcOf := func(s side) *pmem2.Source {
		fd := testutil.OpenFD(b, filepath.Join(s.dev, "dax0.0"), unix.O_PATH)
		src, err := pmem2.SourceFromFD(fd, pmem2.WithSysfsRoot(s.sys))
		if err != nil {
			b.Fatalf("SourceFromFD on %s: %v", s.sys, err)
		}
		b.Cleanup(func() { src.Delete() })
		return src
	}
	fs, ts := srcOf(fuse), srcOf(tmp)
	call := func(src *pmem2.Source) (uint64, uint64) {
		size, err := src.Size()
		if err != nil {
			b.Fatal(err)
		}
		align, err := src.Alignment()
		if err != nil {
			b.Fatal(err)
		}
		return size, align
	}
	if fsz, fal := call(fs); true {
		if tsz, tal := call(ts); fsz != tsz || fal != tal {
			b.Fatalf("FUSE gave size %d align %d, tmpfs size %d align %d", fsz, fal, tsz, tal)
		}
	}
	const batch = 16
	var p pairs
	for range b.N {
		fuse.srv.ResetCalls()
		for _, s := range []struct {
			src *pmem2.Source
			out *[]float64
		}{{fs, &p.fuse}, {ts, &p.tmpfs}} {
			start := time.Now()
			for range batch {
				call(s.src)
			}
			*s.out = append(*s.out, float64(time.Since(start).Nanoseconds())/batch)
		}
		p.calls = append(p.calls, float64(totalCalls(fuse.srv))/batch)
	}
	p.report(b)
}

// BenchmarkEnumerateCold times the first C pmem2_source_size of a process
// on a fixture mounted just before (every kernel cache empty, unless the
// profile prefetches) against the same on the tmpfs copy (which has no cold
// state). mount-ns is how long the Mount took.
func BenchmarkEnumerateCold(b *testing.B) {
	exe := buildEnumbench(b)
	for _, prof := range coldProfiles {
		for _, fx := range fixtureSpecs() {
			b.Run(prof.name+"/"+fx.name, func(b *testing.B) {
				_, tmp := copies(b, fx.spec, prof.opts)
				var p pairs
				for range b.N {
					b.StopTimer()
					dir := mkdir(b)
					start := time.Now()
					f, err := emulate.Mount(dir, fx.spec, emulate.WithFusefsOptions(prof.opts))
					if err != nil {
						b.Fatal(err)
					}
					p.mount = append(p.mount, float64(time.Since(start).Nanoseconds()))
					b.StartTimer()
					fuse := side{sys: f.Sysfs(), dev: f.Dev(), srv: f.Server()}
					fr := runC(b, fuse, exe, "cold")
					p.calls = append(p.calls, float64(totalCalls(f.Server())))
					if err := f.Close(); err != nil {
						b.Fatal(err)
					}
					tr := runC(b, tmp, exe, "cold")
					if fr.size != tr.size {
						b.Fatalf("FUSE gave size %d, tmpfs %d", fr.size, tr.size)
					}
					p.fuse = append(p.fuse, fr.ns)
					p.tmpfs = append(p.tmpfs, tr.ns)
				}
				p.report(b)
			})
		}
	}
}

func mkdir(b *testing.B) string {
	dir, err := os.MkdirTemp(b.TempDir(), "fixture")
	if err != nil {
		b.Fatal(err)
	}
	return dir
}
