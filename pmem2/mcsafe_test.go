package pmem2

import (
	"bytes"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

func TestRegularFileReadAtAndWriteAt(t *testing.T) {
	const content = "0123456789"
	type result struct {
		n    int
		code Code
		data string // what p holds afterwards (reads) or the file (writes)
	}
	tests := []struct {
		name  string
		flags int
		write bool
		p     string // for writes; for reads, len(p) bytes of '.'
		off   int64
		want  result
	}{
		{"a read inside the file returns its bytes", unix.O_RDONLY, false, "....", 3, result{4, 0, "3456"}},
		{"a read of the whole file returns it", unix.O_RDWR, false, "..........", 0, result{10, 0, content}},
		{"an empty read at the end succeeds", unix.O_RDONLY, false, "", 10, result{0, 0, ""}},
		{"a read past the end is a length out of range", unix.O_RDONLY, false, "....", 8, result{0, ErrLengthOutOfRange, "...."}},
		{"a read longer than the file is a length out of range", unix.O_RDONLY, false, "...........", 0, result{0, ErrLengthOutOfRange, "..........."}},
		{"a read at an offset beyond the size wraps C's unsigned check and reads nothing", unix.O_RDONLY, false, "....", 100, result{0, 0, "...."}},
		{"a read at a negative offset passes the check and fails in pread with EINVAL", unix.O_RDONLY, false, "..", -1, result{0, errnoCode(syscall.EINVAL), ".."}},
		{"a read through an O_PATH descriptor fails in pread with EBADF", unix.O_PATH, false, "..", 0, result{0, errnoCode(syscall.EBADF), ".."}},
		{"a write inside the file changes it", unix.O_RDWR, true, "ab", 2, result{2, 0, "01ab456789"}},
		{"a write past the end is a length out of range", unix.O_RDWR, true, "abc", 8, result{0, ErrLengthOutOfRange, content}},
		{"a write at an offset beyond the size wraps C's check and grows the file", unix.O_RDWR, true, "ab", 12, result{2, 0, content + "\x00\x00ab"}},
		{"a write through a read-only descriptor fails in pwrite with EBADF", unix.O_RDONLY, true, "ab", 0, result{0, errnoCode(syscall.EBADF), content}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tempFile(t, content)
			src, err := SourceFromFD(testutil.OpenFD(t, path, tt.flags))
			wantCode(t, err, 0)
			p := []byte(tt.p)
			var n int
			if tt.write {
				n, err = src.WriteAt(p, tt.off)
			} else {
				n, err = src.ReadAt(p, tt.off)
			}
			wantCode(t, err, tt.want.code)
			data := string(p)
			if tt.write {
				b, rerr := os.ReadFile(path)
				if rerr != nil {
					t.Fatal(rerr)
				}
				data = string(b)
			}
			if n != tt.want.n || data != tt.want.data {
				t.Fatalf("n %d data %q, want %d %q", n, data, tt.want.n, tt.want.data)
			}
		})
	}
}

// /proc/self/mem is a regular file of size 0 that fails with EIO where
// nothing is mapped: C's unsigned size check lets any offset through, and
// pread/pwrite report a real EIO.
func TestEIOIsAnIOFailure(t *testing.T) {
	const unmapped = 4096 // the page after NULL is never mapped
	for _, tt := range []struct {
		name  string
		write bool
		flags int
	}{{"an EIO from pread is PMEM2_E_IO_FAIL", false, unix.O_RDONLY}, {"an EIO from pwrite is PMEM2_E_IO_FAIL", true, unix.O_RDWR}} {
		t.Run(tt.name, func(t *testing.T) {
			src, err := SourceFromFD(testutil.OpenFD(t, "/proc/self/mem", tt.flags))
			wantCode(t, err, 0)
			p := make([]byte, 8)
			if tt.write {
				_, err = src.WriteAt(p, unmapped)
			} else {
				_, err = src.ReadAt(p, unmapped)
			}
			wantCode(t, err, ErrIOFail)
			if !errorsIsErrno(err, syscall.EIO) {
				t.Fatalf("%v does not wrap EIO", err)
			}
		})
	}
}

func errorsIsErrno(err error, e syscall.Errno) bool {
	pe, ok := err.(*Error)
	return ok && pe.Err == e
}

