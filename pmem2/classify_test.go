package pmem2

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2/internal/crealpath"
)

// subsystemTo is the Device DAX of busDAX whose subsystem link says
// target, after the directories dirs are made.
func subsystemTo(target string, dirs ...string) func(s *sysfsTree) {
	return func(s *sysfsTree) {
		s.busDAX("1:5")
		for _, d := range dirs {
			s.dir(d)
		}
		s.link(busDevDir+"/subsystem", target)
	}
}

// classifyCases are sysfs trees for /dev/zero (1:5), correct and broken,
// with the code C's pmem2_source_from_fd returns for each.
var classifyCases = []struct {
	name  string
	build func(s *sysfsTree)
	want  Code
}{
	{"a Device DAX on the dax bus is Device DAX", func(s *sysfsTree) { s.busDAX("1:5") }, 0},
	{"a Device DAX of the old dax class is Device DAX", func(s *sysfsTree) { s.classDAX("1:5") }, 0},
	{"a memory device is an invalid file type", func(s *sysfsTree) { s.mem("1:5") }, ErrInvalidFileType},
	{"a char device missing from dev/char is ENOENT", func(s *sysfsTree) { s.busDAX("1:3") }, errnoCode(syscall.ENOENT)},
	{"an empty sysfs is ENOENT", func(s *sysfsTree) {}, errnoCode(syscall.ENOENT)},
	{"a dangling dev/char link is ENOENT", func(s *sysfsTree) { s.link("dev/char/1:5", "../../devices/gone") }, errnoCode(syscall.ENOENT)},
	{"a dangling subsystem is ENOENT", func(s *sysfsTree) {
		s.busDAX("1:5")
		s.remove("bus/dax")
	}, errnoCode(syscall.ENOENT)},
	{"a missing subsystem is ENOENT", func(s *sysfsTree) {
		s.busDAX("1:5")
		s.remove(busDevDir + "/subsystem")
	}, errnoCode(syscall.ENOENT)},
	{"a subsystem through two more links to the dax bus is Device DAX", func(s *sysfsTree) {
		s.busDAX("1:5")
		s.link("hop1", "hop2")
		s.link("hop2", "bus/dax")
		s.link(busDevDir+"/subsystem", "../../../../../../../hop1")
	}, 0},
	{"a subsystem through a link to elsewhere is an invalid file type", func(s *sysfsTree) {
		s.busDAX("1:5")
		s.dir("class/mem")
		s.link("hop", "class/mem")
		s.link(busDevDir+"/subsystem", "../../../../../../../hop")
	}, ErrInvalidFileType},
	{"a subsystem in a link loop is ELOOP", func(s *sysfsTree) {
		s.busDAX("1:5")
		s.link("loopA", "loopB")
		s.link("loopB", "loopA")
		s.link(busDevDir+"/subsystem", "../../../../../../../loopA")
	}, errnoCode(syscall.ELOOP)},
	{"a subsystem linking to itself is ELOOP", subsystemTo("subsystem"), errnoCode(syscall.ELOOP)},
	{"a subsystem that is a plain file is an invalid file type", func(s *sysfsTree) {
		s.busDAX("1:5")
		s.remove(busDevDir + "/subsystem")
		s.file(busDevDir+"/subsystem", "dax\n")
	}, ErrInvalidFileType},
	{"a subsystem that is a directory is an invalid file type", func(s *sysfsTree) {
		s.busDAX("1:5")
		s.remove(busDevDir + "/subsystem")
		s.dir(busDevDir + "/subsystem/dax")
	}, ErrInvalidFileType},
	{"a subsystem named DAX is an invalid file type", subsystemTo("../../../../../../../bus/DAX", "bus/DAX"), ErrInvalidFileType},
	{"a subsystem named dax2 is an invalid file type", subsystemTo("../../../../../../../bus/dax2", "bus/dax2"), ErrInvalidFileType},
	{"a subsystem link ending dax/ is Device DAX", subsystemTo("../../../../../../../bus/dax/"), 0},
	{"a subsystem link ending dax/. is Device DAX", subsystemTo("../../../../../../../bus/dax/."), 0},
	{"a subsystem link ending dax/.. is the bus, an invalid file type", subsystemTo("../../../../../../../bus/dax/.."), ErrInvalidFileType},
	{"a subsystem link ending dax//./ is Device DAX", subsystemTo("../../../../../../..//bus//dax//./"), 0},
	{"a subsystem linking to a regular file named dax is Device DAX, as in C", func(s *sysfsTree) {
		s.busDAX("1:5")
		s.remove("bus/dax")
		s.file("bus/dax", "")
	}, 0},
	{"a subsystem link ending dax/ on a regular file is ENOTDIR", func(s *sysfsTree) {
		s.busDAX("1:5")
		s.remove("bus/dax")
		s.file("bus/dax", "")
		s.link(busDevDir+"/subsystem", "../../../../../../../bus/dax/")
	}, errnoCode(syscall.ENOTDIR)},
	{"a dev/char entry that is a regular file is ENOTDIR", func(s *sysfsTree) {
		s.file("dev/char/1:5", "")
	}, errnoCode(syscall.ENOTDIR)},
	{"a subsystem linking to the root directory is an invalid file type", subsystemTo("/"), ErrInvalidFileType},
	{"an absolute subsystem link to the dax bus is Device DAX", func(s *sysfsTree) {
		s.busDAX("1:5")
		s.link(busDevDir+"/subsystem", s.path("bus/dax"))
	}, 0},
	{"a dev/char entry that is the device directory itself is Device DAX", func(s *sysfsTree) {
		s.busDAX("1:5")
		s.remove("dev/char/1:5")
		if err := os.Rename(s.path(busDevDir), s.path("dev/char/1:5")); err != nil {
			s.t.Fatal(err)
		}
		s.link("dev/char/1:5/subsystem", "../../../bus/dax")
	}, 0},
	{"a chain of 40 links in all resolves, as glibc and the kernel allow", func(s *sysfsTree) { linkChain(s, 40) }, 0},
	{"a chain of 41 links in all is ELOOP", func(s *sysfsTree) { linkChain(s, 41) }, errnoCode(syscall.ELOOP)},
	{"a resolved path of 4095 bytes fits PATH_MAX", func(s *sysfsTree) { longDAX(s, 4095) }, 0},
	{"a resolved path of 4096 bytes does not fit PATH_MAX: ENAMETOOLONG", func(s *sysfsTree) { longDAX(s, 4096) }, errnoCode(syscall.ENAMETOOLONG)},
}

