package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/emulate/nsrun"
	"github.com/pmem2emu/pmem2emu/internal/cref"
	"github.com/pmem2emu/pmem2emu/internal/cref/clib"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// target is one descriptor both libraries classify.
type target struct {
	name string
	fd   int
	// sys and dev, when set, are bound over /sys and /dev in the timed
	// thread's private mount namespace: the C library reads sysfs only at
	// /sys, and libdaxctl (behind pmem2_source_alignment) finds a Device
	// DAX only when /dev/<name> has its device number.
	sys, dev string
	want     pmem2.FileType
	// fuse, when set, counts the FUSE requests of the timed loop at the
	// server of the descriptor or its sysfs.
	fuse counter
}

func BenchmarkSourceFromFD(b *testing.B) {
	targets := setup(b)
	for _, tg := range targets {
		b.Run(tg.name, func(b *testing.B) {
			b.Run("go", func(b *testing.B) {
				opt := pmem2.WithSysfsRoot("/sys")
				timed(b, tg, func(n int) error {
					for i := 0; i < n; i++ {
						src, err := pmem2.SourceFromFD(tg.fd, opt)
						if err != nil {
							return err
						}
						src.Delete()
					}
					return nil
				})
			})
			b.Run("c", func(b *testing.B) {
				timed(b, tg, func(n int) error {
					if rc := clib.SourceFromFDLoop(tg.fd, n); rc != 0 {
						return pmem2.Code(rc)
					}
					return nil
				})
			})
		})
	}
}

// setup mounts the default fixture, copies its tree to a tmpfs, makes a
// local file and opens the four descriptors, each checked first with the
// C probe where the C library will read the fake sysfs.
func setup(b *testing.B) []target {
	b.Helper()
	asRootQuietly(b)
	f := emutest.Start(b, nil).Fixture
	// The same fixture with every kernel cache off: each lookup, getattr
	// and readlink reaches the server, so the cost of a path walk is its
	// FUSE round trips. Served by another process (server_test.go).
	nocache := startNoCacheServer(b)
	tmpfs := mountTmpfs(b)
	materialize(b, f.Spec(), tmpfs)
	local := filepath.Join(b.TempDir(), "file")
	if err := os.WriteFile(local, []byte("hello, pmem\n"), 0o644); err != nil {
		b.Fatal(err)
	}

	targets := []target{
		{name: "local-file", fd: testutil.OpenFD(b, local, unix.O_RDONLY), want: pmem2.FileTypeRegular},
		{name: "fuse-file", fd: testutil.OpenFD(b, f.Path("data/small"), unix.O_RDONLY), want: pmem2.FileTypeRegular, fuse: inProcess{f}},
		{name: "fuse-devdax", fd: testutil.OpenFD(b, f.Path("dev/dax0.0"), unix.O_PATH),
			sys: f.Sysfs(), dev: f.Dev(), want: pmem2.FileTypeDevDAX, fuse: inProcess{f}},
		{name: "fuse-nocache-devdax", fd: testutil.OpenFD(b, nocache.Path("dev/dax0.0"), unix.O_PATH),
			sys: nocache.Path("sys"), dev: nocache.Path("dev"), want: pmem2.FileTypeDevDAX, fuse: nocache},
		{name: "tmpfs-devdax", fd: testutil.OpenFD(b, filepath.Join(tmpfs, "dev/dax0.0"), unix.O_PATH),
			sys: filepath.Join(tmpfs, "sys"), dev: filepath.Join(tmpfs, "dev"), want: pmem2.FileTypeDevDAX},
	}
	// The in-process C library must not crash: that would take the FUSE
	// server down with the test and leave its mount hanging. A probe
	// process under the namespace runner, seeing the same trees, goes
	// first.
	probe := cref.Build(b)
	for _, tg := range targets {
		if tg.sys == "" {
			continue
		}
		r, err := tg.cProbe(probe, cref.StepAlignment)
		if err != nil || r.Signal != 0 || r.Alignment.RC != 0 || r.Alignment.Value != 2<<20 {
			b.Fatalf("%s: the C probe on the same tree: %s (%v); want alignment 2097152", tg.name, r, err)
		}
	}
	return targets
}