func TestDeviceDAXReadAtAndWriteAtGoThroughAMapping(t *testing.T) {
	s := newSysfs(t)
	s.busDAX("1:5")
	rw := daxSource(t, s, unix.O_RDWR)

	t.Run("a write to /dev/zero as Device DAX is mapped and copied", func(t *testing.T) {
		n, err := rw.WriteAt([]byte("hello"), 4093) // straddles a page
		wantCode(t, err, 0)
		if n != 5 {
			t.Fatalf("n %d", n)
		}
	})
	t.Run("a read from /dev/zero as Device DAX returns zeros", func(t *testing.T) {
		p := bytes.Repeat([]byte{0xff}, 100)
		n, err := rw.ReadAt(p, testDAXSize-100)
		wantCode(t, err, 0)
		if n != 100 || !bytes.Equal(p, make([]byte, 100)) {
			t.Fatalf("n %d p %x", n, p)
		}
	})
	t.Run("an empty read still maps and succeeds", func(t *testing.T) {
		n, err := rw.ReadAt(nil, 0)
		wantCode(t, err, 0)
		if n != 0 {
			t.Fatalf("n %d", n)
		}
	})
	t.Run("a read past the Device DAX size is a length out of range", func(t *testing.T) {
		_, err := rw.ReadAt(make([]byte, 2), testDAXSize-1)
		wantCode(t, err, ErrLengthOutOfRange)
	})
	t.Run("a read at a negative offset fails in mmap instead of crashing as C would", func(t *testing.T) {
		_, err := rw.ReadAt(make([]byte, 1), -1)
		if CodeOf(err) >= 0 || CodeOf(err) <= -4096 {
			t.Fatalf("got %v, want a -errno", err)
		}
	})
	t.Run("a write through a read-only descriptor is no access", func(t *testing.T) {
		_, err := daxSource(t, s, unix.O_RDONLY).WriteAt([]byte("x"), 0)
		wantCode(t, err, ErrNoAccess)
	})
	t.Run("a read through a read-only descriptor is no access too, as C maps read-write", func(t *testing.T) {
		_, err := daxSource(t, s, unix.O_RDONLY).ReadAt(make([]byte, 1), 0)
		wantCode(t, err, ErrNoAccess)
	})
	t.Run("a read beyond the first alignment unit maps from offset 0 and succeeds, as in C", func(t *testing.T) {
		// A shared mapping of /dev/zero is indexed by the mapping, not the
		// file offset: a mapping starting above 0 would fault with SIGBUS.
		small := newSysfs(t)
		small.busDAX("1:5")
		small.file(ndDax0+"/align", "4096\n")
		p := bytes.Repeat([]byte{0xff}, 8)
		n, err := daxSource(t, small, unix.O_RDWR).ReadAt(p, testDAXSize-8)
		wantCode(t, err, 0)
		if n != 8 || !bytes.Equal(p, make([]byte, 8)) {
			t.Fatalf("n %d p %x", n, p)
		}
	})
	t.Run("a read through an O_PATH descriptor fails in mmap with EBADF", func(t *testing.T) {
		_, err := daxSource(t, s, unix.O_PATH).ReadAt(make([]byte, 1), 0)
		wantCode(t, err, errnoCode(syscall.EBADF))
	})
	t.Run("a Device DAX without /dev node fails the size check", func(t *testing.T) {
		s := newSysfs(t)
		s.busDAX("1:5")
		src := daxSource(t, s, unix.O_RDWR)
		s.devNode("dax0.0", "")
		_, err := src.ReadAt(make([]byte, 1), 0)
		wantCode(t, err, ErrDAXRegionNotFound)
	})
	t.Run("a broken alignment fails the mapping", func(t *testing.T) {
		s := newSysfs(t)
		s.busDAX("1:5")
		src := daxSource(t, s, unix.O_RDWR)
		s.file(ndDax0+"/align", "3\n")
		_, err := src.WriteAt(make([]byte, 1), 0)
		wantCode(t, err, ErrInvalidAlignmentValue)
	})
}

func TestAFaultDuringTheCopyIsCaught(t *testing.T) {
	// A shared mapping of an empty file faults with SIGBUS on access.
	fd := testutil.OpenFD(t, tempFile(t, ""), unix.O_RDWR)
	m, err := unix.Mmap(fd, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	require.NoError(t, err)
	defer unix.Munmap(m)
	if copyCatchingFaults(make([]byte, 8), m[:8]) {
		t.Fatal("a read beyond the end of a mapped file did not fault")
	}
	if copyCatchingFaults(m[:8], make([]byte, 8)) {
		t.Fatal("a write beyond the end of a mapped file did not fault")
	}
	if !copyCatchingFaults(make([]byte, 8), make([]byte, 8)) {
		t.Fatal("a plain copy faulted")
	}
}
