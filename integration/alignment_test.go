package integration_test

import (
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// TestAlignment covers pmem2_source_alignment: the page size of regular
// files, the dax_region/align walk of a Device DAX, every form the file can
// take and every way the walk can fail.
func TestAlignment(t *testing.T) {
	t.Run("sources with a fixed alignment", func(t *testing.T) {
		f := start(t, nil)
		alignmentCall.checkEach(t, f, []sourceCase{
			{"data/small", rdonly, valueCase{name: "a regular file is aligned to the page size", value: page}},
			{"data/empty", rdwr, valueCase{name: "an empty regular file is aligned to the page size", value: page}},
			{"data/small", opath, valueCase{name: "a regular file opened O_PATH is aligned to the page size", value: page}},
		})
		t.Run("an anonymous source is aligned to the page size", func(t *testing.T) {
			src, err := pmem2.SourceFromAnon(1)
			wantCode(t, err, 0)
			alignmentCall.check(t, nil, src, valueCase{value: page})
		})
		t.Run("a regular file's alignment reads nothing: its getattr may fail", func(t *testing.T) {
			src, _ := newSource(t, f, "data/small", rdonly)
			addFault(t, f, "data/small", "getattr", "EIO")
			alignmentCall.check(t, f, src, valueCase{value: page})
		})
	})

	t.Run("Device DAX", func(t *testing.T) {
		alignmentCall.checkEach(t, start(t, nil), []sourceCase{
			{"dev/dax0.0", opath, valueCase{name: "a Device DAX on the dax bus has its region's alignment", value: 2 * mib}},
			{"dev/dax1.0", opath, valueCase{name: "a Device DAX in the dax class has its region's alignment", value: 4 * kib}},
			{"dev/dax2.0", opath, valueCase{name: "a Device DAX with no NVDIMM bus is INVALID_ALIGNMENT_VALUE where C crashes",
				want: pmem2.ErrInvalidAlignmentValue,
				msg:  []string{"pmem2_source_alignment", "check alignment", "{sys}/dev/char/252:2", "no dax_region/align"}}},
		})
	})

	t.Run("dax_region/align contents", testAlignContents)
	t.Run("the dax_region walk", testAlignWalk)
	t.Run("faults on the walk", testAlignFaults)
}

// testAlignContents writes every form of dax_region/align at runtime and
// reads it through one source: the read is never cached.
func testAlignContents(t *testing.T) {
	f := start(t, nil)
	alignFile := regionAlign(t, f, dax0Char)
	src, _ := newSource(t, f, "dev/dax0.0", opath)
	format := pmem2.ErrInvalidAlignmentFormat
	value := pmem2.ErrInvalidAlignmentValue
	erange := -pmem2.Code(unix.ERANGE)
	for _, c := range []struct {
		name    string
		content string
		want    pmem2.Code
		align   uint64
	}{
		{"a decimal power of two is the alignment", "2097152\n", 0, 2 * mib},
		{"4096 is the alignment", "4096\n", 0, 4096},
		{"1 is a power of two", "1\n", 0, 1},
		{"2^63 is the largest alignment", "9223372036854775808\n", 0, 1 << 63},
		{"a decimal non-power of two is read again as hex (kernels before 4.9)", "200000\n", 0, 2 * mib},
		{"1000 read as hex is 4096", "1000\n", 0, 4096},
		{"10 read as hex is 16", "10\n", 0, 16},
		{"a value that is no power of two in either base is INVALID_ALIGNMENT_VALUE", "12345\n", value, 0},
		{"3 is INVALID_ALIGNMENT_VALUE", "3\n", value, 0},
		{"0 is INVALID_ALIGNMENT_VALUE", "0\n", value, 0},
		{"-1 is 2^64-1, INVALID_ALIGNMENT_VALUE", "-1\n", value, 0},
		{"a number without its newline is INVALID_ALIGNMENT_FORMAT", "2097152", format, 0},
		{"a unit suffix is INVALID_ALIGNMENT_FORMAT", "2M\n", format, 0},
		{"0x-prefixed hex is INVALID_ALIGNMENT_FORMAT (base 10 stops at the x)", "0x200000\n", format, 0},
		{"a non-power of two followed by a hex digit is INVALID_ALIGNMENT_FORMAT", "12f\n", format, 0},
		{"an empty file is INVALID_ALIGNMENT_FORMAT", "", format, 0},
		{"a lone newline is INVALID_ALIGNMENT_FORMAT", "\n", format, 0},
		{"words are INVALID_ALIGNMENT_FORMAT", "two megabytes\n", format, 0},
		{"a NUL inside the number is INVALID_ALIGNMENT_FORMAT", "40\x0096\n", format, 0},
		{"a lone NUL is INVALID_ALIGNMENT_FORMAT", "\x00", format, 0},
		{"a newline beyond 64 bytes is never read: INVALID_ALIGNMENT_FORMAT", strings.Repeat(" ", 60) + "4096\n", format, 0},
		{"64 bytes holding the number and its newline are read", strings.Repeat(" ", 59) + "4096\n", 0, 4096},
		{"leading white space and a plus sign are accepted", "  +4096\n", 0, 4096},
		{"2^64 overflows: -ERANGE", "18446744073709551616\n", erange, 0},
		{"twenty nines overflow: -ERANGE", "99999999999999999999\n", erange, 0},
		{"a non-power of two that overflows as hex is -ERANGE", "12345678901234567\n", erange, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, f.WriteFile(alignFile, []byte(c.content)))
			var msg []string
			if c.want != 0 {
				msg = []string{"pmem2_source_alignment", "{sys}/devices/", "/dax_region/align"}
				if c.want != value {
					msg = append(msg, "parse")
				}
			}
			if callsDuring(f, alignFile, fusefs.OpRead, func() {
				alignmentCall.check(t, f, src, valueCase{want: c.want, value: c.align, msg: msg})
			}) == 0 {
				t.Error("Alignment did not read dax_region/align: a cached value was used")
			}
		})
	}
}

