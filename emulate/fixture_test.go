package emulate_test

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	f := emutest.Start(t, nil)
	checks := f.Spec().Checks()
	require.GreaterOrEqual(t, len(checks), 100, "checks in the default fixture")
	meets(t, f, checks)
}

// Each declared Device DAX is classified DevDAX by pmem2 with its declared
// size and alignment, in both sysfs models.
func TestEachDeviceDAXIsClassifiedWithItsDeclaredSizeAndAlignment(t *testing.T) {
	f := emutest.Start(t, healthy())
	for _, d := range f.Spec().DAXDevices {
		t.Run(d.Name, func(t *testing.T) {
			src := f.Source("dev/"+d.Name, unix.O_PATH)
			assert.Equal(t, pmem2.FileTypeDevDAX, src.Type())
			size, err := src.Size()
			require.NoError(t, err)
			align, err := src.Alignment()
			require.NoError(t, err)
			assert.Equal(t, [2]uint64{d.Size, d.Align}, [2]uint64{size, align}, "size and alignment")
		})
	}
}

// realpath of every Device DAX's subsystem, through the kernel and the
// mount, ends in dax; the mem device's in mem.
func TestEverySubsystemResolvesToDax(t *testing.T) {
	f := emutest.Start(t, nil)
	for _, d := range f.Spec().DAXDevices {
		real, err := filepath.EvalSymlinks(f.Path("sys/dev/char/" + f.DevNum(d.Name).String() + "/subsystem"))
		require.NoError(t, err, d.Name)
		want := "bus/dax"
		switch {
		case d.Name == "dax6.0": // the default replaces its link on purpose
			want = "class/mem"
		case d.Subsystem == "class":
			want = "class/dax"
		}
		assert.True(t, strings.HasSuffix(real, "/"+want), "%s: subsystem resolves to %s, want …/%s", d.Name, real, want)
	}
	real, err := filepath.EvalSymlinks(f.Path("sys/dev/char/1:5/subsystem"))
	require.NoError(t, err)
	assert.Equal(t, "mem", filepath.Base(real))
}

// A device node on the mount reports the declared type and rdev, and the
// mount is nodev: opening it fails with EACCES while O_PATH works.
func TestDeviceNodesHaveTheirRdevAndDoNotOpen(t *testing.T) {
	f := emutest.Start(t, healthy())
	var st unix.Stat_t
	require.NoError(t, unix.Stat(f.Path("dev/dax0.1"), &st))
	assert.Equal(t, uint32(unix.S_IFCHR), st.Mode&unix.S_IFMT)
	assert.Equal(t, emulate.DevNum{Major: emulate.DefaultDAXMajor, Minor: 1}, emulate.DevNum{Major: unix.Major(st.Rdev), Minor: unix.Minor(st.Rdev)})
	require.NoError(t, unix.Stat(f.Path("dev/pmem1"), &st))
	assert.Equal(t, uint32(unix.S_IFBLK), st.Mode&unix.S_IFMT)
	assert.Equal(t, f.DevNum("pmem1"), emulate.DevNum{Major: unix.Major(st.Rdev), Minor: unix.Minor(st.Rdev)})
	_, err := unix.Open(f.Path("dev/dax0.0"), unix.O_RDWR, 0)
	assert.ErrorIs(t, err, syscall.EACCES, "open O_RDWR on a nodev mount")
	assert.True(t, mounted(t, f.Root(), "nodev"), "%s is not mounted nodev", f.Root())
}

