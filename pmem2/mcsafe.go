package pmem2

import (
	"fmt"
	"math"
	"runtime/debug"
	"syscall"

	"golang.org/x/sys/unix"
)

// ReadAt is pmem2_source_pread_mcsafe: it reads len(p) bytes at off,
// reporting a bad block as PMEM2_E_IO_FAIL instead of dying of SIGBUS.
//
// Checks, as in C: an anonymous source is PMEM2_E_SOURCE_TYPE_NOT_SUPPORTED;
// Size's error is returned as is; len(p) > size - off, computed in unsigned
// arithmetic like C's size_t (an off beyond the size wraps and passes), is
// PMEM2_E_LENGTH_OUT_OF_RANGE.
//
// Regular file: pread until p is full or a read returns 0; EIO is
// PMEM2_E_IO_FAIL, other failures -errno. Unlike io.ReaderAt, n < len(p)
// with a nil error happens at end of file: C returns 0 there too.
//
// Device DAX: a MAP_SHARED, PROT_READ|PROT_WRITE mapping from offset 0 up
// to off+len(p) rounded up to Alignment, as pmem2_map_new with the default
// config maps it (so, as in C, a descriptor opened O_RDONLY cannot be read
// this way: mmap fails with EACCES, which is PMEM2_E_NO_ACCESS; other mmap
// failures are -errno). The copy runs under debug.SetPanicOnFault so that a
// SIGBUS becomes PMEM2_E_IO_FAIL.
func (s *Source) ReadAt(p []byte, off int64) (int, error) {
	return s.mcsafe(fnPread, p, off, false)
}

// WriteAt is pmem2_source_pwrite_mcsafe: ReadAt's twin, with pwrite and
// the same mapping. An off beyond the size passes C's unsigned
// check, so a regular file grows there, as it does in C.
func (s *Source) WriteAt(p []byte, off int64) (int, error) {
	return s.mcsafe(fnPwrite, p, off, true)
}

func (s *Source) mcsafe(fn string, p []byte, off int64, write bool) (int, error) {
	if s == nil {
		return 0, deletedErr(fn)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch s.typ {
	case FileTypeUnknown:
		return 0, deletedErr(fn)
	case FileTypeAnon:
		return 0, codeErr(fn, "check source type", "", ErrSourceTypeNotSupported,
			"only sources created from a file descriptor are supported")
	}
	size, err := s.size()
	if err != nil {
		return 0, err
	}
	if max := size - uint64(off); uint64(len(p)) > max {
		return 0, codeErr(fn, "check length", "", ErrLengthOutOfRange,
			fmt.Sprintf("%d bytes at offset %d go beyond the size %d", len(p), uint64(off), size))
	}
	if s.typ == FileTypeDevDAX {
		return s.mapped(fn, p, off, write)
	}
	return s.transfer(fn, p, off, write)
}

// transfer is pread/pwrite in a loop; the first call happens even for an
// empty p, so that its errors (EBADF for an O_PATH descriptor, EINVAL for a
// negative offset) come out as in C.
func (s *Source) transfer(fn string, p []byte, off int64, write bool) (int, error) {
	op := "pread"
	if write {
		op = "pwrite"
	}
	done := 0
	for {
		var n int
		var err error
		if write {
			n, err = unix.Pwrite(s.fd, p[done:], off+int64(done))
		} else {
			n, err = unix.Pread(s.fd, p[done:], off+int64(done))
		}
		if err != nil {
			errno := asErrno(err)
			if errno == syscall.EINTR {
				continue
			}
			if errno == syscall.EIO {
				return done, &Error{Func: fn, Op: op, Code: ErrIOFail, Err: errno,
					Detail: "physical I/O error, possible bad block"}
			}
			return done, errnoErr(fn, op, "", errno)
		}
		done += n
		if n == 0 || done == len(p) {
			return done, nil
		}
	}
}

// mapped copies through a mapping that starts at offset 0, like C's
// mapping of the whole device: a device whose pages are indexed by the
// mapping rather than the file offset (a shared mapping of /dev/zero, which
// backs a Device DAX in device mode) then behaves as in C. C maps [0, size);
// the port maps only up to the end of the range, so where C's unsigned check
// lets an offset beyond the size through and C would touch memory outside
// its mapping, the kernel decides instead: -errno, never a crash.
func (s *Source) mapped(fn string, p []byte, off int64, write bool) (int, error) {
	align, err := s.alignment()
	if err != nil {
		return 0, err
	}
	uoff := uint64(off)
	const start = 0
	end := uoff + uint64(len(p))
	if end < uoff || end > math.MaxUint64-align {
		return 0, errnoErr(fn, "mmap", "", syscall.EOVERFLOW)
	}
	end = (end + align - 1) &^ (align - 1)
	if end == start {
		end = align // an empty copy still maps, as C does
	}
	length := end - start
	if length > math.MaxInt {
		return 0, errnoErr(fn, "mmap", "", syscall.ENOMEM)
	}
	// pmem2_config_new's default protection is read and write, for reads too.
	m, err := unix.Mmap(s.fd, start, int(length), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		errno := asErrno(err)
		if errno == syscall.EACCES {
			return 0, &Error{Func: fn, Op: "mmap", Code: ErrNoAccess, Err: errno}
		}
		return 0, errnoErr(fn, "mmap", "", errno)
	}
	defer func() { _ = unix.Munmap(m) }()
	window := m[uoff-start : uoff-start+uint64(len(p))]
	var ok bool
	if write {
		ok = copyCatchingFaults(window, p)
	} else {
		ok = copyCatchingFaults(p, window)
	}
	if !ok {
		return 0, &Error{Func: fn, Op: "copy", Code: ErrIOFail,
			Detail: "memory fault (SIGBUS) during the copy, possible bad block"}
	}
	return len(p), nil
}

// copyCatchingFaults copies src to dst and reports false when the copy
// faults (SIGBUS on a bad block, SIGSEGV), which debug.SetPanicOnFault
// turns into a panic of this goroutine instead of a crash of the program.
func copyCatchingFaults(dst, src []byte) (ok bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			ok = false
		}
	}()
	copy(dst, src)
	return true
}