// linkChain lays out a Device DAX whose subsystem resolves through total
// symlinks in all: dev/char/1:5, subsystem and total-2 hops.
func linkChain(s *sysfsTree, total int) {
	s.busDAX("1:5")
	hops := total - 2
	for i := 1; i < hops; i++ {
		s.link("chain/l"+strconv.Itoa(i), "l"+strconv.Itoa(i+1))
	}
	s.link("chain/l"+strconv.Itoa(hops), "../bus/dax")
	s.link(busDevDir+"/subsystem", "../../../../../../../chain/l1")
}

// longDAX lays out a Device DAX whose subsystem resolves to a directory
// named dax with a path of exactly n bytes.
func longDAX(s *sysfsTree, n int) {
	s.t.Helper()
	s.busDAX("1:5")
	dirfd, err := unix.Open(s.root, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		s.t.Fatal(err)
	}
	full, mid := s.path("long"), ""
	comps := []string{"long"}
	for left := n - len(full) - len("/dax"); left > 0; {
		l := min(200, left-1)
		if rem := left - (l + 1); rem > 0 && rem < 2 {
			l-- // leave room for one more component of at least one byte
		}
		comps = append(comps, strings.Repeat("x", l))
		left -= l + 1
	}
	comps = append(comps, "dax")
	for i, c := range comps {
		if err := unix.Mkdirat(dirfd, c, 0o755); err != nil {
			s.t.Fatal(err)
		}
		next, err := unix.Openat(dirfd, c, unix.O_PATH|unix.O_DIRECTORY, 0)
		if err != nil {
			s.t.Fatal(err)
		}
		unix.Close(dirfd)
		dirfd = next
		if i > 0 {
			full += "/" + c
		}
		if i == len(comps)/2 {
			mid = full
		}
	}
	unix.Close(dirfd)
	if len(full) != n {
		s.t.Fatalf("built a path of %d bytes, want %d", len(full), n)
	}
	// Symlink targets are limited to PATH_MAX too: go half way by one.
	s.link("half", mid)
	s.link(busDevDir+"/subsystem", s.path("half")+full[len(mid):])
}