// Runtime changes reach pmem2 at once: new content, a fault, a retargeted
// link, a removed entry.
func TestRuntimeChangesAreSeenByTheNextCall(t *testing.T) {
	f := emutest.Start(t, oneDAX(emulate.DAXDevice{Name: "dax0.0", Size: 1 << 30}))
	size := func() (uint64, int) {
		r := observe(f.Path("dev/dax0.0"), f.Sysfs(), emulate.ModePath)
		if r.FromFD != 0 {
			return 0, int(r.FromFD)
		}
		return r.Size, int(r.SizeRC)
	}
	sizeIs := func(msg string, wantSize uint64, wantRC int) {
		t.Helper()
		s, rc := size()
		assert.Equal(t, [2]uint64{wantSize, uint64(wantRC)}, [2]uint64{s, uint64(rc)}, "%s: size and rc", msg)
	}
	sizeIs("before any change", 1<<30, 0)
	require.NoError(t, f.WriteFile(ndDax01+"/size", []byte("4096\n")))
	sizeIs("after WriteFile", 4096, 0)
	// libndctl takes an nd_dax size it cannot read for ULLONG_MAX.
	require.NoError(t, f.AddFault(emulate.Fault{Path: "sys/**/dax0.1/size", Op: fusefs.OpRead, Errno: syscall.EIO}))
	sizeIs("with a read fault", math.MaxUint64, 0)
	// libdaxctl drops a device whose own size it cannot read.
	require.NoError(t, f.SetFaults([]emulate.Fault{{Path: dax00 + "/size", Op: fusefs.OpOpen, Errno: syscall.EACCES}}))
	sizeIs("with an open fault", 0, int(pmem2.ErrDAXRegionNotFound))
	f.ClearFaults()
	sizeIs("after ClearFaults", 4096, 0)
	require.NoError(t, f.SetTarget(dax00+"/subsystem", "../../../../../../../class/mem"))
	sizeIs("subsystem → a missing class/mem", 0, -2)
	require.NoError(t, f.SetTarget(dax00+"/subsystem", "../../../../../../../bus/nd"))
	sizeIs("subsystem → bus/nd", 0, int(pmem2.ErrInvalidFileType))
	require.NoError(t, f.Remove("sys/dev/char/252:0"))
	sizeIs("without sys/dev/char/252:0", 0, -2)
	require.NoError(t, f.SetNode(emulate.Node{Path: "sys/dev/char/252:0", Type: fusefs.TypeSymlink, Target: "../../devices/platform/e820_pmem/ndbus0/region0/dax0.1/dax0.0"}))
	require.NoError(t, f.SetTarget(dax00+"/subsystem", "../../../../../../../bus/dax"))
	sizeIs("after restoring the links", 4096, 0)
	assert.ErrorIs(t, f.SetNode(emulate.Node{Path: "data/../x", Type: fusefs.TypeFile}), emulate.ErrInvalidSpec, "SetNode with a bad path")
	assert.ErrorIs(t, f.AddFault(emulate.Fault{Path: "x", Op: fusefs.Op(99), Errno: syscall.EIO}), emulate.ErrInvalidSpec, "AddFault with a bad op")
	require.NoError(t, f.WriteFile("data/new", []byte("hi")))
	b, err := os.ReadFile(f.Path("data/new"))
	require.NoError(t, err)
	assert.Equal(t, "hi", string(b))
}

// The spec's faults are active from the start; the fixture counts calls.
func TestSpecFaultsApplyFromTheStart(t *testing.T) {
	f := emutest.Start(t, &emulate.Spec{
		Nodes:  []emulate.Node{{Path: "data/f", Type: fusefs.TypeFile, Content: "x"}},
		Faults: []emulate.Fault{{Path: "data/f", Op: fusefs.OpRead, Errno: syscall.EIO, After: 1, Times: 1}},
	})
	fd := f.Open("data/f", unix.O_RDONLY)
	buf := make([]byte, 8)
	for i, want := range []error{nil, syscall.EIO, nil} {
		_, err := unix.Pread(fd, buf, 0)
		assert.Equal(t, want, err, "read %d", i)
	}
	assert.GreaterOrEqual(t, f.Calls("data/f", fusefs.OpRead), uint64(3))
}

func TestCloseIsIdempotentAndLeavesNoMount(t *testing.T) {
	dir := t.TempDir()
	f, err := emulate.Mount(dir, healthy())
	require.NoError(t, err)
	require.True(t, mounted(t, dir, ""), "%s not in /proc/self/mountinfo", dir)
	for range 3 {
		require.NoError(t, f.Close())
	}
	assert.False(t, mounted(t, dir, ""), "%s still mounted after Close", dir)
}

