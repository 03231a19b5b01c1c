package security_test

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

var page = uint64(os.Getpagesize())

// descSpec is a Device DAX beside a 12-byte regular file.
func descSpec() *emulate.Spec {
	s := hostileSpec()
	s.Nodes = []emulate.Node{{Path: "data/small", Type: fusefs.TypeFile, Content: "hello, pmem\n"}, {Path: "data/dir", Type: fusefs.TypeDir}}
	return s
}

// highFD is a descriptor number no open in this process will be given
// while the test runs (the kernel hands out the lowest free number).
func highFD(t *testing.T) int {
	t.Helper()
	for fd := 900; fd < 1000; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == unix.EBADF {
			t.Cleanup(func() { unix.Close(fd) })
			return fd
		}
	}
	t.Fatal("no free descriptor number between 900 and 999")
	return -1
}

// TestReusedDescriptorNumbers documents what a Source does when its
// descriptor number is closed and reused by another file, as C's
// struct pmem2_source does: it keeps the number, the file type and the
// device number SourceFromFD saw, and every call works on whatever the
// number refers to now — fstat of the new file, sysfs of the old device.
func TestReusedDescriptorNumbers(t *testing.T) {
	f := emutest.Start(t, descSpec())
	sysfs := pmem2.WithSysfsRoot(f.Sysfs())
	dax := testutil.OpenFD(t, f.Path("dev/dax0.0"), unix.O_PATH)
	small := testutil.OpenFD(t, f.Path("data/small"), unix.O_RDONLY)
	dir := testutil.OpenFD(t, f.Path("data/dir"), unix.O_RDONLY)

	type want struct {
		size, align pmem2.Code
		sizeVal     uint64
		alignVal    uint64
		read        pmem2.Code
		readLen     int // bytes ReadAt asks for: 12 when 0, none when -1
	}
	for _, c := range []struct {
		name     string
		from, to int // the file the source is made from, the file the number then refers to (-1: closed)
		typ      pmem2.FileType
		want     want
	}{
		{"a Device DAX source whose number now is a regular file reads the device's sysfs, maps the file: NO_ACCESS",
			dax, small, pmem2.FileTypeDevDAX,
			want{sizeVal: gib, alignVal: 2 * mib, read: pmem2.ErrNoAccess}},
		{"a regular source whose number now is the Device DAX node has its st_size, 0: LENGTH_OUT_OF_RANGE",
			small, dax, pmem2.FileTypeRegular,
			want{sizeVal: 0, alignVal: page, read: pmem2.ErrLengthOutOfRange}},
		{"a regular source whose number now is a directory has its st_size, and an empty read preads it: -EISDIR",
			small, dir, pmem2.FileTypeRegular,
			want{sizeVal: statSize(t, f.Path("data/dir")), alignVal: page, read: eisdir, readLen: -1}},
		{"a regular source whose number is closed is an invalid handle, as its pread would be",
			small, -1, pmem2.FileTypeRegular,
			want{size: pmem2.ErrInvalidFileHandle, alignVal: page, read: pmem2.ErrInvalidFileHandle}},
		{"a Device DAX source whose number is closed is an invalid handle, but its alignment is read from sysfs",
			dax, -1, pmem2.FileTypeDevDAX,
			want{size: pmem2.ErrInvalidFileHandle, alignVal: 2 * mib, read: pmem2.ErrInvalidFileHandle}},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := highFD(t)
			require.NoError(t, unix.Dup3(c.from, n, unix.O_CLOEXEC))
			src, err := pmem2.SourceFromFD(n, sysfs)
			wantCode(t, err, 0)
			defer src.Delete()
			if c.to < 0 {
				require.NoError(t, unix.Close(n))
			} else {
				require.NoError(t, unix.Dup3(c.to, n, unix.O_CLOEXEC))
			}
			if src.Type() != c.typ {
				t.Errorf("type %v, want %v: the source keeps what SourceFromFD saw", src.Type(), c.typ)
			}
			if got, err := src.FD(); err != nil || got != n {
				t.Errorf("FD() = %d, %v; want the number %d", got, err, n)
			}
			size, err := src.Size()
			wantCode(t, err, c.want.size)
			if size != c.want.sizeVal {
				t.Errorf("size %d, want %d", size, c.want.sizeVal)
			}
			align, err := src.Alignment()
			wantCode(t, err, c.want.align)
			if align != c.want.alignVal {
				t.Errorf("alignment %d, want %d", align, c.want.alignVal)
			}
			readLen := c.want.readLen
			if readLen == 0 {
				readLen = 12
			} else if readLen < 0 {
				readLen = 0
			}
			_, err = src.ReadAt(make([]byte, readLen), 0)
			wantCode(t, err, c.want.read)
		})
	}
}

func statSize(t *testing.T, p string) uint64 {
	t.Helper()
	var st unix.Stat_t
	require.NoError(t, unix.Stat(p, &st))
	return uint64(st.Size)
}

