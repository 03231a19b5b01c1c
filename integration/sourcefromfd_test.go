package integration_test

import (
	"path"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// fromFDCase is one descriptor handed to SourceFromFD: how to get it, and
// what C returns for it.
type fromFDCase struct {
	name string
	fd   func(t *testing.T, f *emulate.Fixture) int
	want pmem2.Code
	typ  pmem2.FileType // on success
	msg  []string       // words the error message must hold
}

// opened is a fromFDCase descriptor: rel below the fixture, in mode flags.
func opened(rel string, flags int) func(*testing.T, *emulate.Fixture) int {
	return func(t *testing.T, f *emulate.Fixture) int { return testutil.OpenFD(t, f.Path(rel), flags) }
}

func runFromFD(t *testing.T, f *emulate.Fixture, c fromFDCase) {
	t.Helper()
	fd := c.fd(t, f)
	src, err := fromFD(f, fd)
	wantErr(t, f, err, c.want, c.msg...)
	if c.want != 0 {
		if src != nil {
			t.Errorf("a failing SourceFromFD returned a source: %v", src.Type())
		}
		return
	}
	defer src.Delete()
	assert.Equal(t, c.typ, src.Type(), "Type()")
	if got, err := src.FD(); err != nil || got != fd {
		t.Errorf("FD() = %d, %v; want %d, nil", got, err, fd)
	}
}

// TestSourceFromFD covers every row of the manual page's ERRORS and of
// libpmem2-behaviour.md, then the paths only a faulty or broken file system
// reaches.
func TestSourceFromFD(t *testing.T) {
	t.Run("descriptors and file types", func(t *testing.T) {
		f := start(t, nil)
		cases := []fromFDCase{
			{name: "a negative descriptor is an invalid handle",
				fd:   func(*testing.T, *emulate.Fixture) int { return -1 },
				want: pmem2.ErrInvalidFileHandle, msg: []string{"pmem2_source_from_fd", "check fd", "-1"}},
			{name: "a descriptor number that is not open is an invalid handle",
				fd:   func(t *testing.T, _ *emulate.Fixture) int { return unusedFD(t) },
				want: pmem2.ErrInvalidFileHandle, msg: []string{"pmem2_source_from_fd", "fcntl(F_GETFL)", "bad file descriptor"}},
			{name: "a closed descriptor is an invalid handle",
				fd: func(t *testing.T, f *emulate.Fixture) int {
					fd := highDup(t, testutil.OpenFD(t, f.Path("data/small"), rdonly))
					require.NoError(t, unix.Close(fd))
					return fd
				},
				want: pmem2.ErrInvalidFileHandle, msg: []string{"fcntl(F_GETFL)"}},
			{name: "an O_WRONLY descriptor is an invalid handle", fd: opened("data/small", wronly),
				want: pmem2.ErrInvalidFileHandle, msg: []string{"pmem2_source_from_fd", "check access mode", "O_WRONLY"}},
			{name: "an O_WRONLY descriptor of an empty file is an invalid handle", fd: opened("data/empty", wronly),
				want: pmem2.ErrInvalidFileHandle},
			{name: "a regular file opened O_RDONLY is a regular source", fd: opened("data/small", rdonly),
				typ: pmem2.FileTypeRegular},
			{name: "a regular file opened O_RDWR is a regular source", fd: opened("data/small", rdwr),
				typ: pmem2.FileTypeRegular},
			{name: "a regular file opened O_PATH is a regular source, as in C", fd: opened("data/small", opath),
				typ: pmem2.FileTypeRegular},
			{name: "a sparse 1 TiB file is a regular source", fd: opened("data/sparse", rdonly),
				typ: pmem2.FileTypeRegular},
			{name: "a symlink opened through is the regular file it names", fd: opened("data/link", rdonly),
				typ: pmem2.FileTypeRegular},
			{name: "a symlink itself (O_PATH|O_NOFOLLOW) is an invalid file type", fd: opened("data/link", opath|unix.O_NOFOLLOW),
				want: pmem2.ErrInvalidFileType, msg: []string{"check file type", "0120000"}},
			{name: "a directory is an invalid file type", fd: opened("data/dir", rdonly),
				want: pmem2.ErrInvalidFileType, msg: []string{"pmem2_source_from_fd", "check file type", "directory"}},
			{name: "a directory opened O_PATH is an invalid file type", fd: opened("data/dir", opath),
				want: pmem2.ErrInvalidFileType},
			{name: "a FIFO opened O_RDONLY is an invalid file type", fd: opened("data/fifo", rdonly|unix.O_NONBLOCK),
				want: pmem2.ErrInvalidFileType, msg: []string{"check file type", "010000"}},
			{name: "a FIFO opened O_RDWR is an invalid file type", fd: opened("data/fifo", rdwr),
				want: pmem2.ErrInvalidFileType},
			{name: "a FIFO opened O_PATH is an invalid file type", fd: opened("data/fifo", opath),
				want: pmem2.ErrInvalidFileType},
			{name: "a socket is an invalid file type", fd: opened("data/socket", opath),
				want: pmem2.ErrInvalidFileType, msg: []string{"0140000"}},
			{name: "a block device is an invalid file type", fd: opened("dev/sda", opath),
				want: pmem2.ErrInvalidFileType, msg: []string{"060000"}},
			{name: "a char device whose subsystem is mem is an invalid file type", fd: opened("dev/mem5", opath),
				want: pmem2.ErrInvalidFileType,
				msg:  []string{"pmem2_source_from_fd", "check subsystem", "{sys}/dev/char/1:5/subsystem", "/class/mem"}},
			{name: "a char device unknown to sysfs is -ENOENT", fd: opened("dev/experimental", opath),
				want: -pmem2.Code(unix.ENOENT), msg: []string{"pmem2_source_from_fd", "realpath", "{sys}/dev/char/60:0/subsystem"}},
			{name: "a Device DAX on the dax bus is a Device DAX", fd: opened("dev/dax0.0", opath),
				typ: pmem2.FileTypeDevDAX},
			{name: "a Device DAX in the dax class (kernels before 5.1) is a Device DAX", fd: opened("dev/dax1.0", opath),
				typ: pmem2.FileTypeDevDAX},
			{name: "a Device DAX with no NVDIMM bus is a Device DAX (C crashes only later, in size and alignment)",
				fd: opened("dev/dax2.0", opath), typ: pmem2.FileTypeDevDAX},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) { runFromFD(t, f, c) })
		}
	})

	t.Run("a device node on a nodev mount cannot be opened but for O_PATH", func(t *testing.T) {
		f := start(t, nil)
		for _, flags := range []int{rdonly, rdwr} {
			if fd, err := unix.Open(f.Path("dev/dax0.0"), flags|unix.O_CLOEXEC, 0); err != unix.EACCES {
				unix.Close(fd)
				t.Errorf("open(dev/dax0.0, %#x) = %v, want EACCES: the fixture must be nodev", flags, err)
			}
		}
	})

	t.Run("descriptors really open on devices (device mode)", func(t *testing.T) {
		spec := deviceSpec()
		spec.Nodes = append(spec.Nodes, emulate.Node{Path: "dev/null3", Type: fusefs.TypeCharDev, Major: 1, Minor: 3, Subsystem: "mem"})
		f := startDevice(t, spec)
		for _, c := range []fromFDCase{
			{name: "a Device DAX opened O_RDONLY is a Device DAX", fd: opened("dev/dax0.0", rdonly), typ: pmem2.FileTypeDevDAX},
			{name: "a Device DAX opened O_RDWR is a Device DAX", fd: opened("dev/dax0.0", rdwr), typ: pmem2.FileTypeDevDAX},
			{name: "a Device DAX opened O_WRONLY is an invalid handle", fd: opened("dev/dax0.0", wronly),
				want: pmem2.ErrInvalidFileHandle, msg: []string{"check access mode"}},
			{name: "an open char device of the mem subsystem is an invalid file type", fd: opened("dev/null3", rdwr),
				want: pmem2.ErrInvalidFileType, msg: []string{"{sys}/dev/char/1:3/subsystem", "/class/mem"}},
		} {
			t.Run(c.name, func(t *testing.T) { runFromFD(t, f, c) })
		}
	})

	t.Run("fstat failing", testFromFDFstatFaults)
	t.Run("sysfs lookups and readlinks failing", testFromFDSysfsFaults)
	t.Run("broken sysfs trees", testFromFDBrokenSysfs)
}