func TestAnInvalidSpecMountsNothing(t *testing.T) {
	dir := t.TempDir()
	_, err := emulate.Mount(dir, &emulate.Spec{Nodes: []emulate.Node{{Path: "/abs", Type: fusefs.TypeFile}}})
	assert.ErrorIs(t, err, emulate.ErrInvalidSpec)
	assert.ErrorContains(t, err, "nodes[0].path")
	assert.False(t, mounted(t, dir, ""), "mounted anyway")
}

// The tree generated for a spec behaves the same written to a real
// directory: pmem2 classifies it identically.
func TestTheMaterializedTreeClassifiesLikeTheMount(t *testing.T) {
	s := emulate.Default()
	tree, err := s.Tree()
	if err != nil {
		t.Fatal(err)
	}
	f := emutest.Start(t, s)
	dir := t.TempDir()
	inPrivateNodevTmpfs(t, dir, func() {
		if err := tree.Materialize(dir); err != nil {
			t.Errorf("materialize: %v", err)
			return
		}
		compareWithDisk(t, s, f, dir)
	})
}

func compareWithDisk(t *testing.T, s *emulate.Spec, f *emutest.Fixture, dir string) {
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
		if faulted(f, s, c.Path) {
			continue // its faults exist only on the mount
		}
		compared++
		onDisk := observe(filepath.Join(dir, c.Path), filepath.Join(dir, "sys"), c.Mode)
		onMount := observe(f.Path(c.Path), f.Sysfs(), c.Mode)
		if !reflect.DeepEqual(onDisk, onMount) {
			t.Errorf("%s: on disk %s, on the mount %s", c.Path, onDisk, onMount)
		}
		if m := c.Expect.Mismatches(onDisk); len(m) > 0 {
			t.Errorf("%s on disk: %v", c.Path, m)
		}
	}
}

// faulted reports whether node is a Device DAX of s with a fault rule on
// its nd_dax's files or below (its own).
func faulted(f *emutest.Fixture, s *emulate.Spec, node string) bool {
	d, ok := f.DAX(strings.TrimPrefix(node, "dev/"))
	if !ok || d.NDDax == "" {
		return false
	}
	for _, fault := range s.Faults {
		if strings.HasPrefix(fault.Path, d.NDDax+"/") {
			return true
		}
	}
	return false
}

// inPrivateNodevTmpfs runs fn on a thread of its own in a private mount
// namespace where dir is a fresh nodev tmpfs: fusefs materializes device
// nodes only on nodev mounts, and the host's mount table stays as it is.
// The thread is never returned to the scheduler, so it dies with fn.
func inPrivateNodevTmpfs(t *testing.T, dir string, fn func()) {
	testutil.RootOnly(t, "it mounts a tmpfs in a mount namespace of its own")
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
	f := emutest.Start(t, &emulate.Spec{})
	assert.Equal(t, f.Root()+"/sys", f.Sysfs())
	assert.Equal(t, f.Root()+"/dev", f.Dev())
	assert.Equal(t, f.Root()+"/data/x", f.Path("data/x"))
	assert.Equal(t, f.Root()+"/data/x", f.Path(f.Root()+"/data/x"), "an absolute path stays as it is")
	assert.Equal(t, f.Root(), f.Server().Dir())
	for _, d := range []string{f.Sysfs(), f.Dev()} {
		st, err := os.Stat(d)
		require.NoError(t, err)
		assert.True(t, st.IsDir(), d)
	}
}

// Many goroutines use one fixture while faults change.
func TestAFixtureServesConcurrentCallers(t *testing.T) {
	f := emutest.Start(t, healthy())
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 50 {
				r := observe(f.Path("dev/dax0.0"), f.Sysfs(), emulate.ModePath)
				if r.FromFD != 0 || (r.SizeRC != 0 && r.SizeRC != -5) {
					t.Errorf("goroutine %d: %s", i, r)
					return
				}
			}
		})
	}
	for range 20 {
		_ = f.AddFault(emulate.Fault{Path: "sys/**/dax0.0/size", Op: fusefs.OpRead, Errno: syscall.EIO, Probability: 0.5, Seed: 1})
		f.ClearFaults()
	}
	wg.Wait()
}

// mounted reports whether dir is a mount point, with option opt among its
// mount options when opt is set.
func mounted(t *testing.T, dir, opt string) bool {
	t.Helper()
	m := testutil.MountAt(t, dir)
	return m != nil && (opt == "" || testutil.Options(m.Options)[opt])
}

