package pmem2

import (
	"math"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// daxSource is /dev/zero (1:5) as a Device DAX of the fake sysfs s.
func daxSource(t *testing.T, s *sysfsTree, flags int) *Source {
	t.Helper()
	src, err := SourceFromFD(testutil.OpenFD(t, "/dev/zero", flags), WithSysfsRoot(s.root))
	wantCode(t, err, 0)
	if src.Type() != FileTypeDevDAX {
		t.Fatalf("type %v", src.Type())
	}
	return src
}

// sysfsFileCases are the ways a sysfs number file can be: content, or a
// thing standing where the file should be.
type sysfsFileCase struct {
	name    string
	content string                         // written to the file, unless put is set
	put     func(s *sysfsTree, rel string) // replaces the file
	want    uint64
	code    Code
}

// checkSysfsFile runs each case in a subtest: the file rel of a Device
// DAX's fake sysfs is as the case says, and call on the device returns
// the case's want and code; failed, if set, checks a failure further.
func checkSysfsFile(t *testing.T, cases []sysfsFileCase, rel string, call func(*Source) (uint64, error),
	failed func(t *testing.T, s *sysfsTree, err error)) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			s := newSysfs(t)
			s.busDAX("1:5")
			if tt.put != nil {
				tt.put(s, rel)
			} else {
				s.remove(rel)
				s.file(rel, tt.content)
			}
			got, err := call(daxSource(t, s, unix.O_RDONLY))
			wantCode(t, err, tt.code)
			if got != tt.want {
				t.Fatalf("got %d, want %d", got, tt.want)
			}
			if tt.code != 0 && failed != nil {
				failed(t, s, err)
			}
		})
	}
}

func putDir(s *sysfsTree, rel string)  { s.remove(rel); s.dir(rel) }
func putFIFO(s *sysfsTree, rel string) { s.fifo(rel) }
func putDevZero(s *sysfsTree, rel string) {
	s.link(rel, "/dev/zero")
}
func putHuge(s *sysfsTree, rel string) {
	s.remove(rel)
	if err := os.WriteFile(s.path(rel), []byte(strings.Repeat("1", 100)+"\n"), 0o444); err != nil {
		s.t.Fatal(err)
	}
	if err := os.Truncate(s.path(rel), 1<<30); err != nil {
		s.t.Fatal(err)
	}
}
func putMissing(s *sysfsTree, rel string) { s.remove(rel) }

func TestDeviceDAXSizeFollowsPMDK19(t *testing.T) {
	cases := []sysfsFileCase{
		{name: "a decimal size is read", content: "2097152\n", want: 2097152},
		{name: "a hex size with 0x is read as hex", content: "0x200000\n", want: 2097152},
		{name: "a hex size with 0X is read as hex", content: "0X10\n", want: 16},
		{name: "a size with a leading 0 is octal", content: "010\n", want: 8},
		{name: "zero is a size", content: "0\n", want: 0},
		{name: "leading white space is skipped", content: " \t\v\f\r\n42\n", want: 42},
		{name: "a plus sign is accepted", content: "+42\n", want: 42},
		{name: "a minus sign negates modulo 2^64 as strtoull does", content: "-1\n", want: math.MaxUint64},
		{name: "the largest 64-bit number is a size", content: "18446744073709551615\n", want: math.MaxUint64},
		{name: "only the first newline matters", content: "42\nrest\n", want: 42},
		{name: "a size without a newline is an invalid size format", content: "2097152", code: ErrInvalidSizeFormat},
		{name: "a size followed by a space is an invalid size format", content: "42 \n", code: ErrInvalidSizeFormat},
		{name: "a word is an invalid size format", content: "big\n", code: ErrInvalidSizeFormat},
		{name: "an empty file is an invalid size format", content: "", code: ErrInvalidSizeFormat},
		{name: "a lone newline is an invalid size format", content: "\n", code: ErrInvalidSizeFormat},
		{name: "0x without digits is an invalid size format", content: "0x\n", code: ErrInvalidSizeFormat},
		{name: "an 8 after a leading 0 is an invalid size format", content: "08\n", code: ErrInvalidSizeFormat},
		{name: "a NUL byte before the newline is an invalid size format", content: "42\x00\n", code: ErrInvalidSizeFormat},
		{name: "a number past 2^64 is ERANGE", content: "18446744073709551616\n", code: errnoCode(syscall.ERANGE)},
		{name: "a negative number past 2^64 is ERANGE", content: "-99999999999999999999\n", code: errnoCode(syscall.ERANGE)},
		{name: "only 64 bytes are read, so a longer number loses its newline", content: strings.Repeat("0", 64) + "1\n", code: ErrInvalidSizeFormat},
		{name: "a number ending at byte 64 keeps its newline", content: strings.Repeat("0", 61) + "12\n", want: 10},
		{name: "a FIFO reads as empty: an invalid size format, never a hang", put: putFIFO, code: ErrInvalidSizeFormat},
		{name: "a directory fails to read with EISDIR", put: putDir, code: errnoCode(syscall.EISDIR)},
		{name: "a device node reads 64 NUL bytes: an invalid size format", put: putDevZero, code: ErrInvalidSizeFormat},
		{name: "a 1 GiB file is read 64 bytes deep: an invalid size format", put: putHuge, code: ErrInvalidSizeFormat},
		{name: "a missing size file is ENOENT", put: putMissing, code: errnoCode(syscall.ENOENT)},
	}
	checkSysfsFile(t, cases, busDevDir+"/size", (*Source).Size, func(t *testing.T, s *sysfsTree, err error) {
		if !strings.Contains(err.Error(), s.path(busDevDir)+"/size") &&
			!strings.Contains(err.Error(), s.root+"/dev/char/1:5/size") {
			t.Fatalf("%q does not name the size file", err)
		}
	})
}

