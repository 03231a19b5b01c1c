package integration_test

import (
	"math"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2"
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
		t.Run("fstat failing on a Device DAX is -errno before its size file is read", func(t *testing.T) {
			f := start(t, nil)
			src, _ := newSource(t, f, "dev/dax0.0", opath)
			addFault(t, f, "dev/dax0.0", "getattr", "EIO")
			sizeFile := devDir(t, f, dax0Char) + "/size"
			if n := callsDuring(f, sizeFile, fusefs.OpRead, func() {
				sizeCall.check(t, f, src, valueCase{want: -5, msg: []string{"pmem2_source_size", "fstat"}})
			}); n != 0 {
				t.Errorf("the size file was read %d times after fstat failed", n)
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
			{"dev/dax0.0", opath, valueCase{name: "a Device DAX on the dax bus has its sysfs size", value: gib}},
			{"dev/dax1.0", opath, valueCase{name: "a Device DAX in the dax class has its sysfs size", value: 512 * mib}},
			{"dev/dax2.0", opath, valueCase{name: "a Device DAX with no NVDIMM bus is DAX_REGION_NOT_FOUND where C crashes",
				want: pmem2.ErrDAXRegionNotFound, msg: []string{"pmem2_source_size", "find dax region", "{sys}/dev/char/252:2"}}},
		})
	})

	t.Run("a Device DAX whose dax_region is removed is DAX_REGION_NOT_FOUND", func(t *testing.T) {
		f := start(t, nil)
		src, _ := newSource(t, f, "dev/dax0.0", opath)
		require.NoError(t, f.Remove(pathDir(regionAlign(t, f, dax0Char))))
		sizeCall.check(t, f, src, valueCase{want: pmem2.ErrDAXRegionNotFound})
	})

	t.Run("size file contents", testSizeContents)
	t.Run("size file replaced", testSizeReplaced)
	t.Run("size file faults", testSizeFaults)
}

// testSizeContents writes every form of the size file at runtime and reads
// it through one source: the read is never cached.
func testSizeContents(t *testing.T) {
	f := start(t, nil)
	sizeFile := devDir(t, f, dax0Char) + "/size"
	src, _ := newSource(t, f, "dev/dax0.0", opath)
	format := pmem2.ErrInvalidSizeFormat
	erange := -pmem2.Code(unix.ERANGE)
	for _, c := range []struct {
		name    string
		content string
		want    pmem2.Code
		size    uint64
	}{
		{"a decimal number and a newline is the size", "1073741824\n", 0, gib},
		{"a number without its newline is INVALID_SIZE_FORMAT", "1073741824", format, 0},
		{"words are INVALID_SIZE_FORMAT", "one gigabyte\n", format, 0},
		{"an empty file is INVALID_SIZE_FORMAT", "", format, 0},
		{"a lone newline is INVALID_SIZE_FORMAT", "\n", format, 0},
		{"a number followed by a space is INVALID_SIZE_FORMAT", "4096 \n", format, 0},
		{"a number followed by CR LF is INVALID_SIZE_FORMAT", "4096\r\n", format, 0},
		{"a unit suffix is INVALID_SIZE_FORMAT", "1G\n", format, 0},
		{"an exponent is INVALID_SIZE_FORMAT", "1e9\n", format, 0},
		{"a NUL inside the number is INVALID_SIZE_FORMAT", "40\x0096\n", format, 0},
		{"a lone NUL is INVALID_SIZE_FORMAT", "\x00", format, 0},
		{"0x with no digits is INVALID_SIZE_FORMAT", "0x\n", format, 0},
		{"hex is read as strtoull base 0 does", "0x40000000\n", 0, gib},
		{"upper-case hex is read too", "0X40000000\n", 0, gib},
		{"a leading zero makes octal", "010\n", 0, 8},
		{"an octal number with an 8 stops at the 8: INVALID_SIZE_FORMAT", "08\n", format, 0},
		{"leading white space is skipped", " \t 4096\n", 0, 4096},
		{"a plus sign is accepted", "+4096\n", 0, 4096},
		{"a minus sign negates modulo 2^64, as strtoull does", "-1\n", 0, math.MaxUint64},
		{"2^64-1 is the largest size", "18446744073709551615\n", 0, math.MaxUint64},
		{"2^64 overflows: -ERANGE", "18446744073709551616\n", erange, 0},
		{"a huge number overflows: -ERANGE", strings.Repeat("9", 40) + "\n", erange, 0},
		{"hex beyond 64 bits overflows: -ERANGE", "0x10000000000000000\n", erange, 0},
		{"only the byte after the number counts", "4096\nrubbish", 0, 4096},
		{"64 bytes holding the number and its newline are read", strings.Repeat(" ", 62) + "1\n", 0, 1},
		{"a newline beyond 64 bytes is never read: INVALID_SIZE_FORMAT", strings.Repeat(" ", 63) + "1\n", format, 0},
		{"leading zeros beyond 64 bytes leave no newline: INVALID_SIZE_FORMAT", strings.Repeat("0", 70) + "1\n", format, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, f.WriteFile(sizeFile, []byte(c.content)))
			var msg []string
			if c.want != 0 {
				msg = []string{"pmem2_source_size", "parse", "{sys}/dev/char/252:0/size"}
			}
			if callsDuring(f, sizeFile, fusefs.OpRead, func() {
				sizeCall.check(t, f, src, valueCase{want: c.want, value: c.size, msg: msg})
			}) == 0 {
				t.Error("Size did not read the size file: a cached value was used")
			}
		})
	}
}

