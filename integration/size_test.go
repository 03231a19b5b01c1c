package integration_test

import (
	"math"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2"
	"github.com/stretchr/testify/require"
)

// TestSize covers pmem2_source_size: st_size of regular files, the sysfs
// size file of a Device DAX in every form it can take, and every way reading
// either can fail.
func TestSize(t *testing.T) {
	t.Run("regular files", func(t *testing.T) {
		sizeCall.checkEach(t, start(t, nil), []sourceCase{
			{"data/empty", rdonly, valueCase{name: "an empty file has size 0", value: 0}},
			{"data/small", rdonly, valueCase{name: "a small file has its length", value: 12}},
			{"data/sparse", rdonly, valueCase{name: "a sparse 1 TiB file has its st_size", value: 1 << 40}},
			{"data/link", rdonly, valueCase{name: "a file opened through a symlink has the file's size", value: 12}},
			{"data/small", rdwr, valueCase{name: "a file opened O_RDWR has its length", value: 12}},
			{"data/small", opath, valueCase{name: "a file opened O_PATH has its length", value: 12}},
		})
	})

	t.Run("a regular file's size is a fresh fstat on every call", func(t *testing.T) {
		f := start(t, nil)
		src, _ := newSource(t, f, "data/small", rdonly)
		sizeCall.check(t, f, src, valueCase{value: 12})
		require.NoError(t, f.WriteFile("data/small", []byte(strings.Repeat("x", 100))))
		sizeCall.check(t, f, src, valueCase{value: 100})
	})

	t.Run("an anonymous source has the size it was given", func(t *testing.T) {
		src, err := pmem2.SourceFromAnon(12345)
		wantCode(t, err, 0)
		sizeCall.check(t, nil, src, valueCase{value: 12345})
	})

	t.Run("fstat failing", func(t *testing.T) {
		for _, c := range []struct {
			errno string
			want  pmem2.Code
		}{
			{"EIO", -5},
			{"EACCES", -13},
			{"ESTALE", -116},
			{"EBADF", pmem2.ErrInvalidFileHandle},
		} {
			t.Run("fstat failing with "+c.errno+" is "+c.want.Name(), func(t *testing.T) {
				f := start(t, nil)
				src, _ := newSource(t, f, "data/small", rdonly)
				addFault(t, f, "data/small", "getattr", c.errno)
				if callsDuring(f, "data/small", fusefs.OpGetattr, func() {
					sizeCall.check(t, f, src, valueCase{want: c.want, msg: []string{"pmem2_source_size", "fstat"}})
				}) == 0 {
					t.Error("fstat did not reach the server")
				}
			})
		}
		t.Run("fstat failing on a Device DAX is -errno before any sysfs file is read", func(t *testing.T) {
			f := start(t, nil)
			src, _ := newSource(t, f, "dev/dax0.0", opath)
			addFault(t, f, "dev/dax0.0", "getattr", "EIO")
			sizeFile := ndDaxDir(t, f, dax0Char) + "/size"
			if n := callsDuring(f, sizeFile, fusefs.OpRead, func() {
				sizeCall.check(t, f, src, valueCase{want: -5, msg: []string{"pmem2_source_size", "fstat"}})
			}); n != 0 {
				t.Errorf("the nd_dax's size was read %d times after fstat failed", n)
			}
		})
		t.Run("a descriptor closed after SourceFromFD is an invalid handle", func(t *testing.T) {
			f := start(t, nil)
			fd := highDup(t, testutil.OpenFD(t, f.Path("data/small"), rdonly))
			src, err := fromFD(f, fd)
			wantCode(t, err, 0)
			require.NoError(t, unix.Close(fd))
			sizeCall.check(t, f, src, valueCase{want: pmem2.ErrInvalidFileHandle, msg: []string{"fstat", "bad file descriptor"}})
		})
	})

	t.Run("Device DAX", func(t *testing.T) {
		sizeCall.checkEach(t, start(t, nil), []sourceCase{
			{"dev/dax0.0", opath, valueCase{name: "a Device DAX on the dax bus has its nd_dax's size", value: gib}},
			{"dev/dax1.0", opath, valueCase{name: "a Device DAX in the dax class has its nd_dax's size", value: 512 * mib}},
			{"dev/dax2.0", opath, valueCase{name: "a Device DAX with no NVDIMM bus is DAX_REGION_NOT_FOUND where C crashes",
				want: pmem2.ErrDAXRegionNotFound,
				msg:  []string{"pmem2_source_size", "find nd_dax", "{sys}/dev/char/252:2", "no nd_dax in an NVDIMM region"}}},
		})
	})

	t.Run("a Device DAX's size is its nd_dax's, whatever its own size file and dax_region say", func(t *testing.T) {
		f := start(t, nil)
		src, _ := newSource(t, f, "dev/dax0.0", opath)
		require.NoError(t, f.WriteFile(devDir(t, f, dax0Char)+"/size", []byte("one gigabyte\n")))
		require.NoError(t, f.Remove(ndDaxDir(t, f, dax0Char)+"/dax_region"))
		sizeCall.check(t, f, src, valueCase{value: gib})
	})

	t.Run("one call reads two sysfs files: the device's size and the nd_dax's", func(t *testing.T) {
		f := start(t, nil)
		src, _ := newSource(t, f, "dev/dax0.0", opath)
		sizeCall.check(t, f, src, valueCase{value: gib})
		f.Server().ResetCalls()
		sizeCall.check(t, f, src, valueCase{value: gib})
		reads := 0
		for p, ops := range f.Server().CallCounts() {
			if n := ops[fusefs.OpRead]; n > 0 {
				reads += int(n)
				if p != devDir(t, f, dax0Char)+"/size" && p != ndDaxDir(t, f, dax0Char)+"/size" {
					t.Errorf("Size read %s", p)
				}
			}
		}
		if reads != 2 {
			t.Errorf("Size made %d reads, want 2", reads)
		}
	})

	t.Run("nd_dax size contents", testSizeContents)
	t.Run("nd_dax size replaced", testSizeReplaced)
	t.Run("nd_dax size faults", testSizeFaults)
	t.Run("what libdaxctl needs of the device", testDeviceNeeds)
}