// glibcCode is what C computes from the tree: realpath into a PATH_MAX
// buffer, then the test on the last component.
func glibcCode(root string) Code {
	r, errno := crealpath.Realpath(root + "/dev/char/1:5/subsystem")
	if errno != 0 {
		return errnoCode(errno)
	}
	if r[strings.LastIndexByte(r, '/')+1:] != "dax" {
		return ErrInvalidFileType
	}
	return 0
}

func TestCharDeviceClassificationMatchesC(t *testing.T) {
	zero := testutil.OpenFD(t, "/dev/zero", unix.O_RDONLY)
	for _, tt := range classifyCases {
		t.Run(tt.name, func(t *testing.T) {
			s := newSysfs(t)
			tt.build(s)
			if c := glibcCode(s.root); c != tt.want {
				t.Fatalf("glibc's realpath gives %s, the case expects %s: fix the case", c.Name(), tt.want.Name())
			}
			for _, via := range []struct {
				name string
				opt  Option
			}{{"/proc", Option{}}, {"the user-space walk", Option{procFD: "/nonexistent/fd"}}} {
				src, err := SourceFromFD(zero, WithSysfsRoot(s.root), via.opt)
				if CodeOf(err) != int(tt.want) {
					t.Fatalf("through %s: %v, want %s", via.name, err, tt.want.Name())
				}
				wantCode(t, err, tt.want)
				if tt.want == 0 && src.Type() != FileTypeDevDAX {
					t.Fatalf("through %s: type %v", via.name, src.Type())
				}
				if tt.want != 0 {
					var pe *Error
					if !asError(err, &pe) || !strings.HasSuffix(pe.Path, "/dev/char/1:5/subsystem") {
						t.Fatalf("through %s: %q does not name the subsystem path", via.name, err)
					}
				}
			}
		})
	}
}

func TestSubsystemBehindASearchForbiddenDirectoryIsEACCES(t *testing.T) {
	s := newSysfs(t)
	s.busDAX("1:5")
	require.NoError(t, os.Chmod(s.path("bus"), 0))
	t.Cleanup(func() { os.Chmod(s.path("bus"), 0o755) })
	zero := testutil.OpenFD(t, "/dev/zero", unix.O_RDONLY)
	var got, glibc Code
	withoutDACOverride(t, func() {
		_, err := SourceFromFD(zero, WithSysfsRoot(s.root))
		got = Code(CodeOf(err))
		glibc = glibcCode(s.root)
	})
	if want := errnoCode(syscall.EACCES); got != want || glibc != want {
		t.Fatalf("got %s, glibc %s, want %s", got.Name(), glibc.Name(), want.Name())
	}
}

func TestRealSysfsSaysDevNullIsNotDeviceDAX(t *testing.T) {
	if _, err := os.Stat("/sys/dev/char/1:3"); err != nil {
		t.Fatalf("this test needs the real sysfs mounted on /sys: %v", err)
	}
	null := testutil.OpenFD(t, "/dev/null", unix.O_RDWR)
	_, err := SourceFromFD(null)
	wantCode(t, err, ErrInvalidFileType)
	_, err = SourceFromFD(null, WithSysfsRoot("")) // the empty root is the default
	wantCode(t, err, ErrInvalidFileType)
}

func TestSysfsRootMayBeRelativeOrEndInASlash(t *testing.T) {
	s := newSysfs(t)
	s.busDAX("1:5")
	wd, err := os.Getwd()
	require.NoError(t, err)
	rel, err := filepath.Rel(wd, s.root)
	require.NoError(t, err)
	zero := testutil.OpenFD(t, "/dev/zero", unix.O_RDONLY)
	for _, root := range []string{rel, s.root + "/", s.root + "//."} {
		for _, via := range []Option{{}, {procFD: "/nonexistent/fd"}} {
			src, err := SourceFromFD(zero, WithSysfsRoot(root), via)
			wantCode(t, err, 0)
			align, err := src.Alignment()
			wantCode(t, err, 0)
			if align != 2<<20 {
				t.Fatalf("root %q: alignment %d", root, align)
			}
		}
	}
}