// In device mode a Device DAX declared as 1:5 is backed by /dev/zero: it
// opens read/write and pmem2 classifies the read/write descriptor.
func TestDeviceModeBacksADeviceDAXWithDevZero(t *testing.T) {
	testutil.RootOnly(t, "device mode mounts without nodev")
	f := emutest.Start(t, oneDAX(emulate.DAXDevice{Name: "dax0.0", Major: 1, Minor: 5, Size: 1 << 30}), emulate.WithDeviceMode())
	fd := f.Open("dev/dax0.0", unix.O_RDWR)
	buf := []byte{1, 2, 3}
	n, err := unix.Read(fd, buf)
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 0, 0}, buf[:n])
	src, err := pmem2.SourceFromFD(fd, f.PmemOptions()...)
	require.NoError(t, err)
	defer src.Delete()
	size, err := src.Size()
	require.NoError(t, err)
	assert.Equal(t, pmem2.FileTypeDevDAX, src.Type())
	assert.Equal(t, uint64(1<<30), size)
	assert.False(t, mounted(t, f.Root(), "nodev"), "device mode mounted nodev")
}

// Under the namespace runner a Device DAX numbered 1:5 is the host's
// /dev/zero, device mode or not, root or not: programs open it read-write
// (and map it); every other node stays as unopenable as on the mount.
func TestCommandBacksADeviceDAXNumbered1To5WithTheHostsDevZero(t *testing.T) {
	f := emutest.Start(t, &emulate.Spec{
		DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Major: 1, Minor: 5, Size: 1 << 30}, {Name: "dax0.1"}},
		Nodes:      []emulate.Node{{Path: "dev/zero5", Type: fusefs.TypeCharDev, Major: 1, Minor: 5}},
	})
	cmd, err := f.Command("sh", "-c", `head -c 4 /dev/dax0.0 | od -An -tx1
		echo x > /dev/dax0.0 && echo dax0.0 writes
		stat -c '%t:%T' /dev/dax0.0
		for d in dax0.1 zero5; do head -c 1 /dev/$d >/dev/null 2>&1 && echo $d opens || echo $d refused; done`)
	require.NoError(t, err)
	out, _ := testutil.OutputOK(t, cmd)
	assert.Equal(t, " 00 00 00 00\ndax0.0 writes\n1:5\ndax0.1 refused\nzero5 refused\n", out)
}

func TestDeviceModeRefusesTheDefaultFixture(t *testing.T) {
	_, err := emulate.Mount(t.TempDir(), nil, emulate.WithDeviceMode())
	assert.ErrorIs(t, err, fusefs.ErrDeviceNotAllowed, "device mode with real-looking device numbers")
}

// Options set only their own part, so no order of them drops another:
// WithFusefsOptions after WithDeviceMode keeps device mode.
func TestOptionsCombineInAnyOrder(t *testing.T) {
	testutil.RootOnly(t, "device mode mounts without nodev")
	spec := oneDAX(emulate.DAXDevice{Name: "dax0.0", Major: 1, Minor: 5, Size: 1 << 30})
	for name, opts := range map[string][]emulate.Option{
		"device mode, then fusefs options": {emulate.WithDeviceMode(), emulate.WithFusefsOptions(fusefs.Options{NoCache: true})},
		"fusefs options, then device mode": {emulate.WithFusefsOptions(fusefs.Options{NoCache: true}), emulate.WithDeviceMode()},
	} {
		t.Run(name, func(t *testing.T) {
			f := emutest.Start(t, spec, opts...)
			assert.False(t, mounted(t, f.Root(), "nodev"), "device mode was dropped")
			f.Open("dev/dax0.0", unix.O_RDWR)
			before := f.Calls("dev/dax0.0", fusefs.OpGetattr)
			for range 3 {
				_, err := os.Stat(f.Path("dev/dax0.0"))
				require.NoError(t, err)
			}
			assert.GreaterOrEqual(t, f.Calls("dev/dax0.0", fusefs.OpGetattr)-before, uint64(3), "NoCache was dropped: stats were answered from the cache")
		})
	}
}
