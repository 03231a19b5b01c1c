package integration_test

import (
	"bytes"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// ioCase is one ReadAt or WriteAt call and what C returns for it.
type ioCase struct {
	name string
	off  int64
	len  int
	want pmem2.Code
	n    int    // bytes moved
	data []byte // what a read must return (nil: not checked)
	msg  []string
}

func checkIO(t *testing.T, f *emulate.Fixture, n int, err error, c ioCase) {
	t.Helper()
	wantErr(t, f, err, c.want, c.msg...)
	if n != c.n {
		t.Errorf("n = %d, want %d", n, c.n)
	}
}

// sourceIOCase is an ioCase on one of several sources.
type sourceIOCase struct {
	src *pmem2.Source
	ioCase
}

// daxSources mounts deviceSpec in device mode and opens its Device DAX
// read-write and read-only.
func daxSources(t *testing.T) (f *emulate.Fixture, rw, ro *pmem2.Source) {
	t.Helper()
	f = startDevice(t, deviceSpec())
	rw, _ = newSource(t, f, "dev/dax0.0", rdwr)
	ro, _ = newSource(t, f, "dev/dax0.0", rdonly)
	return f, rw, ro
}

// filled is n bytes of b.
func filled(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

// TestReadAt covers pmem2_source_pread_mcsafe: pread on regular files with
// every failure the server can make, and a Device DAX read through a
// mapping.
func TestReadAt(t *testing.T) {
	t.Run("regular files", func(t *testing.T) {
		f := start(t, nil)
		small, _ := newSource(t, f, "data/small", rdonly)
		sparse, _ := newSource(t, f, "data/sparse", rdonly)
		pathSrc, _ := newSource(t, f, "data/small", opath)
		for _, c := range []struct {
			src *pmem2.Source
			ioCase
		}{
			{small, ioCase{name: "a read returns the file's bytes", len: 12, n: 12, data: []byte("hello, pmem\n")}},
			{small, ioCase{name: "a read at an offset returns the bytes there", off: 7, len: 5, n: 5, data: []byte("pmem\n")}},
			{small, ioCase{name: "an empty read at the end of the file reads nothing", off: 12, len: 0, n: 0, data: []byte{}}},
			{small, ioCase{name: "a read past the end is LENGTH_OUT_OF_RANGE", off: 10, len: 5,
				want: pmem2.ErrLengthOutOfRange, msg: []string{"pmem2_source_pread_mcsafe", "check length", "5 bytes at offset 10", "size 12"}}},
			{small, ioCase{name: "a read longer than the file is LENGTH_OUT_OF_RANGE", len: 13, want: pmem2.ErrLengthOutOfRange}},
			{small, ioCase{name: "an offset beyond the size wraps like C's size_t and reads nothing at end of file",
				off: 20, len: 4, n: 0}},
			{small, ioCase{name: "a negative offset passes the unsigned check and pread says -EINVAL",
				off: -1, len: 1, want: -pmem2.Code(unix.EINVAL), msg: []string{"pread"}}},
			{sparse, ioCase{name: "the end of a sparse 1 TiB file reads zeros", off: 1<<40 - 4096, len: 4096, n: 4096, data: filled(4096, 0)}},
			{pathSrc, ioCase{name: "an O_PATH descriptor cannot be read: -EBADF", len: 4,
				want: -pmem2.Code(unix.EBADF), msg: []string{"pmem2_source_pread_mcsafe", "pread"}}},
		} {
			t.Run(c.name, func(t *testing.T) {
				p := filled(c.len, 0xAA)
				n, err := c.src.ReadAt(p, c.off)
				checkIO(t, f, n, err, c.ioCase)
				if c.data != nil && !bytes.Equal(p[:n], c.data) {
					t.Errorf("read %q, want %q", p[:n], c.data)
				}
			})
		}
	})

	t.Run("read faults", func(t *testing.T) {
		for _, c := range []struct {
			faults []emulate.Fault // on data/small
			ioCase
		}{
			{[]emulate.Fault{{Op: fusefs.OpRead, Errno: syscall.EIO}},
				ioCase{name: "a read failing with EIO is IO_FAIL", len: 12, want: pmem2.ErrIOFail,
					msg: []string{"pmem2_source_pread_mcsafe", "pread", "input/output error"}}},
			{[]emulate.Fault{{Op: fusefs.OpRead, Errno: syscall.EACCES}},
				ioCase{name: "a read failing with EACCES is -EACCES", len: 12, want: -13}},
			{[]emulate.Fault{{Op: fusefs.OpRead, Errno: syscall.ENOMEM}},
				ioCase{name: "a read failing with ENOMEM is -ENOMEM", len: 12, want: -12}},
			{[]emulate.Fault{{Op: fusefs.OpRead, Short: 3}},
				ioCase{name: "short reads are continued until the buffer is full", len: 12, n: 12, data: []byte("hello, pmem\n")}},
			{[]emulate.Fault{{Op: fusefs.OpRead, Short: 1, Times: 1}},
				ioCase{name: "one short read is continued", off: 2, len: 10, n: 10, data: []byte("llo, pmem\n")}},
			{[]emulate.Fault{{Op: fusefs.OpRead, Short: 5, Times: 1}, {Op: fusefs.OpRead, Errno: syscall.EIO}},
				ioCase{name: "EIO after a short read is IO_FAIL with the bytes read so far", len: 12, n: 5, want: pmem2.ErrIOFail,
					data: []byte("hello")}},
			{[]emulate.Fault{{Op: fusefs.OpGetattr, Errno: syscall.EIO}},
				ioCase{name: "a failing fstat is Size's -EIO, before any read", len: 12, want: -5,
					msg: []string{"pmem2_source_size", "fstat"}}},
		} {
			t.Run(c.name, func(t *testing.T) {
				f := start(t, nil)
				src, _ := newSource(t, f, "data/small", rdonly)
				for _, flt := range c.faults {
					flt.Path = "data/small"
					require.NoError(t, f.AddFault(flt))
				}
				f.Server().ResetCalls()
				p := filled(c.len, 0xAA)
				n, err := src.ReadAt(p, c.off)
				checkIO(t, f, n, err, c.ioCase)
				if c.data != nil && !bytes.Equal(p[:n], c.data) {
					t.Errorf("read %q, want %q", p[:n], c.data)
				}
				reads := f.Server().Calls("data/small", fusefs.OpRead)
				switch {
				case c.faults[0].Op == fusefs.OpGetattr && reads != 0:
					t.Errorf("%d reads reached the server after fstat failed", reads)
				case c.faults[0].Op == fusefs.OpRead && reads == 0:
					t.Error("no read reached the server: the fault cannot have fired")
				case c.faults[0].Short > 0 && c.want == 0 && reads < 2:
					t.Errorf("%d reads reached the server: the short read was not continued", reads)
				}
			})
		}
	})

	t.Run("an anonymous source is SOURCE_TYPE_NOT_SUPPORTED", func(t *testing.T) {
		src, _ := pmem2.SourceFromAnon(4096)
		n, err := src.ReadAt(make([]byte, 8), 0)
		checkIO(t, nil, n, err, ioCase{want: pmem2.ErrSourceTypeNotSupported, msg: []string{"pmem2_source_pread_mcsafe"}})
	})

	t.Run("Device DAX on a nodev mount", testReadDAXNodev)
	t.Run("Device DAX in device mode", testReadDAXDevice)

	t.Run("a memory fault during the copy is IO_FAIL, never a crash", func(t *testing.T) {
		src := repointed(t)
		n, err := src.ReadAt(filled(16, 0xAA), 8192)
		checkIO(t, nil, n, err, ioCase{want: pmem2.ErrIOFail, msg: []string{"pmem2_source_pread_mcsafe", "copy", "SIGBUS"}})
	})
}

// repointed is a Device DAX source whose descriptor number is then made to
// refer to a regular file of 12 bytes (dup3 over it): like C, the source
// uses whatever the number refers to, so it maps the short file as the
// device and touching a page past the file's end raises SIGBUS — the way
// a bad block of real pmem shows itself.
func repointed(t *testing.T) *pmem2.Source {
	f := start(t, nil)
	fd := highDup(t, testutil.OpenFD(t, f.Path("dev/dax0.0"), opath))
	src, err := fromFD(f, fd)
	wantCode(t, err, 0)
	t.Cleanup(func() { _ = src.Delete() })
	short := t.TempDir() + "/short"
	if err := os.WriteFile(short, []byte("hello, pmem\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	require.NoError(t, unix.Dup3(testutil.OpenFD(t, short, rdwr), fd, unix.O_CLOEXEC))
	return src
}

// testReadDAXNodev reads Device DAX sources that can only be opened O_PATH:
// every check before the mapping runs, and the mapping itself fails.
func testReadDAXNodev(t *testing.T) {
	for _, c := range []struct {
		rel   string
		setup func(t *testing.T, f *emulate.Fixture)
		ioCase
	}{
		{rel: "dev/dax0.0", ioCase: ioCase{name: "an O_PATH Device DAX cannot be mapped: -EBADF", len: 8,
			want: -pmem2.Code(unix.EBADF), msg: []string{"pmem2_source_pread_mcsafe", "mmap"}}},
		{rel: "dev/dax0.0", ioCase: ioCase{name: "a read past the device's end is LENGTH_OUT_OF_RANGE", off: gib - 4, len: 8,
			want: pmem2.ErrLengthOutOfRange}},
		{rel: "dev/dax2.0", ioCase: ioCase{name: "a Device DAX with no NVDIMM bus fails as Size does: DAX_REGION_NOT_FOUND", len: 8,
			want: pmem2.ErrDAXRegionNotFound, msg: []string{"pmem2_source_size"}}},
		{rel: "dev/dax0.0",
			setup: func(t *testing.T, f *emulate.Fixture) {
				require.NoError(t, f.WriteFile(ndDaxDir(t, f, dax0Char)+"/size", []byte("4\n")))
			},
			ioCase: ioCase{name: "a small nd_dax size bounds the read as Size does: LENGTH_OUT_OF_RANGE", len: 8,
				want: pmem2.ErrLengthOutOfRange}},
		{rel: "dev/dax0.0",
			setup: func(t *testing.T, f *emulate.Fixture) {
				require.NoError(t, f.WriteFile(ndDaxDir(t, f, dax0Char)+"/align", []byte("12345\n")))
			},
			ioCase: ioCase{name: "an invalid alignment fails as Alignment does: INVALID_ALIGNMENT_VALUE", len: 8,
				want: pmem2.ErrInvalidAlignmentValue, msg: []string{"pmem2_source_alignment"}}},
		{rel: "dev/dax0.0",
			setup: func(t *testing.T, f *emulate.Fixture) {
				addFault(t, f, devDir(t, f, dax0Char)+"/size", "read", "EIO")
			},
			ioCase: ioCase{name: "a device size failing with EIO fails as Size does: DAX_REGION_NOT_FOUND", len: 8,
				want: pmem2.ErrDAXRegionNotFound, msg: []string{"pmem2_source_size", "find nd_dax"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := start(t, nil)
			src, _ := newSource(t, f, c.rel, opath)
			if c.setup != nil {
				c.setup(t, f)
			}
			n, err := src.ReadAt(make([]byte, c.len), c.off)
			checkIO(t, f, n, err, c.ioCase)
		})
	}
}

// testReadDAXDevice reads a Device DAX that is really open: its node is
// char 1:5, so the mapping is of /dev/zero. Every expectation was checked
// against the C libpmem2 on the same emulated device (pmem2emu exec
// --device-mode): C maps the whole device read-write, from offset 0.
func testReadDAXDevice(t *testing.T) {
	f, rw, ro := daxSources(t)
	for _, c := range []sourceIOCase{
		{rw, ioCase{name: "a read through the mapping of an O_RDWR Device DAX returns the device's bytes", len: 4096, n: 4096}},
		{rw, ioCase{name: "a read across an alignment boundary is one copy", off: 2*mib - 100, len: 200, n: 200}},
		{rw, ioCase{name: "a read of the whole device", len: devSize, n: devSize}},
		{rw, ioCase{name: "an empty read still maps and reads nothing", off: 4096, len: 0, n: 0}},
		// C maps the whole device from offset 0; a window mapped at a
		// non-zero offset of /dev/zero is a shmem object only as long as
		// the window but indexed by the offset, so its pages SIGBUS.
		{rw, ioCase{name: "a read in a later alignment unit succeeds, as in C", off: 4 * mib, len: 16, n: 16}},
		{rw, ioCase{name: "a read of the device's last bytes succeeds, as in C", off: devSize - 16, len: 16, n: 16}},
		{rw, ioCase{name: "a read past the device's end is LENGTH_OUT_OF_RANGE", off: devSize - 8, len: 16,
			want: pmem2.ErrLengthOutOfRange, msg: []string{"check length"}}},
		{rw, ioCase{name: "a read at the device's end is LENGTH_OUT_OF_RANGE", off: devSize, len: 16,
			want: pmem2.ErrLengthOutOfRange}},
		{rw, ioCase{name: "an offset whose window wraps around 2^64 is -EOVERFLOW, never a crash", off: -1, len: 1,
			want: -pmem2.Code(unix.EOVERFLOW), msg: []string{"mmap"}}},
		// C's devdax_read maps with pmem2_config's default protection,
		// PROT_READ|PROT_WRITE, so mmap fails with EACCES.
		{ro, ioCase{name: "a read through an O_RDONLY Device DAX is NO_ACCESS, as in C (it maps read-write)", len: 16,
			want: pmem2.ErrNoAccess, msg: []string{"pmem2_source_pread_mcsafe", "mmap"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filled(c.len, 0xAA)
			n, err := c.src.ReadAt(p, c.off)
			checkIO(t, f, n, err, c.ioCase)
			if c.want == 0 && !bytes.Equal(p, filled(c.len, 0)) {
				t.Error("the buffer does not hold the device's zeros")
			}
		})
	}
	t.Run("an offset beyond the size passes C's unsigned check, and where C would leave its mapping the port does not crash", func(t *testing.T) {
		p := filled(16, 0xAA)
		n, err := rw.ReadAt(p, devSize+4096)
		code := pmem2.Code(pmem2.CodeOf(err))
		switch {
		case err == nil && n == 16 && bytes.Equal(p, filled(16, 0)):
		case code == pmem2.ErrIOFail || (code < 0 && code > -4096):
		default:
			t.Errorf("ReadAt beyond the size = %d, %v: want the zeros there, IO_FAIL or -errno", n, err)
		}
	})
	t.Run("a read reads the nd_dax's size and align afresh", func(t *testing.T) {
		sizeFile := ndDaxDir(t, f, "sys/dev/char/1:5") + "/size"
		alignFile := ndDaxDir(t, f, "sys/dev/char/1:5") + "/align"
		f.Server().ResetCalls()
		n, err := rw.ReadAt(make([]byte, 8), 0)
		checkIO(t, f, n, err, ioCase{n: 8})
		if f.Server().Calls(sizeFile, fusefs.OpRead) == 0 || f.Server().Calls(alignFile, fusefs.OpRead) == 0 {
			t.Errorf("size read %d times, alignment %d times: want both read",
				f.Server().Calls(sizeFile, fusefs.OpRead), f.Server().Calls(alignFile, fusefs.OpRead))
		}
	})
	t.Run("a Device DAX backed by /dev/null cannot be mapped: -ENODEV, as in C", func(t *testing.T) {
		g := startDevice(t, nullSpec())
		src, _ := newSource(t, g, "dev/dax0.0", rdwr)
		n, err := src.ReadAt(make([]byte, 16), 0)
		checkIO(t, g, n, err, ioCase{want: -pmem2.Code(unix.ENODEV), msg: []string{"mmap"}})
	})
}

// nullSpec is deviceSpec's Device DAX as char 1:3: opening it opens
// /dev/null, which cannot be mapped.
func nullSpec() *emulate.Spec {
	s := deviceSpec()
	s.DAXDevices[0].Minor = 3
	return s
}

// TestWriteAt covers pmem2_source_pwrite_mcsafe: pwrite on regular files,
// whose bytes must reach the server, and a Device DAX written through a
// mapping.
func TestWriteAt(t *testing.T) {
	t.Run("regular files", func(t *testing.T) {
		for _, c := range []struct {
			flags  int
			faults []emulate.Fault // on data/small
			p      string
			ioCase
			after string // the file's content afterwards
		}{
			{flags: rdwr, p: "HELLO", ioCase: ioCase{name: "a write reaches the file", n: 5}, after: "HELLO, pmem\n"},
			{flags: rdwr, p: "PMEM", ioCase: ioCase{name: "a write at an offset reaches the file there", off: 7, n: 4},
				after: "hello, PMEM\n"},
			{flags: rdwr, p: "longer than twelve", ioCase: ioCase{name: "a write longer than the file is LENGTH_OUT_OF_RANGE",
				want: pmem2.ErrLengthOutOfRange, msg: []string{"pmem2_source_pwrite_mcsafe", "check length"}},
				after: "hello, pmem\n"},
			{flags: rdwr, p: "abcde", ioCase: ioCase{name: "a write past the end is LENGTH_OUT_OF_RANGE", off: 10,
				want: pmem2.ErrLengthOutOfRange}, after: "hello, pmem\n"},
			{flags: rdwr, p: "xyz", ioCase: ioCase{name: "an offset beyond the size wraps like C's size_t and grows the file",
				off: 20, n: 3}, after: "hello, pmem\n\x00\x00\x00\x00\x00\x00\x00\x00xyz"},
			{flags: rdwr, p: "x", ioCase: ioCase{name: "a negative offset passes the unsigned check and pwrite says -EINVAL",
				off: -1, want: -pmem2.Code(unix.EINVAL), msg: []string{"pwrite"}}, after: "hello, pmem\n"},
			{flags: rdonly, p: "HELLO", ioCase: ioCase{name: "an O_RDONLY descriptor cannot be written: -EBADF",
				want: -pmem2.Code(unix.EBADF), msg: []string{"pmem2_source_pwrite_mcsafe", "pwrite"}}, after: "hello, pmem\n"},
			{flags: opath, p: "HELLO", ioCase: ioCase{name: "an O_PATH descriptor cannot be written: -EBADF",
				want: -pmem2.Code(unix.EBADF)}, after: "hello, pmem\n"},
			{flags: rdwr, p: "HELLO", faults: []emulate.Fault{{Op: fusefs.OpWrite, Errno: syscall.EIO}},
				ioCase: ioCase{name: "a write failing with EIO is IO_FAIL", want: pmem2.ErrIOFail,
					msg: []string{"pmem2_source_pwrite_mcsafe", "pwrite"}}, after: "hello, pmem\n"},
			{flags: rdwr, p: "HELLO", faults: []emulate.Fault{{Op: fusefs.OpWrite, Errno: syscall.ENOSPC}},
				ioCase: ioCase{name: "a write failing with ENOSPC is -ENOSPC", want: -28}, after: "hello, pmem\n"},
			{flags: rdwr, p: "HELLO", faults: []emulate.Fault{{Op: fusefs.OpWrite, Errno: syscall.EDQUOT}},
				ioCase: ioCase{name: "a write failing with EDQUOT is -EDQUOT", want: -122}, after: "hello, pmem\n"},
			{flags: rdwr, p: "HELLO, PMEM\n", faults: []emulate.Fault{{Op: fusefs.OpWrite, Short: 2}},
				ioCase: ioCase{name: "short writes are continued until every byte is written", n: 12}, after: "HELLO, PMEM\n"},
			{flags: rdwr, p: "HELLO, PMEM\n", faults: []emulate.Fault{{Op: fusefs.OpWrite, Short: 4, Times: 1}, {Op: fusefs.OpWrite, Errno: syscall.EIO}},
				ioCase: ioCase{name: "EIO after a short write is IO_FAIL with the bytes written so far", n: 4, want: pmem2.ErrIOFail},
				after:  "HELLo, pmem\n"},
			{flags: rdwr, p: "HELLO", faults: []emulate.Fault{{Op: fusefs.OpGetattr, Errno: syscall.ESTALE}},
				ioCase: ioCase{name: "a failing fstat is Size's -ESTALE, before any write", want: -116,
					msg: []string{"pmem2_source_size", "fstat"}}, after: "hello, pmem\n"},
		} {
			t.Run(c.name, func(t *testing.T) {
				f := start(t, nil)
				src, _ := newSource(t, f, "data/small", c.flags)
				for _, flt := range c.faults {
					flt.Path = "data/small"
					require.NoError(t, f.AddFault(flt))
				}
				f.Server().ResetCalls()
				n, err := src.WriteAt([]byte(c.p), c.off)
				checkIO(t, f, n, err, c.ioCase)
				f.ClearFaults()
				node, _ := f.Server().Node("data/small")
				if got := string(node.Data) + string(make([]byte, node.Size-int64(len(node.Data)))); got != c.after {
					t.Errorf("the server holds %q, want %q", got, c.after)
				}
				writes := f.Server().Calls("data/small", fusefs.OpWrite)
				switch {
				case c.faults != nil && c.faults[0].Op == fusefs.OpWrite && writes == 0:
					t.Error("no write reached the server: the fault cannot have fired")
				case c.faults != nil && c.faults[0].Short > 0 && c.want == 0 && writes < 2:
					t.Errorf("%d writes reached the server: the short write was not continued", writes)
				case c.faults != nil && c.faults[0].Op == fusefs.OpGetattr && writes != 0:
					t.Errorf("%d writes reached the server after fstat failed", writes)
				}
			})
		}
	})

	t.Run("an anonymous source is SOURCE_TYPE_NOT_SUPPORTED", func(t *testing.T) {
		src, _ := pmem2.SourceFromAnon(4096)
		n, err := src.WriteAt(make([]byte, 8), 0)
		checkIO(t, nil, n, err, ioCase{want: pmem2.ErrSourceTypeNotSupported, msg: []string{"pmem2_source_pwrite_mcsafe"}})
	})

	t.Run("an O_PATH Device DAX on a nodev mount cannot be mapped: -EBADF", func(t *testing.T) {
		f := start(t, nil)
		src, _ := newSource(t, f, "dev/dax0.0", opath)
		n, err := src.WriteAt(make([]byte, 8), 0)
		checkIO(t, f, n, err, ioCase{want: -pmem2.Code(unix.EBADF), msg: []string{"pmem2_source_pwrite_mcsafe", "mmap"}})
	})

	t.Run("Device DAX in device mode", testWriteDAXDevice)

	t.Run("a memory fault during the copy is IO_FAIL, never a crash", func(t *testing.T) {
		src := repointed(t)
		n, err := src.WriteAt(filled(16, 0x5A), 8192)
		checkIO(t, nil, n, err, ioCase{want: pmem2.ErrIOFail, msg: []string{"pmem2_source_pwrite_mcsafe", "copy", "SIGBUS"}})
	})
}

// testWriteDAXDevice writes a Device DAX that is really open: char 1:5, so
// each call maps /dev/zero, whose MAP_SHARED mappings are fresh zeroed
// memory each time: a write succeeds and lands in its own mapping only, and
// the next call (a new mapping) sees zeros again — in C as in Go, which is
// the whole of what pmem2 promises across calls for such a device. Every
// expectation was checked against the C libpmem2 on the same device.
func testWriteDAXDevice(t *testing.T) {
	f, rw, ro := daxSources(t)
	for _, c := range []sourceIOCase{
		{rw, ioCase{name: "a write through the mapping of an O_RDWR Device DAX succeeds", len: 4096, n: 4096}},
		{rw, ioCase{name: "a write across an alignment boundary succeeds", off: 2*mib - 100, len: 200, n: 200}},
		// See testReadDAXDevice: C maps from offset 0.
		{rw, ioCase{name: "a write in a later alignment unit succeeds, as in C", off: 4 * mib, len: 16, n: 16}},
		{rw, ioCase{name: "a write of the device's last bytes succeeds, as in C", off: devSize - 16, len: 16, n: 16}},
		{rw, ioCase{name: "a write past the device's end is LENGTH_OUT_OF_RANGE", off: devSize - 8, len: 16,
			want: pmem2.ErrLengthOutOfRange}},
		{rw, ioCase{name: "an offset whose window wraps around 2^64 is -EOVERFLOW, never a crash", off: -1, len: 1,
			want: -pmem2.Code(unix.EOVERFLOW)}},
		{ro, ioCase{name: "a write through an O_RDONLY Device DAX is NO_ACCESS", len: 4096,
			want: pmem2.ErrNoAccess, msg: []string{"pmem2_source_pwrite_mcsafe", "mmap", "permission denied"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, err := c.src.WriteAt(filled(c.len, 0x5A), c.off)
			checkIO(t, f, n, err, c.ioCase)
		})
	}
	t.Run("a read after a write maps /dev/zero afresh and sees zeros", func(t *testing.T) {
		n, err := rw.WriteAt(filled(4096, 0x5A), 0)
		checkIO(t, f, n, err, ioCase{n: 4096})
		p := filled(4096, 0xAA)
		n, err = rw.ReadAt(p, 0)
		checkIO(t, f, n, err, ioCase{n: 4096})
		if !bytes.Equal(p, filled(4096, 0)) {
			t.Error("the read does not see zeros: /dev/zero's shared mappings are not shared between calls")
		}
	})
	t.Run("a Device DAX backed by /dev/null cannot be mapped: -ENODEV, as in C", func(t *testing.T) {
		g := startDevice(t, nullSpec())
		src, _ := newSource(t, g, "dev/dax0.0", rdwr)
		n, err := src.WriteAt(make([]byte, 16), 0)
		checkIO(t, g, n, err, ioCase{want: -pmem2.Code(unix.ENODEV), msg: []string{"mmap"}})
	})
}
