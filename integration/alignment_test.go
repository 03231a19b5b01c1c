package integration_test

import (
	"strings"
	"testing"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/pmem2"
	"github.com/stretchr/testify/require"
)

// TestAlignment covers pmem2_source_alignment: the page size of regular
// files, the nd_dax's align of a Device DAX in every form the file can take,
// and every way reading it can fail.
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
			{"dev/dax0.0", opath, valueCase{name: "a Device DAX on the dax bus has its nd_dax's alignment", value: 2 * mib}},
			{"dev/dax1.0", opath, valueCase{name: "a Device DAX in the dax class has its nd_dax's alignment", value: 4 * kib}},
			{"dev/dax2.0", opath, valueCase{name: "a Device DAX with no NVDIMM bus is INVALID_ALIGNMENT_FORMAT where C crashes",
				want: pmem2.ErrInvalidAlignmentFormat,
				msg:  []string{"pmem2_source_alignment", "find nd_dax", "{sys}/dev/char/252:2", "no nd_dax in an NVDIMM region"}}},
		})
	})

	t.Run("a Device DAX's alignment is its nd_dax's, whatever dax_region/align and its own say", func(t *testing.T) {
		f := start(t, nil)
		src, _ := newSource(t, f, "dev/dax0.0", opath)
		require.NoError(t, f.WriteFile(regionAlign(t, f, dax0Char), []byte("12345\n")))
		require.NoError(t, f.WriteFile(devDir(t, f, dax0Char)+"/align", []byte("4096\n")))
		alignmentCall.check(t, f, src, valueCase{value: 2 * mib})
	})

	t.Run("nd_dax align contents", testAlignContents)
	t.Run("nd_dax align replaced and faulted", testAlignBroken)
	t.Run("what C never reads", testAlignUnread)
}

// testAlignContents writes every form of the nd_dax's align at runtime and
// reads it through one source: the read is never cached. libndctl reads
// it with strtoul(buf, NULL, 0); the result must be a power of two.
func testAlignContents(t *testing.T) {
	f, src, alignFile := ndDaxSource(t, "align")
	value := pmem2.ErrInvalidAlignmentValue
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
		{"a number needs no newline", "2097152", 0, 2 * mib},
		{"hex with 0x is read as hex", "0x200000\n", 0, 2 * mib},
		{"a leading zero makes octal", "010\n", 0, 8},
		{"a unit suffix is ignored: 2M is 2", "2M\n", 0, 2},
		{"leading white space and a plus sign are accepted", "  +4096\n", 0, 4096},
		{"a decimal that is no power of two is INVALID_ALIGNMENT_VALUE (no second reading as hex)", "200000\n", value, 0},
		{"12345 is INVALID_ALIGNMENT_VALUE", "12345\n", value, 0},
		{"0 is INVALID_ALIGNMENT_VALUE", "0\n", value, 0},
		{"-1 is 2^64-1, INVALID_ALIGNMENT_VALUE", "-1\n", value, 0},
		{"an empty file is 0, INVALID_ALIGNMENT_VALUE", "", value, 0},
		{"words are 0, INVALID_ALIGNMENT_VALUE", "two megabytes\n", value, 0},
		{"a NUL ends the number: 40, INVALID_ALIGNMENT_VALUE", "40\x0096\n", value, 0},
		{"2^64 saturates at 2^64-1, INVALID_ALIGNMENT_VALUE", "18446744073709551616\n", value, 0},
		{"1024 bytes fill libndctl's buffer: unreadable, 0", strings.Repeat(" ", 1019) + "4096\n", value, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, f.WriteFile(alignFile, []byte(c.content)))
			var msg []string
			if c.want != 0 {
				msg = []string{"pmem2_source_alignment", "check alignment", "/align"}
			}
			if callsDuring(f, alignFile, fusefs.OpRead, func() {
				alignmentCall.check(t, f, src, valueCase{want: c.want, value: c.align, msg: msg})
			}) == 0 {
				t.Error("Alignment did not read the nd_dax's align: a cached value was used")
			}
		})
	}
}

