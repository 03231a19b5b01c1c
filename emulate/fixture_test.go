package emulate_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// healthy is a fixture of sound devices in both sysfs models, two to a
// region, on two NUMA nodes, plus fsdax pmem.
func healthy() *emulate.Spec {
	return &emulate.Spec{
		DAXDevices: []emulate.DAXDevice{
			{Name: "dax0.0", Minor: 0, Size: 1 << 30, Align: 2 << 20, NUMANode: 0},
			{Name: "dax0.1", Minor: 1, Size: 4 << 30, Align: 1 << 30, NUMANode: 0},
			{Name: "dax1.0", Minor: 2, Size: 512 << 20, Align: 4096, NUMANode: 1, Subsystem: "class"},
			{Name: "dax1.1", Minor: 3, Size: 256 << 20, Align: 2 << 20, NUMANode: 1, Subsystem: "class"},
			{Name: "dax3.0", Minor: 4, Size: 2 << 30, Align: 2 << 20, NUMANode: 1},
		},
		PmemDevices: []emulate.PmemDevice{
			{Name: "pmem0", Size: 1 << 30, NUMANode: 0},
			{Name: "pmem1", Minor: 1, Size: 2 << 30, NUMANode: 1},
		},
	}
}

// Every expectation of the default fixture holds for pmem2 on real
// descriptors of the mounted fixture.
func TestDefaultFixtureMeetsItsExpectations(t *testing.T) {
	f := emulate.Start(t, nil)
	checks := f.Spec().Checks()
	if len(checks) < 100 {
		t.Fatalf("only %d checks in the default fixture", len(checks))
	}
	for _, c := range checks {
		t.Run(fmt.Sprintf("%s %s", c.Path, c.Mode), func(t *testing.T) {
			got := observe(f.Path(c.Path), f.Sysfs(), c.Mode)
			if m := c.Expect.Mismatches(got); len(m) > 0 {
				t.Errorf("%s (%s) in mode %s: want %s, got %s: %v", c.Path, c.Source, c.Mode, c.Expect.String(), got, m)
			}
		})
	}
}