// testAlignWalk moves, removes and replaces dax_region/align to follow the
// walk up from the device's directory.
func testAlignWalk(t *testing.T) {
	const devices = "sys/devices"
	for _, c := range []struct {
		name  string
		setup func(t *testing.T, f *emulate.Fixture, alignFile string) // alignFile: the nearest one
		valueCase
	}{
		{name: "the nearest dax_region/align wins over one higher up",
			setup: func(t *testing.T, f *emulate.Fixture, a string) {
				require.NoError(t, f.WriteFile(devices+"/platform/dax_region/align", []byte("4096\n")))
			},
			valueCase: valueCase{value: 2 * mib}},
		{name: "with no dax_region at all the alignment is 0: INVALID_ALIGNMENT_VALUE",
			setup: func(t *testing.T, f *emulate.Fixture, a string) { require.NoError(t, f.Remove(pathDir(a))) },
			valueCase: valueCase{want: pmem2.ErrInvalidAlignmentValue,
				msg: []string{"check alignment", "{sys}/dev/char/252:0", "so the alignment is 0"}}},
		{name: "a missing dax_region/align sends the walk to a parent's",
			setup: func(t *testing.T, f *emulate.Fixture, a string) {
				require.NoError(t, f.Remove(a))
				require.NoError(t, f.WriteFile(devices+"/platform/e820_pmem/dax_region/align", []byte("4096\n")))
			},
			valueCase: valueCase{value: 4096}},
		{name: "the walk still tries <sysfs>/devices/dax_region/align, as C does",
			setup: func(t *testing.T, f *emulate.Fixture, a string) {
				require.NoError(t, f.Remove(pathDir(a)))
				require.NoError(t, f.WriteFile(devices+"/dax_region/align", []byte("65536\n")))
			},
			valueCase: valueCase{value: 65536}},
		{name: "the walk stops at <sysfs>/devices",
			setup: func(t *testing.T, f *emulate.Fixture, a string) {
				require.NoError(t, f.Remove(pathDir(a)))
				require.NoError(t, f.WriteFile("sys/dax_region/align", []byte("65536\n")))
			},
			valueCase: valueCase{want: pmem2.ErrInvalidAlignmentValue}},
		{name: "a directory in place of dax_region/align is -EISDIR",
			setup: func(t *testing.T, f *emulate.Fixture, a string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: a, Type: fusefs.TypeDir}))
			},
			valueCase: valueCase{want: -pmem2.Code(unix.EISDIR), msg: []string{"pmem2_source_alignment", "read", "/dax_region/align"}}},
		{name: "a FIFO in place of dax_region/align reads nothing and does not block: INVALID_ALIGNMENT_FORMAT",
			setup: func(t *testing.T, f *emulate.Fixture, a string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: a, Type: fusefs.TypeFIFO}))
			},
			valueCase: valueCase{want: pmem2.ErrInvalidAlignmentFormat, msg: []string{`content ""`}}},
		{name: "a dax_region/align that cannot be opened sends the walk upwards",
			setup: func(t *testing.T, f *emulate.Fixture, a string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: a, Type: fusefs.TypeFile, Mode: 0o200, Content: "2097152\n"}))
				require.NoError(t, f.WriteFile(devices+"/platform/dax_region/align", []byte("4096\n")))
			},
			valueCase: valueCase{value: 4096}},
		{name: "a socket in place of dax_region/align sends the walk upwards",
			setup: func(t *testing.T, f *emulate.Fixture, a string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: a, Type: fusefs.TypeSocket}))
			},
			valueCase: valueCase{want: pmem2.ErrInvalidAlignmentValue}},
		{name: "a device's sysfs entry removed after SourceFromFD is -ENOENT",
			setup: func(t *testing.T, f *emulate.Fixture, a string) { require.NoError(t, f.Remove(dax0Char)) },
			valueCase: valueCase{want: -2,
				msg: []string{"pmem2_source_alignment", "realpath", "{sys}/dev/char/252:0"}}},
		{name: "a device's sysfs entry turned into a loop is -ELOOP",
			setup:     func(t *testing.T, f *emulate.Fixture, a string) { require.NoError(t, f.SetTarget(dax0Char, "252:0")) },
			valueCase: valueCase{want: -pmem2.Code(unix.ELOOP), msg: []string{"realpath"}}},
		{name: "a device moved to another region takes that region's alignment",
			setup: func(t *testing.T, f *emulate.Fixture, a string) {
				require.NoError(t, f.SetTarget(dax0Char, "../../"+strings.TrimPrefix(devDir(t, f, dax1Char), "sys/")))
			},
			valueCase: valueCase{value: 4 * kib}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := start(t, nil)
			alignFile := regionAlign(t, f, dax0Char)
			src, _ := newSource(t, f, "dev/dax0.0", opath)
			c.setup(t, f, alignFile)
			alignmentCall.check(t, f, src, c.valueCase)
		})
	}

	t.Run("/dev/zero in place of dax_region/align reads NUL bytes: INVALID_ALIGNMENT_FORMAT (device mode)", func(t *testing.T) {
		f := start(t, deviceSpec(), emulate.WithDeviceMode())
		alignFile := regionAlign(t, f, "sys/dev/char/1:5")
		src, _ := newSource(t, f, "dev/dax0.0", rdonly)
		require.NoError(t, f.SetNode(emulate.Node{Path: alignFile, Type: fusefs.TypeCharDev, Major: 1, Minor: 5}))
		alignmentCall.check(t, f, src, valueCase{want: pmem2.ErrInvalidAlignmentFormat, msg: []string{`content "\x00`}})
	})
}