// testFromFDFstatFaults makes GETATTR fail on an open regular file: fstat
// then returns the errno the server chose, which no local file system
// produces on demand.
func testFromFDFstatFaults(t *testing.T) {
	for _, c := range []struct {
		errno string
		want  pmem2.Code
	}{
		{"EIO", -5},
		{"EACCES", -13},
		{"ENOMEM", -12},
		{"ESTALE", -116},
		{"ENXIO", -6},
		{"EOVERFLOW", -75},
		{"EBADF", pmem2.ErrInvalidFileHandle},
	} {
		name := "fstat failing with " + c.errno + " is " + c.want.Name()
		if c.errno == "EBADF" {
			name = "fstat failing with EBADF is an invalid handle, as C maps it"
		}
		t.Run(name, func(t *testing.T) {
			f := start(t, nil)
			fd := testutil.OpenFD(t, f.Path("data/small"), rdonly)
			addFault(t, f, "data/small", "getattr", c.errno)
			var err error
			n := callsDuring(f, "data/small", fusefs.OpGetattr, func() { _, err = fromFD(f, fd) })
			wantCode(t, err, c.want)
			wantMsg(t, f, err, "pmem2_source_from_fd", "fstat")
			if n == 0 {
				t.Error("fstat did not reach the server: the fault cannot have fired")
			}
		})
	}

	t.Run("an O_WRONLY descriptor is refused before fstat is called", func(t *testing.T) {
		f := start(t, nil)
		fd := testutil.OpenFD(t, f.Path("data/small"), wronly)
		addFault(t, f, "data/small", "getattr", "EIO")
		var err error
		n := callsDuring(f, "data/small", fusefs.OpGetattr, func() { _, err = fromFD(f, fd) })
		wantCode(t, err, pmem2.ErrInvalidFileHandle)
		if n != 0 {
			t.Errorf("%d getattr calls reached the server: the access mode must be checked first", n)
		}
	})

	t.Run("fstat failing on a Device DAX is -errno before sysfs is read", func(t *testing.T) {
		f := start(t, nil)
		fd := testutil.OpenFD(t, f.Path("dev/dax0.0"), opath)
		sub := devDir(t, f, dax0Char) + "/subsystem"
		// A rule that only watches keeps the link out of the kernel's
		// caches, so every resolution of it reaches the server.
		watch := emulate.Fault{Path: sub, Op: fusefs.OpReadlink, Delay: time.Nanosecond}
		require.NoError(t, f.SetFaults([]emulate.Fault{watch, {Path: "dev/dax0.0", Op: fusefs.OpGetattr, Errno: syscall.EIO}}))
		f.Server().ResetCalls()
		_, err := fromFD(f, fd)
		wantCode(t, err, -5)
		if n := f.Server().Calls(sub, fusefs.OpReadlink); n != 0 {
			t.Errorf("the subsystem link was resolved %d times after fstat failed", n)
		}
		require.NoError(t, f.SetFaults([]emulate.Fault{watch}))
		src, err := fromFD(f, fd)
		wantCode(t, err, 0)
		src.Delete()
		if f.Server().Calls(sub, fusefs.OpReadlink) == 0 {
			t.Error("the subsystem link was not resolved through the server even without the fault: the check above proves nothing")
		}
	})
}