// TestDescriptorClosedDuringTheCall: while callers use one descriptor
// number — SourceFromFD on it, and every method of two sources made from
// it, one when it was the Device DAX and one when it was the regular file
// — another goroutine keeps closing it and reopening it as the other file
// (dup3, atomic) or leaving it closed. No call may panic or return anything
// but a result one of those files (or no file) allows.
func TestDescriptorClosedDuringTheCall(t *testing.T) {
	f := emutest.Start(t, descSpec())
	sysfs := pmem2.WithSysfsRoot(f.Sysfs())
	dax := testutil.OpenFD(t, f.Path("dev/dax0.0"), unix.O_PATH)
	small := testutil.OpenFD(t, f.Path("data/small"), unix.O_RDONLY)
	n := highFD(t)

	require.NoError(t, unix.Dup3(dax, n, unix.O_CLOEXEC))
	daxSrc, err := pmem2.SourceFromFD(n, sysfs)
	require.NoError(t, err)
	require.NoError(t, unix.Dup3(small, n, unix.O_CLOEXEC))
	fileSrc, err := pmem2.SourceFromFD(n, sysfs)
	require.NoError(t, err)

	type res struct {
		code pmem2.Code
		val  uint64
	}
	ok := func(v uint64) res { return res{val: v} }
	fail := func(c pmem2.Code) res { return res{code: c} }
	ebadf := -pmem2.Code(syscall.EBADF)
	invalid := pmem2.ErrInvalidFileHandle
	// What each call may return while the number is the Device DAX node
	// (O_PATH), the regular file, or nothing — or changes between the
	// steps of the call.
	ops := []struct {
		name    string
		call    func(buf []byte) (uint64, error)
		allowed []res
	}{
		{"SourceFromFD", func([]byte) (uint64, error) {
			src, err := pmem2.SourceFromFD(n, sysfs)
			if err != nil {
				return 0, err
			}
			defer src.Delete()
			return uint64(src.Type()), nil
		}, []res{ok(uint64(pmem2.FileTypeDevDAX)), ok(uint64(pmem2.FileTypeRegular)), fail(invalid)}},
		{"Size(dax)", func([]byte) (uint64, error) { return daxSrc.Size() },
			[]res{ok(gib), fail(invalid)}},
		{"Alignment(dax)", func([]byte) (uint64, error) { return daxSrc.Alignment() },
			[]res{ok(2 * mib)}},
		// Mapping an O_PATH descriptor is EBADF, a read-only one
		// NO_ACCESS (C maps read-write).
		{"ReadAt(dax)", func(buf []byte) (uint64, error) { k, err := daxSrc.ReadAt(buf, 0); return uint64(k), err },
			[]res{fail(ebadf), fail(pmem2.ErrNoAccess), fail(invalid)}},
		{"Size(file)", func([]byte) (uint64, error) { return fileSrc.Size() },
			[]res{ok(12), ok(0), fail(invalid)}},
		{"Alignment(file)", func([]byte) (uint64, error) { return fileSrc.Alignment() },
			[]res{ok(page)}},
		// pread of an O_PATH descriptor is EBADF, as of a closed one.
		{"ReadAt(file)", func(buf []byte) (uint64, error) { k, err := fileSrc.ReadAt(buf, 0); return uint64(k), err },
			[]res{ok(12), fail(pmem2.ErrLengthOutOfRange), fail(invalid), fail(ebadf)}},
	}

	var stop atomic.Bool
	var calls, swaps atomic.Int64
	seen := make([]sync.Map, len(ops)) // res → count, per op
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 12)
			for i := w; !stop.Load(); i++ {
				o := ops[i%len(ops)]
				var r res
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Errorf("%s panicked: %v", o.name, p)
						}
					}()
					v, err := o.call(buf)
					if err != nil {
						var pe *pmem2.Error
						if !errors.As(err, &pe) {
							t.Errorf("%s: %T is not a *pmem2.Error: %v", o.name, err, err)
						}
						r = fail(pmem2.Code(pmem2.CodeOf(err)))
					} else {
						r = ok(v)
					}
				}()
				calls.Add(1)
				if !containsRes(o.allowed, r) {
					t.Errorf("%s returned %v, outside %v", o.name, r, o.allowed)
				}
				c, _ := seen[i%len(ops)].LoadOrStore(r, new(atomic.Int64))
				c.(*atomic.Int64).Add(1)
			}
		}()
	}
	deadline := time.Now().Add(2 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		switch i % 3 {
		case 0:
			unix.Close(n)
		case 1:
			unix.Dup3(dax, n, unix.O_CLOEXEC)
		case 2:
			unix.Dup3(small, n, unix.O_CLOEXEC)
		}
		swaps.Add(1)
		time.Sleep(50 * time.Microsecond)
	}
	stop.Store(true)
	wg.Wait()

	var summary []string
	for i, o := range ops {
		var rs []string
		seen[i].Range(func(k, v any) bool {
			r := k.(res)
			name := fmt.Sprintf("ok %d", r.val)
			if r.code != 0 {
				name = r.code.Name()
			}
			rs = append(rs, fmt.Sprintf("%s ×%d", name, v.(*atomic.Int64).Load()))
			return true
		})
		sort.Strings(rs)
		summary = append(summary, o.name+": "+strings.Join(rs, ", "))
		if len(rs) < 2 && len(o.allowed) > 1 {
			t.Errorf("%s always returned the same (%v): the swaps did not reach it", o.name, rs)
		}
	}
	t.Logf("%d calls during %d closes and swaps of descriptor %d, none outside its allowed set:\n\t%s",
		calls.Load(), swaps.Load(), n, strings.Join(summary, "\n\t"))
}

func containsRes[T comparable](xs []T, x T) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