// testSizeReplaced puts other kinds of node where the size file should be.
func testSizeReplaced(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup func(t *testing.T, f *emulate.Fixture, sizeFile string)
		valueCase
	}{
		{name: "a missing size file is -ENOENT",
			setup:     func(t *testing.T, f *emulate.Fixture, p string) { require.NoError(t, f.Remove(p)) },
			valueCase: valueCase{want: -2, msg: []string{"pmem2_source_size", "open", "{sys}/dev/char/252:0/size"}}},
		{name: "a device whose dev/char/M:m entry is removed after SourceFromFD is -ENOENT",
			setup:     func(t *testing.T, f *emulate.Fixture, p string) { require.NoError(t, f.Remove(dax0Char)) },
			valueCase: valueCase{want: -2, msg: []string{"pmem2_source_size", "open", "{sys}/dev/char/252:0/size"}}},
		{name: "a directory in its place is -EISDIR",
			setup: func(t *testing.T, f *emulate.Fixture, p string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: p, Type: fusefs.TypeDir}))
			},
			valueCase: valueCase{want: -pmem2.Code(unix.EISDIR), msg: []string{"read", "{sys}/dev/char/252:0/size"}}},
		{name: "a FIFO in its place reads nothing and does not block: INVALID_SIZE_FORMAT",
			setup: func(t *testing.T, f *emulate.Fixture, p string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: p, Type: fusefs.TypeFIFO}))
			},
			valueCase: valueCase{want: pmem2.ErrInvalidSizeFormat, msg: []string{`content ""`}}},
		{name: "a socket in its place cannot be opened: -ENXIO",
			setup: func(t *testing.T, f *emulate.Fixture, p string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: p, Type: fusefs.TypeSocket}))
			},
			valueCase: valueCase{want: -pmem2.Code(unix.ENXIO)}},
		{name: "a device node in its place on a nodev mount is -EACCES",
			setup: func(t *testing.T, f *emulate.Fixture, p string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: p, Type: fusefs.TypeCharDev, Major: 1, Minor: 5}))
			},
			valueCase: valueCase{want: -pmem2.Code(unix.EACCES), msg: []string{"open"}}},
		{name: "a symlink in its place is followed",
			setup: func(t *testing.T, f *emulate.Fixture, p string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: "sys/other/size", Type: fusefs.TypeFile, Content: "8192\n"}))
				require.NoError(t, f.SetNode(emulate.Node{Path: p, Type: fusefs.TypeSymlink, Target: f.Path("sys/other/size")}))
			},
			valueCase: valueCase{value: 8192}},
		{name: "a size file with no read bit at all is -EACCES, even for root",
			setup: func(t *testing.T, f *emulate.Fixture, p string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: p, Type: fusefs.TypeFile, Mode: 0o200, Content: "4096\n"}))
			},
			valueCase: valueCase{want: -pmem2.Code(unix.EACCES)}},
		{name: "a 1 GiB size file is read 64 bytes deep",
			setup: func(t *testing.T, f *emulate.Fixture, p string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: p, Type: fusefs.TypeFile, Content: "4096\n", Size: gib}))
			},
			valueCase: valueCase{value: 4096}},
		{name: "a 1 GiB size file of zeros is INVALID_SIZE_FORMAT",
			setup: func(t *testing.T, f *emulate.Fixture, p string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: p, Type: fusefs.TypeFile, Size: gib}))
			},
			valueCase: valueCase{want: pmem2.ErrInvalidSizeFormat}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := start(t, nil)
			sizeFile := devDir(t, f, dax0Char) + "/size"
			src, _ := newSource(t, f, "dev/dax0.0", opath)
			c.setup(t, f, sizeFile)
			sizeCall.check(t, f, src, c.valueCase)
		})
	}

	t.Run("/dev/zero in its place reads NUL bytes: INVALID_SIZE_FORMAT (device mode)", func(t *testing.T) {
		f := start(t, deviceSpec(), emulate.WithDeviceMode())
		sizeFile := devDir(t, f, "sys/dev/char/1:5") + "/size"
		src, _ := newSource(t, f, "dev/dax0.0", rdonly)
		require.NoError(t, f.SetNode(emulate.Node{Path: sizeFile, Type: fusefs.TypeCharDev, Major: 1, Minor: 5}))
		sizeCall.check(t, f, src, valueCase{want: pmem2.ErrInvalidSizeFormat, msg: []string{`content "\x00`}})
	})
}