// testAlignBroken puts other nodes in place of the nd_dax's align and
// fails its calls: libndctl keeps 0 for an align it cannot read.
func testAlignBroken(t *testing.T) {
	value := valueCase{want: pmem2.ErrInvalidAlignmentValue, msg: []string{"pmem2_source_alignment", "check alignment"}}
	for _, c := range []struct {
		name  string
		setup func(t *testing.T, f *emulate.Fixture, alignFile string)
		valueCase
	}{
		{name: "a missing align is 0: INVALID_ALIGNMENT_VALUE",
			setup:     func(t *testing.T, f *emulate.Fixture, a string) { require.NoError(t, f.Remove(a)) },
			valueCase: valueCase{want: pmem2.ErrInvalidAlignmentValue, msg: []string{"libndctl cannot read it"}}},
		{name: "a directory in its place is 0: INVALID_ALIGNMENT_VALUE",
			setup: func(t *testing.T, f *emulate.Fixture, a string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: a, Type: fusefs.TypeDir}))
			},
			valueCase: value},
		{name: "a FIFO in its place reads nothing and does not block (C would): INVALID_ALIGNMENT_VALUE",
			setup: func(t *testing.T, f *emulate.Fixture, a string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: a, Type: fusefs.TypeFIFO}))
			},
			valueCase: value},
		{name: "an align with no read bit at all is 0 even for root: INVALID_ALIGNMENT_VALUE",
			setup: func(t *testing.T, f *emulate.Fixture, a string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: a, Type: fusefs.TypeFile, Mode: 0o200, Content: "2097152\n"}))
			}, valueCase: value},
		{name: "a symlink in its place is followed",
			setup: func(t *testing.T, f *emulate.Fixture, a string) {
				require.NoError(t, f.SetNode(emulate.Node{Path: "sys/other/align", Type: fusefs.TypeFile, Content: "65536\n"}))
				require.NoError(t, f.SetNode(emulate.Node{Path: a, Type: fusefs.TypeSymlink, Target: f.Path("sys/other/align")}))
			}, valueCase: valueCase{value: 65536}},
		{name: "a read failing with EIO is 0: INVALID_ALIGNMENT_VALUE",
			setup: func(t *testing.T, f *emulate.Fixture, a string) { addFault(t, f, a, "read", "EIO") }, valueCase: value},
		{name: "an open failing with EIO is 0: INVALID_ALIGNMENT_VALUE",
			setup: func(t *testing.T, f *emulate.Fixture, a string) { addFault(t, f, a, "open", "EIO") }, valueCase: value},
		{name: "a short read is not continued (one read, as C): 209, INVALID_ALIGNMENT_VALUE",
			setup: func(t *testing.T, f *emulate.Fixture, a string) {
				require.NoError(t, f.AddFault(emulate.Fault{Path: a, Op: fusefs.OpRead, Short: 3}))
			}, valueCase: valueCase{want: pmem2.ErrInvalidAlignmentValue, msg: []string{"alignment 209 is not a power of two"}}},
		{name: "a lookup of the nd_dax failing with EACCES hides the device from libdaxctl: INVALID_ALIGNMENT_FORMAT",
			setup:     func(t *testing.T, f *emulate.Fixture, a string) { addFault(t, f, pathDir(a), "lookup", "EACCES") },
			valueCase: valueCase{want: pmem2.ErrInvalidAlignmentFormat, msg: []string{"find nd_dax"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, src, alignFile := ndDaxSource(t, "align")
			c.setup(t, f, alignFile)
			alignmentCall.check(t, f, src, c.valueCase)
		})
	}

	t.Run("/dev/zero in its place fills libndctl's read with NUL bytes: INVALID_ALIGNMENT_VALUE (device mode)", func(t *testing.T) {
		alignmentCall.checkDevZeroIn(t, "align", valueCase{want: pmem2.ErrInvalidAlignmentValue})
	})
}

// testAlignUnread breaks what C does not read for the alignment: the
// device's sys/dev/char link (libdaxctl knows devices by their /dev node)
// and dax_region. The answer stays the nd_dax's align.
func testAlignUnread(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup func(t *testing.T, f *emulate.Fixture)
	}{
		{"a dev/char entry removed after SourceFromFD", func(t *testing.T, f *emulate.Fixture) { require.NoError(t, f.Remove(dax0Char)) }},
		{"a dev/char entry turned into a loop", func(t *testing.T, f *emulate.Fixture) { require.NoError(t, f.SetTarget(dax0Char, "252:0")) }},
		{"a dev/char entry whose readlink fails with EIO", func(t *testing.T, f *emulate.Fixture) {
			addFault(t, f, dax0Char, "readlink", "EIO")
		}},
		{"a dev/char entry retargeted to another device", func(t *testing.T, f *emulate.Fixture) {
			require.NoError(t, f.SetTarget(dax0Char, "../../"+strings.TrimPrefix(devDir(t, f, dax1Char), "sys/")))
		}},
		{"no dax_region at all", func(t *testing.T, f *emulate.Fixture) {
			require.NoError(t, f.Remove(pathDir(regionAlign(t, f, dax0Char))))
		}},
	} {
		t.Run(c.name+" leaves the nd_dax's alignment", func(t *testing.T) {
			f := start(t, nil)
			src, _ := newSource(t, f, "dev/dax0.0", opath)
			c.setup(t, f)
			alignmentCall.check(t, f, src, valueCase{value: 2 * mib})
		})
	}
}