// testSizeContents writes every form of the nd_dax's size at runtime and
// reads it through one source: the read is never cached. libndctl reads
// it with strtoull(buf, NULL, 0): no format check, 2^64-1 on overflow.
func testSizeContents(t *testing.T) {
	f, src, sizeFile := ndDaxSource(t, "size")
	for _, c := range []struct {
		name    string
		content string
		size    uint64
	}{
		{"a decimal number and a newline is the size", "1073741824\n", gib},
		{"a number needs no newline", "1073741824", gib},
		{"words are 0", "one gigabyte\n", 0},
		{"an empty file is 0", "", 0},
		{"a lone newline is 0", "\n", 0},
		{"a number followed by a space is the number", "4096 \n", 4096},
		{"a number followed by CR LF is the number", "4096\r\n", 4096},
		{"a unit suffix is ignored", "1G\n", 1},
		{"an exponent is ignored", "1e9\n", 1},
		{"a NUL ends the number", "40\x0096\n", 40},
		{"a lone NUL is 0", "\x00", 0},
		{"0x with no digits is 0", "0x\n", 0},
		{"hex is read as strtoull base 0 does", "0x40000000\n", gib},
		{"upper-case hex is read too", "0X40000000\n", gib},
		{"a leading zero makes octal", "010\n", 8},
		{"an octal number stops at an 8", "08\n", 0},
		{"leading white space is skipped", " \t 4096\n", 4096},
		{"a plus sign is accepted", "+4096\n", 4096},
		{"a minus sign negates modulo 2^64, as strtoull does", "-1\n", math.MaxUint64},
		{"2^64-1 is the largest size", "18446744073709551615\n", math.MaxUint64},
		{"2^64 saturates at 2^64-1", "18446744073709551616\n", math.MaxUint64},
		{"a huge number saturates", strings.Repeat("9", 40) + "\n", math.MaxUint64},
		{"hex beyond 64 bits saturates", "0x10000000000000000\n", math.MaxUint64},
		{"what follows the number does not count", "4096\nrubbish", 4096},
		{"1023 bytes are read whole", strings.Repeat(" ", 1021) + "1\n", 1},
		{"1024 bytes fill libndctl's buffer: unreadable, 2^64-1", strings.Repeat(" ", 1022) + "1\n", math.MaxUint64},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, f.WriteFile(sizeFile, []byte(c.content)))
			if callsDuring(f, sizeFile, fusefs.OpRead, func() { sizeCall.check(t, f, src, valueCase{value: c.size}) }) == 0 {
				t.Error("Size did not read the nd_dax's size: a cached value was used")
			}
		})
	}
}