// testSizeFaults makes the size file's open, lookup or read fail or run
// short.
func testSizeFaults(t *testing.T) {
	for _, c := range []struct {
		name  string
		fault emulate.Fault // Path filled in
		valueCase
	}{
		{name: "a read failing with EIO is -EIO", fault: emulate.Fault{Op: fusefs.OpRead, Errno: syscall.EIO},
			valueCase: valueCase{want: -5, msg: []string{"pmem2_source_size", "read", "{sys}/dev/char/252:0/size"}}},
		{name: "a read failing with EACCES is -EACCES", fault: emulate.Fault{Op: fusefs.OpRead, Errno: syscall.EACCES},
			valueCase: valueCase{want: -13}},
		{name: "a read failing with ENODEV is -ENODEV", fault: emulate.Fault{Op: fusefs.OpRead, Errno: syscall.ENODEV},
			valueCase: valueCase{want: -19}},
		{name: "an open failing with EACCES is -EACCES", fault: emulate.Fault{Op: fusefs.OpOpen, Errno: syscall.EACCES},
			valueCase: valueCase{want: -13, msg: []string{"pmem2_source_size", "open", "{sys}/dev/char/252:0/size"}}},
		{name: "a lookup failing with ENOMEM is -ENOMEM", fault: emulate.Fault{Op: fusefs.OpLookup, Errno: syscall.ENOMEM},
			valueCase: valueCase{want: -12, msg: []string{"open"}}},
		{name: "a short read is not continued (one read, as C): INVALID_SIZE_FORMAT",
			fault:     emulate.Fault{Op: fusefs.OpRead, Short: 4},
			valueCase: valueCase{want: pmem2.ErrInvalidSizeFormat, msg: []string{`content "1073"`}}},
		{name: "a slow read is waited for", fault: emulate.Fault{Op: fusefs.OpRead, Delay: 50 * time.Millisecond},
			valueCase: valueCase{value: gib}},
		{name: "a read failing once fails that call only", fault: emulate.Fault{Op: fusefs.OpRead, Errno: syscall.EIO, Times: 1},
			valueCase: valueCase{want: -5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := start(t, nil)
			sizeFile := devDir(t, f, dax0Char) + "/size"
			src, _ := newSource(t, f, "dev/dax0.0", opath)
			c.fault.Path = sizeFile
			require.NoError(t, f.AddFault(c.fault))
			op := c.fault.Op
			if n := callsDuring(f, sizeFile, op, func() { sizeCall.check(t, f, src, c.valueCase) }); n != 1 {
				t.Errorf("%d %s calls of the size file reached the server, want 1", n, c.fault.Op)
			}
			if c.fault.Times == 1 {
				sizeCall.check(t, f, src, valueCase{value: gib})
			}
		})
	}
}

func pathDir(p string) string { return p[:strings.LastIndexByte(p, '/')] }