func TestDeviceDAXSizeNeedsADAXRegion(t *testing.T) {
	t.Run("a Device DAX outside any dax region has no size, where C crashes", func(t *testing.T) {
		s := newSysfs(t)
		s.busDAX("1:5")
		s.remove(regionDir)
		_, err := daxSource(t, s, unix.O_RDONLY).Size()
		wantCode(t, err, ErrDAXRegionNotFound)
	})
	t.Run("a dax_region without align does not count", func(t *testing.T) {
		s := newSysfs(t)
		s.busDAX("1:5")
		s.remove(regionDir + "/align")
		_, err := daxSource(t, s, unix.O_RDONLY).Size()
		wantCode(t, err, ErrDAXRegionNotFound)
	})
	t.Run("a dax region of the old class layout counts", func(t *testing.T) {
		s := newSysfs(t)
		s.classDAX("1:5")
		size, err := daxSource(t, s, unix.O_RDONLY).Size()
		wantCode(t, err, 0)
		if size != testDAXSize {
			t.Fatalf("size %d", size)
		}
	})
	t.Run("the size is checked before the region", func(t *testing.T) {
		s := newSysfs(t)
		s.busDAX("1:5")
		s.remove(regionDir)
		s.file(busDevDir+"/size", "junk\n")
		_, err := daxSource(t, s, unix.O_RDONLY).Size()
		wantCode(t, err, ErrInvalidSizeFormat)
	})
}