// testFromFDSysfsFaults fails one LOOKUP or READLINK of the path walk that
// resolves <sysfs>/dev/char/252:0/subsystem: pmem2 asks the kernel for the
// whole path at once (openat O_PATH), so the kernel's walk is what reaches
// the server, and realpath's -errno is what comes back.
func testFromFDSysfsFaults(t *testing.T) {
	type fault struct{ path, op, errno string }
	cases := []struct {
		name  string
		fault func(t *testing.T, f *emulate.Fixture) fault
		want  pmem2.Code
	}{
		{"a failing readlink of dev/char/M:m is -EIO",
			func(*testing.T, *emulate.Fixture) fault { return fault{dax0Char, "readlink", "EIO"} }, -5},
		{"a failing readlink of dev/char/M:m is -ENOMEM",
			func(*testing.T, *emulate.Fixture) fault { return fault{dax0Char, "readlink", "ENOMEM"} }, -12},
		{"a failing lookup of dev/char/M:m is -EACCES",
			func(*testing.T, *emulate.Fixture) fault { return fault{dax0Char, "lookup", "EACCES"} }, -13},
		{"a failing lookup of dev/char is -EIO",
			func(*testing.T, *emulate.Fixture) fault { return fault{"sys/dev/char", "lookup", "EIO"} }, -5},
		{"a failing lookup of the subsystem link is -EIO",
			func(t *testing.T, f *emulate.Fixture) fault {
				return fault{devDir(t, f, dax0Char) + "/subsystem", "lookup", "EIO"}
			}, -5},
		{"a failing readlink of the subsystem link is -ESTALE",
			func(t *testing.T, f *emulate.Fixture) fault {
				return fault{devDir(t, f, dax0Char) + "/subsystem", "readlink", "ESTALE"}
			}, -116},
		{"a failing lookup of a directory the device's path runs through is -EACCES",
			func(t *testing.T, f *emulate.Fixture) fault {
				return fault{path.Dir(devDir(t, f, dax0Char)), "lookup", "EACCES"}
			}, -13},
		{"a failing lookup of the subsystem's target bus/dax is -ENOMEM",
			func(*testing.T, *emulate.Fixture) fault { return fault{"sys/bus/dax", "lookup", "ENOMEM"} }, -12},
		{"a failing lookup of the subsystem's target reports ENOENT as -ENOENT",
			func(*testing.T, *emulate.Fixture) fault { return fault{"sys/bus/dax", "lookup", "ENOENT"} }, -2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := start(t, nil)
			fd := testutil.OpenFD(t, f.Path("dev/dax0.0"), opath)
			flt := c.fault(t, f)
			addFault(t, f, flt.path, flt.op, flt.errno)
			op, _ := fusefs.ParseOp(flt.op)
			var err error
			n := callsDuring(f, flt.path, op, func() { _, err = fromFD(f, fd) })
			wantCode(t, err, c.want)
			wantMsg(t, f, err, "pmem2_source_from_fd", "realpath", "{sys}/dev/char/252:0/subsystem")
			if n == 0 {
				t.Errorf("no %s of %s reached the server: the fault cannot have fired", flt.op, flt.path)
			}
			// The same call succeeds once the fault is gone: nothing
			// failing was cached on the way.
			f.ClearFaults()
			src, err := fromFD(f, fd)
			wantCode(t, err, 0)
			src.Delete()
		})
	}
}