// timed checks that both libraries classify tg alike and then times
// loop(b.N), in a thread that sees tg.sys at /sys when tg has one.
func timed(b *testing.B, tg target, loop func(n int) error) {
	b.Helper()
	b.ReportAllocs()
	var fuse uint64
	err := onThread(tg.sys, tg.dev, func(start func()) error {
		if err := classifyAlike(tg); err != nil {
			return err
		}
		if tg.fuse != nil {
			if err := tg.fuse.resetCalls(); err != nil {
				return err
			}
		}
		start()
		err := loop(b.N)
		b.StopTimer()
		if err == nil && tg.fuse != nil {
			fuse, err = tg.fuse.calls()
		}
		return err
	}, b.ResetTimer)
	if err != nil {
		b.Fatalf("%s: %v", tg.name, err)
	}
	if tg.fuse != nil {
		b.ReportMetric(float64(fuse)/float64(b.N), "fuse-calls/op")
	}
}

// onThread runs fn on a goroutine locked to a fresh OS thread. With sys
// set, the thread first gets a private mount namespace where sys is bound
// over /sys; the thread is never unlocked, so it exits with the goroutine
// and the namespace dies with it. fn calls start (which runs reset, in
// practice b.ResetTimer) when the set-up is done.
func onThread(sys, dev string, fn func(start func()) error, reset func()) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if sys != "" {
			if err := privateSys(sys, dev); err != nil {
				done <- err
				return
			}
		}
		done <- fn(reset)
	}()
	return <-done
}

// privateSys unshares the calling thread's mount namespace and binds sys
// over /sys and dev over /dev in it. / is made recursively private first,
// so nothing propagates to the host's mounts.
func privateSys(sys, dev string) error {
	if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare(CLONE_NEWNS|CLONE_FS): %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("mount --make-rprivate /: %w", err)
	}
	if err := unix.Mount(sys, "/sys", "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("mount --rbind %s /sys: %w", sys, err)
	}
	if err := unix.Mount(dev, "/dev", "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("mount --bind %s /dev: %w", dev, err)
	}
	return nil
}

// classifyAlike makes sure that, seen from this thread, both libraries
// make the same kind of source from tg.fd: same code, the expected type
// on the Go side, and the same alignment (Device DAX: the nd_dax's align,
// C's through libndctl, Go's read directly; regular file: the page size).
func classifyAlike(tg target) error {
	src, err := pmem2.SourceFromFD(tg.fd, pmem2.WithSysfsRoot("/sys"))
	if rc := clib.SourceFromFD(tg.fd); rc != pmem2.CodeOf(err) || err != nil {
		return fmt.Errorf("pmem2_source_from_fd: C %d, Go %v", rc, err)
	}
	defer src.Delete()
	if src.Type() != tg.want {
		return fmt.Errorf("Go classifies the descriptor as %v, want %v", src.Type(), tg.want)
	}
	goAlign, err := src.Alignment()
	cRC, cAlign := clib.Alignment(tg.fd)
	if err != nil || cRC != 0 || goAlign != cAlign {
		return fmt.Errorf("alignment: Go %d (%v), C %d (code %d)", goAlign, err, cAlign, cRC)
	}
	if tg.want == pmem2.FileTypeDevDAX && goAlign == uint64(os.Getpagesize()) {
		return fmt.Errorf("alignment %d is the page size: the C side took the descriptor for a regular file", goAlign)
	}
	return nil
}

// asRootQuietly fails a benchmark not run as root, and keeps the logs of
// libdaxctl and libndctl quiet: the default fixture's broken devices
// (dax5.0, dax6.1) make them complain on every enumeration behind the C
// alignment check (they read these at each ndctl_new).
func asRootQuietly(b *testing.B) {
	b.Helper()
	if os.Geteuid() != 0 {
		b.Fatal("the benchmarks mount (a tmpfs, /sys in a private namespace): run them as root")
	}
	b.Setenv("DAXCTL_LOG", "0")
	b.Setenv("NDCTL_LOG", "0")
}

// materialize copies the tree of spec to dir.
func materialize(b *testing.B, spec *emulate.Spec, dir string) {
	b.Helper()
	tree, err := spec.Tree()
	if err != nil {
		b.Fatal(err)
	}
	if err := tree.Materialize(dir); err != nil {
		b.Fatalf("materializing the fixture on %s: %v", dir, err)
	}
}