func TestDeviceDAXSizeStatsTheFDFirst(t *testing.T) {
	s := newSysfs(t)
	s.busDAX("1:5")
	fd, err := unix.Open("/dev/zero", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	src, err := SourceFromFD(fd, WithSysfsRoot(s.root))
	wantCode(t, err, 0)
	unix.Close(fd)
	_, err = src.Size()
	wantCode(t, err, ErrInvalidFileHandle)
}

func TestDeviceDAXAlignmentFollowsPMDK19(t *testing.T) {
	cases := []sysfsFileCase{
		{name: "a decimal alignment is read", content: "2097152\n", want: 2097152},
		{name: "a page alignment is read", content: "4096\n", want: 4096},
		{name: "a decimal that is no power of two is read again as hex", content: "1000\n", want: 4096},
		{name: "an old kernel's hex alignment is read as hex", content: "200000\n", want: 2097152},
		{name: "a hex 0x alignment is an invalid alignment format", content: "0x1000\n", code: ErrInvalidAlignmentFormat},
		{name: "hex letters are an invalid alignment format", content: "1a\n", code: ErrInvalidAlignmentFormat},
		{name: "a word is an invalid alignment format", content: "huge\n", code: ErrInvalidAlignmentFormat},
		{name: "an alignment without newline is an invalid alignment format", content: "4096", code: ErrInvalidAlignmentFormat},
		{name: "an empty file is an invalid alignment format", content: "", code: ErrInvalidAlignmentFormat},
		{name: "a NUL byte is an invalid alignment format", content: "4096\x00\n", code: ErrInvalidAlignmentFormat},
		{name: "zero is an invalid alignment value", content: "0\n", code: ErrInvalidAlignmentValue},
		{name: "three is an invalid alignment value in both bases", content: "3\n", code: ErrInvalidAlignmentValue},
		{name: "a negative alignment is an invalid alignment value", content: "-4096\n", code: ErrInvalidAlignmentValue},
		{name: "a number past 2^64 is ERANGE", content: "18446744073709551616\n", code: errnoCode(syscall.ERANGE)},
		{name: "2^64-1 is no power of two and overflows as hex: ERANGE", content: "18446744073709551615\n", code: errnoCode(syscall.ERANGE)},
		{name: "a FIFO reads as empty: an invalid alignment format, never a hang", put: putFIFO, code: ErrInvalidAlignmentFormat},
		{name: "a directory fails to read with EISDIR", put: putDir, code: errnoCode(syscall.EISDIR)},
		{name: "a device node reads NUL bytes: an invalid alignment format", put: putDevZero, code: ErrInvalidAlignmentFormat},
		{name: "a 1 GiB file is read 64 bytes deep: an invalid alignment format", put: putHuge, code: ErrInvalidAlignmentFormat},
		{name: "a missing align file leaves the alignment 0: an invalid alignment value", put: putMissing, code: ErrInvalidAlignmentValue},
	}
	checkSysfsFile(t, cases, regionDir+"/align", (*Source).Alignment, nil)
}

func TestDeviceDAXAlignmentWalk(t *testing.T) {
	tests := []struct {
		name  string
		build func(s *sysfsTree)
		want  uint64
		code  Code
	}{
		{"the old class layout finds the region two levels up", func(s *sysfsTree) { s.classDAX("1:5") }, 2 << 20, 0},
		{"the nearest dax_region wins", func(s *sysfsTree) {
			s.busDAX("1:5")
			s.file("devices/platform/e820_pmem/ndbus0/region0/dax_region/align", "4096\n")
		}, 2 << 20, 0},
		{"a region higher up is found", func(s *sysfsTree) {
			s.busDAX("1:5")
			s.remove(regionDir)
			s.file("devices/platform/dax_region/align", "4096\n")
		}, 4096, 0},
		{"devices/dax_region is still tried before the walk stops, as in C", func(s *sysfsTree) {
			s.busDAX("1:5")
			s.remove(regionDir)
			s.file("devices/dax_region/align", "65536\n")
		}, 65536, 0},
		{"the walk stops at devices", func(s *sysfsTree) {
			s.busDAX("1:5")
			s.remove(regionDir)
			s.file("dax_region/align", "4096\n")
		}, 0, ErrInvalidAlignmentValue},
		{"a device outside devices is walked up past the sysfs root, as C walks past /sys", func(s *sysfsTree) {
			s.busDAX("1:5")
			s.remove(regionDir)
			s.dir("elsewhere/zero")
			s.link("dev/char/1:5", "../../elsewhere/zero")
			s.file("dax_region/align", "8192\n")
		}, 8192, 0},
		{"an align that cannot be opened sends the walk upwards", func(s *sysfsTree) {
			s.busDAX("1:5")
			s.link(regionDir+"/align", "nowhere")
			s.file("devices/platform/dax_region/align", "4096\n")
		}, 4096, 0},
		{"a dangling dev/char entry is ENOENT", func(s *sysfsTree) {
			s.busDAX("1:5")
			s.link("dev/char/1:5", "gone")
		}, 0, errnoCode(syscall.ENOENT)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSysfs(t)
			s.busDAX("1:5")
			src := daxSource(t, s, unix.O_RDONLY)
			s2 := &sysfsTree{t: t, root: s.root}
			s2.remove("devices")
			s2.remove("dev")
			tt.build(s2)
			for _, procFD := range []string{"/proc/self/fd", "/nonexistent/fd"} {
				src.procFD = procFD // the user-space walk must agree
				align, err := src.Alignment()
				wantCode(t, err, tt.code)
				if align != tt.want {
					t.Fatalf("alignment %d, want %d", align, tt.want)
				}
			}
		})
	}
}

func TestUnreadableSysfsFiles(t *testing.T) {
	s := newSysfs(t)
	s.busDAX("1:5")
	src := daxSource(t, s, unix.O_RDONLY)
	for _, p := range []string{busDevDir + "/size", regionDir + "/align"} {
		require.NoError(t, os.Chmod(s.path(p), 0))
	}
	s.file("devices/platform/dax_region/align", "4096\n")
	var sizeErr, alignErr error
	var align uint64
	withoutDACOverride(t, func() {
		_, sizeErr = src.Size()
		align, alignErr = src.Alignment()
	})
	t.Run("a size file without read permission is EACCES", func(t *testing.T) {
		wantCode(t, sizeErr, errnoCode(syscall.EACCES))
	})
	t.Run("an align file without read permission is passed over for one higher up", func(t *testing.T) {
		wantCode(t, alignErr, 0)
		if align != 4096 {
			t.Fatalf("alignment %d", align)
		}
	})
}