// TestCanonicalPathsAreGlibcRealpath holds both ways of resolving (the
// kernel's and the fallback walk) against glibc on every tree above and on
// paths with dots, slashes, dangling links and files in the middle.
func TestCanonicalPathsAreGlibcRealpath(t *testing.T) {
	check := func(name string) {
		t.Helper()
		want, werr := crealpath.Realpath(name)
		walk, walkErr := realpathWalk(name)
		if walk != want || walkErr != werr {
			t.Errorf("realpath(%q): the walk gives %q %v, glibc %q %v", name, walk, walkErr, want, werr)
		}
		if name == "" {
			return // no C string to hand to the kernel
		}
		got, kerr := kernelCanonical(name)
		if werr == syscall.ENAMETOOLONG && kerr == 0 && len(name) < 200 && strings.HasSuffix(name, "/..") {
			// The documented divergence, tested on its own below: glibc
			// passed through a path longer than PATH_MAX on the way.
			return
		}
		if got != want || kerr != werr {
			t.Errorf("realpath(%q): the kernel gives %q %v, glibc %q %v", name, got, kerr, want, werr)
		}
	}
	s := newSysfs(t)
	s.busDAX("1:5")
	s.file("afile", "")
	s.link("tofile", "afile")
	s.link("dangling", "nowhere")
	s.link("up", "..")
	for _, p := range []string{
		"dev/char/1:5", "dev/char/1:5/", "dev/char/1:5/.", "dev/char/1:5/..", "dev/char/1:5/../..",
		"dev/char/1:5/subsystem", "dev/char/1:5/subsystem/", "dev/char/1:5/subsystem/..",
		"dev//char///1:5//subsystem//", "./dev/./char/../char/1:5",
		"afile", "afile/", "afile/.", "afile/..", "afile/x", "afile/./x", "tofile", "tofile/", "tofile/..",
		"dangling", "dangling/", "dangling/..", "missing", "missing/..", "up", "up/up", "up/..",
		"afile/.x", "dev/char/1:5/.hidden", "dev/char/1:5/..x",
	} {
		check(s.path(p))
		check(s.root + "/" + p)
	}
	for _, p := range []string{"", "/", "//", "/..", ".", "..", "./..", "/proc/self/cwd"} {
		check(p)
	}
	for _, tt := range classifyCases {
		s := newSysfs(t)
		tt.build(s)
		check(s.root + "/dev/char/1:5/subsystem")
		check(s.root + "/dev/char/1:5")
		check(s.root + "/dev/char/1:5/subsystem/..")
	}
}

func kernelCanonical(name string) (string, syscall.Errno) {
	var out [pathMax + 1]byte
	n, errno := canonical(append([]byte(name), 0), out[:], "/proc/self/fd")
	return string(out[:n]), errno
}

// The kernel limits the resolved path to PATH_MAX, glibc every path it
// builds on the way: a detour deeper than PATH_MAX and back resolves here,
// and fails in C. The package documentation states this divergence; the
// fallback walk sides with glibc.
func TestADetourLongerThanPathMaxResolvesUnlikeGlibc(t *testing.T) {
	s := newSysfs(t)
	longDAX(s, 4096)
	name := s.root + "/dev/char/1:5/subsystem/.."
	if _, errno := crealpath.Realpath(name); errno != syscall.ENAMETOOLONG {
		t.Fatalf("glibc: %v, want ENAMETOOLONG", errno)
	}
	if _, errno := realpathWalk(name); errno != syscall.ENAMETOOLONG {
		t.Fatalf("the walk: %v, want ENAMETOOLONG", errno)
	}
	got, errno := kernelCanonical(name)
	if errno != 0 || len(got) != 4096-len("/dax") {
		t.Fatalf("the kernel: %d bytes, %v; want the 4092-byte parent of dax", len(got), errno)
	}
}

func asError(err error, target **Error) bool {
	pe, ok := err.(*Error)
	if ok {
		*target = pe
	}
	return ok
}