// testFromFDBrokenSysfs changes the fake sysfs at runtime into trees no
// kernel writes, each a way realpath can fail or land elsewhere.
func testFromFDBrokenSysfs(t *testing.T) {
	type setup func(t *testing.T, f *emulate.Fixture, dev string) // dev: the device's sysfs directory
	cases := []struct {
		name  string
		setup setup
		want  pmem2.Code
		typ   bool // a Device DAX after all
		msg   []string
	}{
		{name: "a missing dev/char/M:m entry is -ENOENT",
			setup: func(t *testing.T, f *emulate.Fixture, dev string) { require.NoError(t, f.Remove(dax0Char)) },
			want:  -2, msg: []string{"realpath", "{sys}/dev/char/252:0/subsystem"}},
		{name: "a missing subsystem link is -ENOENT",
			setup: func(t *testing.T, f *emulate.Fixture, dev string) { require.NoError(t, f.Remove(dev+"/subsystem")) },
			want:  -2},
		{name: "a dangling subsystem link is -ENOENT",
			setup: func(t *testing.T, f *emulate.Fixture, dev string) {
				require.NoError(t, f.SetTarget(dev+"/subsystem", "../../nowhere/dax"))
			},
			want: -2},
		{name: "a dev/char/M:m link pointing at itself is -ELOOP",
			setup: func(t *testing.T, f *emulate.Fixture, dev string) { require.NoError(t, f.SetTarget(dax0Char, "252:0")) },
			want:  -pmem2.Code(unix.ELOOP), msg: []string{"realpath", "{sys}/dev/char/252:0/subsystem"}},
		{name: "two subsystem links pointing at each other are -ELOOP",
			setup: func(t *testing.T, f *emulate.Fixture, dev string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: dev + "/other", Type: fusefs.TypeSymlink, Target: "subsystem"}))
				require.NoError(t, f.SetTarget(dev+"/subsystem", "other"))
			},
			want: -pmem2.Code(unix.ELOOP)},
		{name: "a subsystem reached through 40 symlinks resolves, as in glibc",
			setup: linkChain(38), typ: true},
		{name: "a subsystem reached through 41 symlinks is -ELOOP, as in glibc",
			setup: linkChain(39), want: -pmem2.Code(unix.ELOOP)},
		{name: "a subsystem link through a regular file is -ENOTDIR",
			setup: func(t *testing.T, f *emulate.Fixture, dev string) {
				require.NoError(t, f.SetTarget(dev+"/subsystem", "size/dax"))
			},
			want: -pmem2.Code(unix.ENOTDIR)},
		{name: "a subsystem that is a plain file is an invalid file type",
			setup: func(t *testing.T, f *emulate.Fixture, dev string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: dev + "/subsystem", Type: fusefs.TypeFile, Content: "dax\n"}))
			},
			want: pmem2.ErrInvalidFileType, msg: []string{"check subsystem", "/subsystem, not"}},
		{name: "a subsystem that is a directory is an invalid file type",
			setup: func(t *testing.T, f *emulate.Fixture, dev string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: dev + "/subsystem", Type: fusefs.TypeDir}))
			},
			want: pmem2.ErrInvalidFileType},
		{name: "a subsystem link to a link that points at class/mem is an invalid file type",
			setup: func(t *testing.T, f *emulate.Fixture, dev string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: "sys/class/mem", Type: fusefs.TypeDir}))
				require.NoError(t, f.SetNode(emulate.Node{Path: "sys/hop", Type: fusefs.TypeSymlink, Target: "class/mem"}))
				require.NoError(t, f.SetTarget(dev+"/subsystem", f.Path("sys/hop")))
			},
			want: pmem2.ErrInvalidFileType, msg: []string{"resolves to", "/sys/class/mem"}},
		{name: "a subsystem spelled DAX is an invalid file type", setup: subsystemNamed("DAX"), want: pmem2.ErrInvalidFileType},
		{name: "a subsystem spelled daxx is an invalid file type", setup: subsystemNamed("daxx"), want: pmem2.ErrInvalidFileType},
		{name: "a subsystem spelled dax0 is an invalid file type", setup: subsystemNamed("dax0"), want: pmem2.ErrInvalidFileType},
		{name: "a subsystem spelled .dax is an invalid file type", setup: subsystemNamed(".dax"), want: pmem2.ErrInvalidFileType},
		{name: "a subsystem resolving to any directory named dax is a Device DAX, as in C",
			setup: subsystemNamed("dax"), typ: true},
		{name: "a subsystem resolving to a plain file named dax is a Device DAX, as in C",
			setup: func(t *testing.T, f *emulate.Fixture, dev string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: "sys/elsewhere/dax", Type: fusefs.TypeFile}))
				require.NoError(t, f.SetTarget(dev+"/subsystem", f.Path("sys/elsewhere/dax")))
			},
			typ: true},
		{name: "a subsystem resolving to a path longer than PATH_MAX is -ENAMETOOLONG",
			setup: longSubsystem, want: -pmem2.Code(unix.ENAMETOOLONG)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := start(t, nil)
			dev := devDir(t, f, dax0Char)
			fd := testutil.OpenFD(t, f.Path("dev/dax0.0"), opath)
			c.setup(t, f, dev)
			want := fromFDCase{want: c.want, msg: c.msg, fd: func(*testing.T, *emulate.Fixture) int { return fd }}
			if c.typ {
				want.typ = pmem2.FileTypeDevDAX
			}
			runFromFD(t, f, want)
		})
	}

	t.Run("a sysfs root too long for PATH_MAX is -ENAMETOOLONG where C would truncate", func(t *testing.T) {
		f := start(t, nil)
		fd := testutil.OpenFD(t, f.Path("dev/dax0.0"), opath)
		_, err := pmem2.SourceFromFD(fd, pmem2.WithSysfsRoot(f.Sysfs()+strings.Repeat("/.", 2100)))
		wantCode(t, err, -pmem2.Code(unix.ENAMETOOLONG))
		wantMsg(t, f, err, "pmem2_source_from_fd", "realpath")
	})

	t.Run("a sysfs root that does not exist is -ENOENT", func(t *testing.T) {
		f := start(t, nil)
		fd := testutil.OpenFD(t, f.Path("dev/dax0.0"), opath)
		_, err := pmem2.SourceFromFD(fd, pmem2.WithSysfsRoot(f.Path("nosys")))
		wantCode(t, err, -2)
		wantMsg(t, f, err, f.Path("nosys/dev/char/252:0/subsystem"))
	})
}