// cProbe runs the C probe on /dev/dax0.0 (O_PATH) for step, under the
// namespace runner with tg's sys and dev, in a process of its own: a
// crash there takes nothing of this one down.
func (tg target) cProbe(probe string, step cref.Step) (cref.Result, error) {
	return cref.Run(runnerFunc(func(name string, args ...string) (*exec.Cmd, error) {
		return nsrun.Command(nsrun.Config{Sys: tg.sys, Dev: tg.dev}, name, args...)
	}), probe, "/dev/dax0.0", "path", step)
}

// runnerFunc adapts a function to cref.Runner.
type runnerFunc func(name string, args ...string) (*exec.Cmd, error)

func (r runnerFunc) Command(name string, args ...string) (*exec.Cmd, error) { return r(name, args...) }

// mountTmpfs mounts a private nodev tmpfs (device nodes on it never open)
// on a temporary directory and unmounts it in b.Cleanup.
func mountTmpfs(b *testing.B) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	if err := unix.Mount("pmem2emu-bench", dir, "tmpfs", unix.MS_NODEV|unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0700,size=64m"); err != nil {
		b.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	b.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			b.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// BenchmarkClassifySteps times, on every target and in the same kind of
// thread, the pieces the two calls are made of: the fcntl(F_GETFL) and
// fstat both sides make, from C and from Go; the Go side's allocation and
// Delete of a Source (SourceFromAnon, no system call); and on the Device
// DAX targets C's realpath(3) of sys/dev/char/M:m/subsystem (one readlink
// per component and link) against the port's openat(O_PATH)+close and
// readlink of /proc/self/fd/N. It explains the ratios of
// BenchmarkSourceFromFD.
func BenchmarkClassifySteps(b *testing.B) {
	for _, tg := range setup(b) {
		var st unix.Stat_t
		if err := unix.Fstat(tg.fd, &st); err != nil {
			b.Fatal(err)
		}
		type step struct {
			name string
			loop func(n int) error
		}
		steps := []step{
			{"c-fcntl", func(n int) error { return clib.FcntlLoop(tg.fd, n) }},
			{"go-fcntl", func(n int) error {
				for i := 0; i < n; i++ {
					if _, err := unix.FcntlInt(uintptr(tg.fd), unix.F_GETFL, 0); err != nil {
						return err
					}
				}
				return nil
			}},
			{"c-fstat", func(n int) error { return clib.FstatLoop(tg.fd, n) }},
			{"go-fstat", func(n int) error {
				var st unix.Stat_t
				for i := 0; i < n; i++ {
					if err := unix.Fstat(tg.fd, &st); err != nil {
						return err
					}
				}
				return nil
			}},
			{"go-alloc-delete", func(n int) error {
				for i := 0; i < n; i++ {
					src, _ := pmem2.SourceFromAnon(4096)
					src.Delete()
				}
				return nil
			}},
		}
		if tg.sys != "" {
			subsystem := fmt.Sprintf("/sys/dev/char/%d:%d/subsystem", unix.Major(st.Rdev), unix.Minor(st.Rdev))
			steps = append(steps,
				step{"c-realpath", func(n int) error { return clib.RealpathLoop(subsystem, n) }},
				step{"go-openat-close", func(n int) error {
					for i := 0; i < n; i++ {
						fd, err := unix.Open(subsystem, unix.O_PATH|unix.O_CLOEXEC, 0)
						if err != nil {
							return err
						}
						unix.Close(fd)
					}
					return nil
				}},
				step{"go-readlink-procfd", func(n int) error {
					fd, err := unix.Open(subsystem, unix.O_PATH|unix.O_CLOEXEC, 0)
					if err != nil {
						return err
					}
					defer unix.Close(fd)
					link, buf := fmt.Sprintf("/proc/self/fd/%d", fd), make([]byte, 4096)
					for i := 0; i < n; i++ {
						if _, err := unix.Readlink(link, buf); err != nil {
							return err
						}
					}
					return nil
				}})
		}
		b.Run(tg.name, func(b *testing.B) {
			for _, s := range steps {
				b.Run(s.name, func(b *testing.B) { timed(b, tg, s.loop) })
			}
		})
	}
}