// testSizeReplaced puts other kinds of node where the nd_dax's size should
// be: whatever libndctl cannot read is 2^64-1, returned with code 0.
func testSizeReplaced(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup func(t *testing.T, f *emulate.Fixture, sizeFile string)
		size  uint64
	}{
		{name: "a missing size is 2^64-1",
			setup: func(t *testing.T, f *emulate.Fixture, p string) { require.NoError(t, f.Remove(p)) }, size: math.MaxUint64},
		{name: "a directory in its place is 2^64-1",
			setup: func(t *testing.T, f *emulate.Fixture, p string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: p, Type: fusefs.TypeDir}))
			}, size: math.MaxUint64},
		{name: "a FIFO in its place reads nothing and does not block (C would): 0",
			setup: func(t *testing.T, f *emulate.Fixture, p string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: p, Type: fusefs.TypeFIFO}))
			}, size: 0},
		{name: "a socket in its place cannot be opened: 2^64-1",
			setup: func(t *testing.T, f *emulate.Fixture, p string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: p, Type: fusefs.TypeSocket}))
			}, size: math.MaxUint64},
		{name: "a device node in its place on a nodev mount cannot be opened: 2^64-1",
			setup: func(t *testing.T, f *emulate.Fixture, p string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: p, Type: fusefs.TypeCharDev, Major: 1, Minor: 5}))
			}, size: math.MaxUint64},
		{name: "a symlink in its place is followed",
			setup: func(t *testing.T, f *emulate.Fixture, p string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: "sys/other/size", Type: fusefs.TypeFile, Content: "8192\n"}))
				require.NoError(t, f.SetNode(emulate.Node{Path: p, Type: fusefs.TypeSymlink, Target: f.Path("sys/other/size")}))
			}, size: 8192},
		{name: "a size with no read bit at all cannot be read, even by root: 2^64-1",
			setup: func(t *testing.T, f *emulate.Fixture, p string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: p, Type: fusefs.TypeFile, Mode: 0o200, Content: "4096\n"}))
			}, size: math.MaxUint64},
		{name: "a 1 GiB size file fills libndctl's 1024-byte read: 2^64-1",
			setup: func(t *testing.T, f *emulate.Fixture, p string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: p, Type: fusefs.TypeFile, Content: "4096\n", Size: gib}))
			}, size: math.MaxUint64},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, src, sizeFile := ndDaxSource(t, "size")
			c.setup(t, f, sizeFile)
			var got uint64
			var err error
			testutil.Within(t, 10*time.Second, "Size", func() { got, err = src.Size() })
			sizeCall.checkResult(t, f, got, err, valueCase{value: c.size})
		})
	}

	t.Run("/dev/zero in its place fills libndctl's read with NUL bytes: 2^64-1 (device mode)", func(t *testing.T) {
		sizeCall.checkDevZeroIn(t, "size", valueCase{value: math.MaxUint64})
	})
}