// linkChain makes the subsystem link reach bus/dax through n more links:
// with dev/char/252:0 and subsystem itself, n+2 links in all.
func linkChain(n int) func(t *testing.T, f *emulate.Fixture, dev string) {
	return func(t *testing.T, f *emulate.Fixture, dev string) {
		require.NoError(t, f.SetNode(emulate.Node{Path: "sys/chain/l0", Type: fusefs.TypeSymlink, Target: "../bus/dax"}))
		for i := 1; i < n; i++ {
			require.NoError(t, f.SetNode(emulate.Node{Path: "sys/chain/l" + strconv.Itoa(i), Type: fusefs.TypeSymlink, Target: "l" + strconv.Itoa(i-1)}))
		}
		require.NoError(t, f.SetTarget(dev+"/subsystem", f.Path("sys/chain/l"+strconv.Itoa(n-1))))
	}
}

// subsystemNamed points the subsystem link at a directory of that name
// outside bus/ and class/.
func subsystemNamed(name string) func(t *testing.T, f *emulate.Fixture, dev string) {
	return func(t *testing.T, f *emulate.Fixture, dev string) {
		require.NoError(t, f.SetNode(emulate.Node{Path: "sys/elsewhere/" + name, Type: fusefs.TypeDir}))
		require.NoError(t, f.SetTarget(dev+"/subsystem", f.Path("sys/elsewhere/"+name)))
	}
}

// longSubsystem makes the subsystem resolve to a directory named dax whose
// canonical path is longer than PATH_MAX, through two links each shorter
// than PATH_MAX, so that no path handed to a system call is too long itself.
func longSubsystem(t *testing.T, f *emulate.Fixture, dev string) {
	var comps []string
	for range 11 {
		comps = append(comps, strings.Repeat("d", 200))
	}
	half := strings.Join(comps, "/") // 2210 bytes
	require.NoError(t, f.SetNode(emulate.Node{Path: "sys/deep/" + half + "/" + half + "/dax", Type: fusefs.TypeDir}))
	require.NoError(t, f.SetNode(emulate.Node{Path: "sys/deep/" + half + "/next", Type: fusefs.TypeSymlink, Target: half + "/dax"}))
	require.NoError(t, f.SetNode(emulate.Node{Path: "sys/deep/next", Type: fusefs.TypeSymlink, Target: half + "/next"}))
	require.NoError(t, f.SetTarget(dev+"/subsystem", f.Path("sys/deep/next")))
}