// testAlignFaults fails the calls of the walk: an open failure is a reason
// to look higher up, a read failure and a failing resolution are -errno.
func testAlignFaults(t *testing.T) {
	for _, c := range []struct {
		name  string
		fault func(t *testing.T, f *emulate.Fixture) emulate.Fault
		valueCase
	}{
		{name: "a read of dax_region/align failing with EIO is -EIO",
			fault: func(t *testing.T, f *emulate.Fixture) emulate.Fault {
				return emulate.Fault{Path: regionAlign(t, f, dax0Char), Op: fusefs.OpRead, Errno: syscall.EIO}
			},
			valueCase: valueCase{want: -5, msg: []string{"pmem2_source_alignment", "read", "/dax_region/align"}}},
		{name: "a read of dax_region/align failing with EAGAIN is -EAGAIN",
			fault: func(t *testing.T, f *emulate.Fixture) emulate.Fault {
				return emulate.Fault{Path: regionAlign(t, f, dax0Char), Op: fusefs.OpRead, Errno: syscall.EAGAIN}
			},
			valueCase: valueCase{want: -11}},
		{name: "an open of dax_region/align failing with EIO sends the walk upwards",
			fault: func(t *testing.T, f *emulate.Fixture) emulate.Fault {
				return emulate.Fault{Path: regionAlign(t, f, dax0Char), Op: fusefs.OpOpen, Errno: syscall.EIO}
			},
			valueCase: valueCase{want: pmem2.ErrInvalidAlignmentValue}},
		{name: "a lookup of dax_region failing with EACCES sends the walk upwards",
			fault: func(t *testing.T, f *emulate.Fixture) emulate.Fault {
				return emulate.Fault{Path: pathDir(regionAlign(t, f, dax0Char)), Op: fusefs.OpLookup, Errno: syscall.EACCES}
			},
			valueCase: valueCase{want: pmem2.ErrInvalidAlignmentValue}},
		{name: "a short read of dax_region/align is not continued (one read, as C): INVALID_ALIGNMENT_FORMAT",
			fault: func(t *testing.T, f *emulate.Fixture) emulate.Fault {
				return emulate.Fault{Path: regionAlign(t, f, dax0Char), Op: fusefs.OpRead, Short: 3}
			},
			valueCase: valueCase{want: pmem2.ErrInvalidAlignmentFormat, msg: []string{`content "209"`}}},
		{name: "a failing readlink of dev/char/M:m is -EIO",
			fault: func(*testing.T, *emulate.Fixture) emulate.Fault {
				return emulate.Fault{Path: dax0Char, Op: fusefs.OpReadlink, Errno: syscall.EIO}
			},
			valueCase: valueCase{want: -5, msg: []string{"pmem2_source_alignment", "realpath", "{sys}/dev/char/252:0"}}},
		{name: "a failing lookup of the device's directory is -ENOMEM",
			fault: func(t *testing.T, f *emulate.Fixture) emulate.Fault {
				return emulate.Fault{Path: devDir(t, f, dax0Char), Op: fusefs.OpLookup, Errno: syscall.ENOMEM}
			},
			valueCase: valueCase{want: -12, msg: []string{"realpath"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := start(t, nil)
			src, _ := newSource(t, f, "dev/dax0.0", opath)
			flt := c.fault(t, f)
			require.NoError(t, f.AddFault(flt))
			op := flt.Op
			if callsDuring(f, flt.Path, op, func() { alignmentCall.check(t, f, src, c.valueCase) }) == 0 {
				t.Errorf("no %s of %s reached the server: the fault cannot have fired", flt.Op, flt.Path)
			}
		})
	}
}
