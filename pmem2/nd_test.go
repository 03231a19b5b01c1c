package pmem2

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"golang.org/x/sys/unix"
)

// goResult runs Size and Alignment of the port on the descriptor of open
// with the tree's sysfs.
func goResult(t testing.TB, s *sysfsTree, fd int) ndResult {
	t.Helper()
	src, err := SourceFromFD(fd, WithSysfsRoot(s.root))
	wantCode(t, err, 0)
	var r ndResult
	r.Size.V, err = src.Size()
	r.Size.Code = Code(CodeOf(err))
	if err != nil {
		r.Size.V = 0
	}
	r.Align.V, err = src.Alignment()
	r.Align.Code = Code(CodeOf(err))
	if err != nil {
		r.Align.V = 0
	}
	return r
}

// TestDeviceDAXSizeAndAlignmentAreLibndctls runs every tree of ndCases
// through the port, as root and as uid 65534; nd_c_test.go runs the same
// trees through the C library.
func TestDeviceDAXSizeAndAlignmentAreLibndctls(t *testing.T) {
	for _, c := range ndCases {
		t.Run(c.Name, func(t *testing.T) {
			s := openTree(t, c.Build)
			fd := testutil.OpenFD(t, c.OpenPath(), unix.O_PATH)
			asRootAndNobody(t, func(t *testing.T, root bool) {
				if got, want := goResult(t, s, fd), c.Want(root, false); got != want {
					t.Errorf("%s; want %s", got, want)
				}
			})
		})
	}
}

// The direct route and the walk are two ways to one answer: on every tree
// where the direct route finds the device as libndctl would (lookupExact),
// the walk finds the same, in both modes.
func TestTheWalkAgreesWithTheDirectRoute(t *testing.T) {
	type fileID struct{ dev, ino uint64 }
	for _, c := range ndCases {
		s := newSysfs(t)
		c.Build(s)
		src, err := SourceFromFD(testutil.OpenFD(t, c.OpenPath(), unix.O_PATH), WithSysfsRoot(s.root))
		wantCode(t, err, 0)
		var direct ndDevice
		if src.directDevDAX(&direct, lookupExact) != "" {
			continue
		}
		dirID := func(p []byte) fileID {
			var st unix.Stat_t
			if !statPath(append(append([]byte(nil), p...), 0), &st) {
				t.Fatalf("%s: stat %s failed", c.Name, p)
			}
			return fileID{st.Dev, st.Ino}
		}
		for _, mode := range []lookupMode{lookupDevice, lookupExact} {
			var walk ndDevice
			if !src.walkDevDAX(&walk, mode) {
				t.Errorf("%s (mode %d): the direct route finds %s, the walk nothing", c.Name, mode, direct.dev())
				continue
			}
			if dirID(direct.ndDax()) != dirID(walk.ndDax()) || dirID(direct.region()) != dirID(walk.region()) ||
				dirID(direct.bus()) != dirID(walk.bus()) ||
				// Which of several namespaces holding one nd_dax is C's first
				// matters only where libndctl keeps them all.
				mode == lookupExact && string(direct.namespaceName()) != string(walk.namespaceName()) {
				t.Errorf("%s (mode %d): the direct route finds %s (namespace %s), the walk %s (namespace %s)", c.Name, mode,
					direct.dev(), direct.namespaceName(), walk.dev(), walk.namespaceName())
			}
		}
	}
}

// lookupExact is libndctl's verdict on whether the device is found: on
// every tree, exactly where the C library does not crash.
func TestExactLookupFindsTheDeviceWhereCDoes(t *testing.T) {
	for _, c := range ndCases {
		for _, root := range []bool{true, false} {
			want := c.Want(root, true)
			if want.Hang {
				continue // C never answers
			}
			s := openTree(t, c.Build)
			src, err := SourceFromFD(testutil.OpenFD(t, c.OpenPath(), unix.O_PATH), WithSysfsRoot(s.root))
			wantCode(t, err, 0)
			var miss string
			find := func() {
				var d ndDevice
				miss = src.findDevDAX(&d, lookupExact)
			}
			if root {
				find()
			} else {
				if os.Geteuid() != 0 {
					continue // asUser says why in TestDeviceDAXSizeAndAlignmentAreLibndctls
				}
				asUser(t, nobody, find)
			}
			if found := miss == ""; found == want.Crash {
				t.Errorf("%s (root %v): exact lookup found %v (%s); C crashes: %v", c.Name, root, found, miss, want.Crash)
			}
		}
	}
}