// Each declared Device DAX is classified DevDAX by pmem2 with its declared
// size and alignment, in both sysfs models.
func TestEachDeviceDAXIsClassifiedWithItsDeclaredSizeAndAlignment(t *testing.T) {
	f := emulate.Start(t, healthy())
	for _, d := range f.Spec().DAXDevices {
		t.Run(d.Name, func(t *testing.T) {
			fd, err := unix.Open(f.Path("dev/"+d.Name), unix.O_PATH|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			src, err := pmem2.SourceFromFD(fd, pmem2.WithSysfsRoot(f.Sysfs()))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Delete()
			if src.Type() != pmem2.FileTypeDevDAX {
				t.Errorf("type %v, want devdax", src.Type())
			}
			if size, err := src.Size(); err != nil || size != d.Size {
				t.Errorf("Size = %d, %v; want %d", size, err, d.Size)
			}
			if align, err := src.Alignment(); err != nil || align != d.Align {
				t.Errorf("Alignment = %d, %v; want %d", align, err, d.Align)
			}
		})
	}
}

// realpath of every Device DAX's subsystem, through the kernel and the
// mount, ends in dax; the mem device's in mem.
func TestEverySubsystemResolvesToDax(t *testing.T) {
	f := emulate.Start(t, nil)
	for _, d := range f.Spec().DAXDevices {
		p := f.Path(fmt.Sprintf("sys/dev/char/%d:%d/subsystem", d.Major, d.Minor))
		real, err := filepath.EvalSymlinks(p)
		switch d.Name {
		case "dax6.0": // the default replaces its link on purpose
			if err != nil || filepath.Base(real) != "mem" {
				t.Errorf("%s: %s resolves to %q, %v; want …/mem", d.Name, p, real, err)
			}
			continue
		}
		if err != nil || filepath.Base(real) != "dax" {
			t.Errorf("%s: %s resolves to %q, %v; want …/dax", d.Name, p, real, err)
		}
		want := "bus"
		if d.Subsystem == "class" {
			want = "class"
		}
		if filepath.Base(filepath.Dir(real)) != want {
			t.Errorf("%s: subsystem is %s, want %s/dax", d.Name, real, want)
		}
	}
	real, err := filepath.EvalSymlinks(f.Path("sys/dev/char/1:5/subsystem"))
	if err != nil || filepath.Base(real) != "mem" {
		t.Errorf("1:5 subsystem resolves to %q, %v", real, err)
	}
}

// A device node on the mount reports the declared type and rdev, and the
// mount is nodev: opening it fails with EACCES while O_PATH works.
func TestDeviceNodesHaveTheirRdevAndDoNotOpen(t *testing.T) {
	f := emulate.Start(t, healthy())
	var st unix.Stat_t
	if err := unix.Stat(f.Path("dev/dax0.1"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != emulate.DefaultDAXMajor || unix.Minor(st.Rdev) != 1 {
		t.Errorf("dev/dax0.1: mode %#o rdev %d:%d", st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev))
	}
	if err := unix.Stat(f.Path("dev/pmem1"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFBLK || unix.Major(st.Rdev) != 259 {
		t.Errorf("dev/pmem1: %v mode %#o", err, st.Mode)
	}
	if _, err := unix.Open(f.Path("dev/dax0.0"), unix.O_RDWR, 0); !errors.Is(err, syscall.EACCES) {
		t.Errorf("open O_RDWR on a nodev mount: %v, want EACCES", err)
	}
	if !mounted(t, f.Root(), "nodev") {
		t.Errorf("%s is not mounted nodev", f.Root())
	}
}

// Runtime changes reach pmem2 at once: new content, a fault, a retargeted
// link, a removed entry.
func TestRuntimeChangesAreSeenByTheNextCall(t *testing.T) {
	f := emulate.Start(t, oneDAX(emulate.DAXDevice{Name: "dax0.0", Size: 1 << 30}))
	size := func() (uint64, int) {
		r := observe(f.Path("dev/dax0.0"), f.Sysfs(), emulate.ModePath)
		if r.FromFD != 0 {
			return 0, int(r.FromFD)
		}
		return r.Size, int(r.SizeRC)
	}
	if s, rc := size(); s != 1<<30 || rc != 0 {
		t.Fatalf("size %d rc %d before any change", s, rc)
	}
	if err := f.WriteFile(dax00+"/size", []byte("4096\n")); err != nil {
		t.Fatal(err)
	}
	if s, rc := size(); s != 4096 || rc != 0 {
		t.Errorf("after WriteFile: size %d rc %d, want 4096", s, rc)
	}
	if err := f.AddFault(emulate.Fault{Path: "sys/**/dax0.0/size", Op: "read", Errno: "EIO"}); err != nil {
		t.Fatal(err)
	}
	if _, rc := size(); rc != -5 {
		t.Errorf("with a read fault: rc %d, want -EIO", rc)
	}
	if err := f.SetFaults([]emulate.Fault{{Path: dax00 + "/size", Op: "open", Errno: "EACCES"}}); err != nil {
		t.Fatal(err)
	}
	if _, rc := size(); rc != -13 {
		t.Errorf("with an open fault: rc %d, want -EACCES", rc)
	}
	f.ClearFaults()
	if s, rc := size(); s != 4096 || rc != 0 {
		t.Errorf("after ClearFaults: size %d rc %d", s, rc)
	}
	if err := f.SetTarget(dax00+"/subsystem", "../../../../../../../class/mem"); err != nil {
		t.Fatal(err)
	}
	if _, rc := size(); rc != -2 {
		t.Errorf("subsystem → a missing class/mem: from_fd %d, want -ENOENT", rc)
	}
	if err := f.SetTarget(dax00+"/subsystem", "../../../../../../../bus/nd"); err != nil {
		t.Fatal(err)
	}
	if _, rc := size(); rc != int(pmem2.ErrInvalidFileType) {
		t.Errorf("subsystem → bus/nd: from_fd %d, want INVALID_FILE_TYPE", rc)
	}
	if err := f.Remove("sys/dev/char/252:0"); err != nil {
		t.Fatal(err)
	}
	if _, rc := size(); rc != -2 {
		t.Errorf("without sys/dev/char/252:0: from_fd %d, want -ENOENT", rc)
	}
	if err := f.SetNode(emulate.Node{Path: "sys/dev/char/252:0", Type: "symlink", Target: "../../devices/platform/e820_pmem/ndbus0/region0/dax0.1/dax0.0"}); err != nil {
		t.Fatal(err)
	}
	if err := f.SetTarget(dax00+"/subsystem", "../../../../../../../bus/dax"); err != nil {
		t.Fatal(err)
	}
	if s, rc := size(); s != 4096 || rc != 0 {
		t.Errorf("after restoring the links: size %d rc %d", s, rc)
	}
	if err := f.SetNode(emulate.Node{Path: "data/../x", Type: "file"}); !errors.Is(err, emulate.ErrInvalidSpec) {
		t.Errorf("SetNode with a bad path: %v", err)
	}
	if err := f.AddFault(emulate.Fault{Path: "x", Op: "mmap", Errno: "EIO"}); !errors.Is(err, emulate.ErrInvalidSpec) {
		t.Errorf("AddFault with a bad op: %v", err)
	}
	if err := f.WriteFile("data/new", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(f.Path("data/new")); err != nil || string(b) != "hi" {
		t.Errorf("data/new: %q, %v", b, err)
	}
}

// The spec's faults are active from the start; the fixture counts calls.
func TestSpecFaultsApplyFromTheStart(t *testing.T) {
	f := emulate.Start(t, &emulate.Spec{
		Nodes:  []emulate.Node{{Path: "data/f", Type: "file", Content: "x"}},
		Faults: []emulate.Fault{{Path: "data/f", Op: "read", Errno: "EIO", After: 1, Times: 1}},
	})
	fd, err := unix.Open(f.Path("data/f"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	buf := make([]byte, 8)
	for i, want := range []error{nil, syscall.EIO, nil} {
		_, err := unix.Pread(fd, buf, 0)
		if !errors.Is(err, want) && !(want == nil && err == nil) {
			t.Errorf("read %d: %v, want %v", i, err, want)
		}
	}
	if n := f.Server().Calls("data/f", fusefs.OpRead); n < 3 {
		t.Errorf("%d reads counted", n)
	}
}

func TestCloseIsIdempotentAndLeavesNoMount(t *testing.T) {
	dir := t.TempDir()
	f, err := emulate.Mount(dir, healthy())
	if err != nil {
		t.Fatal(err)
	}
	if !mounted(t, dir, "") {
		t.Fatalf("%s not in /proc/self/mountinfo", dir)
	}
	for range 3 {
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if mounted(t, dir, "") {
		t.Errorf("%s still mounted after Close", dir)
	}
}

func TestAnInvalidSpecMountsNothing(t *testing.T) {
	dir := t.TempDir()
	_, err := emulate.Mount(dir, &emulate.Spec{Nodes: []emulate.Node{{Path: "/abs", Type: "file"}}})
	if !errors.Is(err, emulate.ErrInvalidSpec) || !strings.Contains(err.Error(), "nodes[0].path") {
		t.Errorf("Mount: %v", err)
	}
	if mounted(t, dir, "") {
		t.Error("mounted anyway")
	}
	msg := fatalOf(t, func(tb testing.TB) {
		emulate.Start(tb, &emulate.Spec{DAXDevices: []emulate.DAXDevice{{Name: "dax0"}}})
	})
	if !strings.Contains(msg, "dax_devices[0].name") || !strings.Contains(msg, "bad-dax-name") {
		t.Errorf("Start failed with %q", msg)
	}
}

func TestStartNamesTheRemedyWhenFUSEIsMissing(t *testing.T) {
	msg := emulate.StartFailure(fmt.Errorf("mount /x: %w: /dev/fuse does not exist", fusefs.ErrNoFuse))
	for _, want := range []string{"/dev/fuse", "apt-get install -y fuse3", "--device /dev/fuse"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

// The tree generated for a spec behaves the same written to a real
// directory: pmem2 classifies it identically.
func TestTheMaterializedTreeClassifiesLikeTheMount(t *testing.T) {
	s := emulate.Default()
	tree, err := s.Tree()
	if err != nil {
		t.Fatal(err)
	}
	f := emulate.Start(t, s)
	dir := t.TempDir()
	inPrivateNodevTmpfs(t, dir, func() {
		if err := tree.Materialize(dir); err != nil {
			t.Errorf("materialize: %v", err)
			return
		}
		compareWithDisk(t, s, f, dir)
	})
}

func compareWithDisk(t *testing.T, s *emulate.Spec, f *emulate.Fixture, dir string) {
	compared := 0
	defer func() {
		if compared < 18 {
			t.Errorf("only %d nodes compared", compared)
		}
	}()
	for _, c := range s.Checks() {
		if c.Mode != emulate.ModePath || strings.HasPrefix(c.Path, "data/") {
			// Only O_PATH opens: the materialized nodes are real devices
			// on a filesystem that allows them. data/ has faults and
			// FIFOs that only the mount serves.
			continue
		}
		if c.Path == "dev/dax5.0" {
			continue // its read fault exists only on the mount
		}
		compared++
		onDisk := observe(filepath.Join(dir, c.Path), filepath.Join(dir, "sys"), c.Mode)
		onMount := observe(f.Path(c.Path), f.Sysfs(), c.Mode)
		if onDisk != onMount {
			t.Errorf("%s: on disk %s, on the mount %s", c.Path, onDisk, onMount)
		}
		if m := c.Expect.Mismatches(onDisk); len(m) > 0 {
			t.Errorf("%s on disk: %v", c.Path, m)
		}
	}
}

// inPrivateNodevTmpfs runs fn on a thread of its own in a private mount
// namespace where dir is a fresh nodev tmpfs: fusefs materializes device
// nodes only on nodev mounts, and the host's mount table stays as it is.
// The thread is never returned to the scheduler, so it dies with fn.
func inPrivateNodevTmpfs(t *testing.T, dir string, fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread exits with us
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			t.Errorf("unshare(CLONE_NEWNS): %v (this test needs root or CAP_SYS_ADMIN)", err)
			return
		}
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			t.Errorf("make / private: %v", err)
			return
		}
		if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NODEV|unix.MS_NOSUID, "mode=0755"); err != nil {
			t.Errorf("mount tmpfs on %s: %v", dir, err)
			return
		}
		fn()
	}()
	<-done
}

func TestFixturePathsAreBelowTheRoot(t *testing.T) {
	f := emulate.Start(t, &emulate.Spec{})
	if f.Sysfs() != f.Root()+"/sys" || f.Dev() != f.Root()+"/dev" || f.Path("data/x") != f.Root()+"/data/x" {
		t.Errorf("root %s sysfs %s dev %s path %s", f.Root(), f.Sysfs(), f.Dev(), f.Path("data/x"))
	}
	if f.Server().Dir() != f.Root() {
		t.Errorf("server dir %s", f.Server().Dir())
	}
	for _, d := range []string{f.Sysfs(), f.Dev()} {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			t.Errorf("%s: %v", d, err)
		}
	}
}

// Many goroutines use one fixture while faults change.
func TestAFixtureServesConcurrentCallers(t *testing.T) {
	f := emulate.Start(t, healthy())
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				r := observe(f.Path("dev/dax0.0"), f.Sysfs(), emulate.ModePath)
				if r.FromFD != 0 || (r.SizeRC != 0 && r.SizeRC != -5) {
					t.Errorf("goroutine %d: %s", i, r)
					return
				}
			}
		}()
	}
	for range 20 {
		_ = f.AddFault(emulate.Fault{Path: "sys/**/dax0.0/size", Op: "read", Errno: "EIO", Probability: 0.5, Seed: 1})
		f.ClearFaults()
	}
	wg.Wait()
}

// mounted reports whether dir is a mount point in /proc/self/mountinfo,
// with option opt among its mount options when opt is set.
func mounted(t *testing.T, dir, opt string) bool {
	t.Helper()
	fh, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 5 && fields[4] == dir {
			return opt == "" || strings.Contains(","+fields[5]+",", ","+opt+",")
		}
	}
	return false
}

// fatalOf runs fn with a testing.TB whose Fatal ends fn (as t.Fatal ends a
// test) and returns the message, failing t when fn does not call Fatal.
func fatalOf(t *testing.T, fn func(testing.TB)) string {
	t.Helper()
	tb := &fatalRecorder{T: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(tb)
	}()
	<-done
	if !tb.failed {
		t.Fatal("no Fatal call")
	}
	return tb.msg
}

type fatalRecorder struct {
	*testing.T
	failed bool
	msg    string
}

func (r *fatalRecorder) Fatal(args ...any) {
	r.failed, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// In device mode a Device DAX declared as 1:5 is backed by /dev/zero: it
// opens read/write and pmem2 classifies the read/write descriptor.
func TestDeviceModeBacksADeviceDAXWithDevZero(t *testing.T) {
	f := emulate.Start(t, oneDAX(emulate.DAXDevice{Name: "dax0.0", Major: 1, Minor: 5, Size: 1 << 30}), emulate.WithDeviceMode())
	fd, err := unix.Open(f.Path("dev/dax0.0"), unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open O_RDWR in device mode: %v", err)
	}
	defer unix.Close(fd)
	buf := []byte{1, 2, 3}
	if n, err := unix.Read(fd, buf); err != nil || n != 3 || buf[0] != 0 {
		t.Errorf("read %d %v %v, want zeros", n, buf, err)
	}
	src, err := pmem2.SourceFromFD(fd, pmem2.WithSysfsRoot(f.Sysfs()))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Delete()
	if size, err := src.Size(); src.Type() != pmem2.FileTypeDevDAX || size != 1<<30 || err != nil {
		t.Errorf("type %v size %d %v", src.Type(), size, err)
	}
	if mounted(t, f.Root(), "nodev") {
		t.Error("device mode mounted nodev")
	}
}

func TestDeviceModeRefusesTheDefaultFixture(t *testing.T) {
	_, err := emulate.Mount(t.TempDir(), nil, emulate.WithDeviceMode())
	if !errors.Is(err, fusefs.ErrDeviceNotAllowed) {
		t.Errorf("device mode with real-looking device numbers: %v", err)
	}
}