// testSizeFaults makes the nd_dax size's open, lookup or read fail or run
// short: libndctl keeps 2^64-1 for a size it cannot read.
func testSizeFaults(t *testing.T) {
	for _, c := range []struct {
		name  string
		fault emulate.Fault // Path filled in
		size  uint64
	}{
		{name: "a read failing with EIO is 2^64-1", fault: emulate.Fault{Op: fusefs.OpRead, Errno: syscall.EIO}, size: math.MaxUint64},
		{name: "a read failing with ENODEV is 2^64-1", fault: emulate.Fault{Op: fusefs.OpRead, Errno: syscall.ENODEV}, size: math.MaxUint64},
		{name: "an open failing with EACCES is 2^64-1", fault: emulate.Fault{Op: fusefs.OpOpen, Errno: syscall.EACCES}, size: math.MaxUint64},
		{name: "a lookup failing with ENOMEM is 2^64-1", fault: emulate.Fault{Op: fusefs.OpLookup, Errno: syscall.ENOMEM}, size: math.MaxUint64},
		{name: "a short read is not continued (one read, as C)", fault: emulate.Fault{Op: fusefs.OpRead, Short: 4}, size: 1073},
		{name: "a slow read is waited for", fault: emulate.Fault{Op: fusefs.OpRead, Delay: 50 * time.Millisecond}, size: gib},
		{name: "a read failing once fails that call only", fault: emulate.Fault{Op: fusefs.OpRead, Errno: syscall.EIO, Times: 1},
			size: math.MaxUint64},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, src, sizeFile := ndDaxSource(t, "size")
			c.fault.Path = sizeFile
			require.NoError(t, f.AddFault(c.fault))
			if n := callsDuring(f, sizeFile, c.fault.Op, func() { sizeCall.check(t, f, src, valueCase{value: c.size}) }); n != 1 {
				t.Errorf("%d %s calls of the nd_dax's size reached the server, want 1", n, c.fault.Op)
			}
			if c.fault.Times == 1 {
				sizeCall.check(t, f, src, valueCase{value: gib})
			}
		})
	}
}

// testDeviceNeeds breaks, at runtime, what libdaxctl needs to match the
// device: its /dev node and its own size. C crashes there; both calls
// return pmem2's documented codes. What C never reads does not matter.
func testDeviceNeeds(t *testing.T) {
	notFound := func(why string) valueCase {
		return valueCase{want: pmem2.ErrDAXRegionNotFound, msg: []string{"pmem2_source_size", "find nd_dax", why}}
	}
	for _, c := range []struct {
		name  string
		setup func(t *testing.T, f *emulate.Fixture)
		valueCase
	}{
		{name: "a device whose size read fails with EIO is left out by libdaxctl: DAX_REGION_NOT_FOUND",
			setup: func(t *testing.T, f *emulate.Fixture) {
				addFault(t, f, devDir(t, f, dax0Char)+"/size", "read", "EIO")
			}, valueCase: notFound("the device's size cannot be read")},
		{name: "a device without size is left out by libdaxctl: DAX_REGION_NOT_FOUND",
			setup:     func(t *testing.T, f *emulate.Fixture) { require.NoError(t, f.Remove(devDir(t, f, dax0Char)+"/size")) },
			valueCase: notFound("the device's size cannot be read")},
		{name: "a device whose /dev node is removed is not matched: DAX_REGION_NOT_FOUND",
			setup:     func(t *testing.T, f *emulate.Fixture) { require.NoError(t, f.Remove("dev/dax0.0")) },
			valueCase: notFound("there is no {sys}/../dev/dax0.0")},
		{name: "a device whose /dev node has another number is not matched: DAX_REGION_NOT_FOUND",
			setup: func(t *testing.T, f *emulate.Fixture) {
				// Removed first: a node replaced in place keeps its number
				// in the kernel's attribute cache.
				require.NoError(t, f.Remove("dev/dax0.0"))
				require.NoError(t, f.SetNode(emulate.Node{Path: "dev/dax0.0", Type: fusefs.TypeCharDev, Major: 252, Minor: 9}))
			}, valueCase: notFound("does not have the device number 252:0")},
		{name: "a dev/char entry removed after SourceFromFD does not matter: libdaxctl lists the device in its nd_dax",
			setup:     func(t *testing.T, f *emulate.Fixture) { require.NoError(t, f.Remove(dax0Char)) },
			valueCase: valueCase{value: gib}},
		{name: "a dev/char entry retargeted to another device does not move it: libdaxctl matches it by its /dev node",
			setup: func(t *testing.T, f *emulate.Fixture) {
				require.NoError(t, f.SetTarget(dax0Char, "../../"+strings.TrimPrefix(devDir(t, f, dax1Char), "sys/")))
			}, valueCase: valueCase{value: gib}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := start(t, nil)
			src, _ := newSource(t, f, "dev/dax0.0", opath)
			c.setup(t, f)
			sizeCall.check(t, f, src, c.valueCase)
		})
	}
}