// An attribute of 1024 bytes or more fills libndctl's buffer, and C then
// returns whatever errno its earlier calls left (see the package
// documentation): the port counts it as unreadable.
func TestAttributesOfAKibibyteAreUnreadable(t *testing.T) {
	long := strings.Repeat("1", attrSize)
	for _, tt := range []struct {
		name, rel, content string
		want               ndResult
	}{
		{"an nd_dax size of 1024 bytes is ULLONG_MAX", ndDax0 + "/size", long, ok(math.MaxUint64, testDAXSize)},
		{"an nd_dax align of 1024 bytes is 0, an invalid alignment value", ndDax0 + "/align", long,
			withAlign(testDAXSize, ErrInvalidAlignmentValue)},
		{"a device size of 1024 bytes leaves the device out", busDevDir + "/size", long, notFound},
		{"an nd_dax size of 1023 bytes is read", ndDax0 + "/size", "4096" + strings.Repeat(" ", attrSize-5),
			ok(4096, testDAXSize)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSysfs(t)
			s.busDAX("1:5")
			s.file(tt.rel, tt.content)
			if got := goResult(t, s, testutil.OpenFD(t, "/dev/zero", unix.O_PATH)); got != tt.want {
				t.Errorf("%s; want %s", got, tt.want)
			}
		})
	}
}

// The lexical join of the dev/char link is filepath.Clean's.
func TestCleanPathIsFilepathClean(t *testing.T) {
	for _, p := range []string{
		"/sys/dev/char/../../devices/platform/x", "sys/dev/char/../../../../x", "/", "", ".", "..", "../..",
		"/../x", "a//b/./c/", "a/b/../../..", "/a/b/../../..", "./a", "a/..", "//a//", "/a/./b/../c/.",
		"x/../../y/./z", "../a/../b",
	} {
		var buf [pathMax + 1]byte
		n := cleanPath(buf[:], []byte(p))
		if got, want := string(buf[:n]), filepath.Clean(p); got != want {
			t.Errorf("cleanPath(%q) = %q, filepath.Clean %q", p, got, want)
		}
	}
	var buf [pathMax + 1]byte
	if n := cleanPath(buf[:], []byte("/"+strings.Repeat("x", pathMax))); n != -1 {
		t.Errorf("a path past PATH_MAX cleaned to %d bytes", n)
	}
}

// The sscanf patterns libndctl recognises devices by.
func TestNamesAreMatchedAsSscanfMatchesThem(t *testing.T) {
	for _, tt := range []struct {
		name, prefix string
		id           int32
		ok           bool
	}{
		{"region0", "region", 0, true},
		{"region12", "region", 12, true},
		{"region 7", "region", 7, true},
		{"region+7x", "region", 7, true},
		{"region-1", "region", -1, true},
		{"region4294967296", "region", 0, true},            // the low 32 bits of a long
		{"region99999999999999999999", "region", -1, true}, // LONG_MAX, then (int)
		{"regionX", "region", 0, false},
		{"region", "region", 0, false},
		{"Region0", "region", 0, false},
		{"dax0.01", "dax0.", 1, true},
		{"dax00.1", "dax0.", 0, false},
	} {
		id, ok := scanName([]byte(tt.name), []byte(tt.prefix))
		if id != tt.id || ok != tt.ok {
			t.Errorf("sscanf(%q, \"%s%%d\") = %d, %v; want %d, %v", tt.name, tt.prefix, id, ok, tt.id, tt.ok)
		}
	}
	for _, tt := range []struct {
		s    string
		x, y int32
		ok   bool
	}{{"250:0", 250, 0, true}, {" 250: 3x", 250, 3, true}, {"250", 0, 0, false}, {"250 :0", 0, 0, false}, {":0", 0, 0, false}} {
		x, y, ok := scanPair([]byte(tt.s), "", ':')
		if x != tt.x || y != tt.y || ok != tt.ok {
			t.Errorf("sscanf(%q, \"%%d:%%d\") = %d, %d, %v; want %d, %d, %v", tt.s, x, y, ok, tt.x, tt.y, tt.ok)
		}
	}
}

// Size stats the descriptor before it looks at sysfs, as C does.
func TestDeviceDAXSizeStatsTheFDFirst(t *testing.T) {
	s := newSysfs(t)
	s.busDAX("1:5")
	fd, err := unix.Open("/dev/zero", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	src, err := SourceFromFD(fd, WithSysfsRoot(s.root))
	wantCode(t, err, 0)
	unix.Close(fd)
	_, err = src.Size()
	wantCode(t, err, ErrInvalidFileHandle)
}

// twoDevNodes breaks the kernel's rule of one /dev node per device number:
// /dev/dax0.0 (region0) and /dev/dax1.0 (region1, 1 GiB, 4 KiB aligned)
// both carry 1:5, and sys/dev/char/1:5 leads to dax0.0.
func twoDevNodes(s *sysfsTree) {
	twoRegions(s)
	s.devNode("dax1.0", "/dev/zero")
	s.linkTo("dev/char/1:5", busDevDir)
}

// TestTwoNodesOfOneNumber shows the one rule the port takes from the
// kernel without checking it (package documentation, "What the port
// reads"): where two Device DAX nodes carry the descriptor's number, C
// takes the nd_dax of the namespace it visits first, the port the one
// sys/dev/char names. nd_c_test.go asserts C's side.
func TestTwoNodesOfOneNumber(t *testing.T) {
	s := newSysfs(t)
	twoDevNodes(s)
	if got := goResult(t, s, testutil.OpenFD(t, "/dev/zero", unix.O_PATH)); got != healthy {
		t.Errorf("%s; want dax0.0's %s", got, healthy)
	}
}
