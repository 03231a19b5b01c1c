package pmem2

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The system calls of the hot paths, on NUL-terminated byte paths built in
// the caller's stack buffers: golang.org/x/sys/unix's string-taking
// wrappers would copy each path to the heap.
//
// EINTR is retried, as Go's os package does: the Go runtime interrupts its
// own threads (SIGURG for preemption), which a C program never sees.

// pathMax is PATH_MAX: the longest path, NUL included, the kernel and a
// PATH_MAX buffer of the C library accept.
const pathMax = 4096

var atFDCWD = func() uintptr { fd := unix.AT_FDCWD; return uintptr(fd) }()

type statBuf = unix.Stat_t

func fstat(fd int, st *statBuf) syscall.Errno {
	for {
		err := unix.Fstat(fd, st)
		if err == nil {
			return 0
		}
		if e := asErrno(err); e != syscall.EINTR {
			return e
		}
	}
}

// fstatErr maps a failing fstat as C does: EBADF is an invalid handle.
func fstatErr(fn string, errno syscall.Errno) *Error {
	if errno == syscall.EBADF {
		return &Error{Func: fn, Op: "fstat", Code: ErrInvalidFileHandle, Err: errno}
	}
	return errnoErr(fn, "fstat", "", errno)
}

// openat opens the NUL-terminated path relative to the working directory.
func openat(path []byte, flags int) (int, syscall.Errno) {
	for {
		r, _, e := unix.Syscall6(unix.SYS_OPENAT, atFDCWD, uintptr(unsafe.Pointer(&path[0])),
			uintptr(flags), 0, 0, 0)
		if e != syscall.EINTR {
			if e != 0 {
				return -1, e
			}
			return int(r), 0
		}
	}
}

// readlinkat reads the target of the NUL-terminated path into buf.
func readlinkat(path, buf []byte) (int, syscall.Errno) {
	for {
		r, _, e := unix.Syscall6(unix.SYS_READLINKAT, atFDCWD, uintptr(unsafe.Pointer(&path[0])),
			uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
		if e != syscall.EINTR {
			if e != 0 {
				return -1, e
			}
			return int(r), 0
		}
	}
}

func read(fd int, buf []byte) (int, syscall.Errno) {
	for {
		n, err := unix.Read(fd, buf)
		if err == nil {
			return n, 0
		}
		if e := asErrno(err); e != syscall.EINTR {
			return -1, e
		}
	}
}

// closeFD closes a descriptor this package opened. Linux releases the
// descriptor even when close reports an error, so there is nothing to do
// about one.
func closeFD(fd int) { _ = unix.Close(fd) }

// cstr terminates b with a NUL byte; false when the result would not fit
// PATH_MAX, where the kernel answers ENAMETOOLONG.
func cstr(b []byte) ([]byte, bool) {
	if len(b)+1 > pathMax {
		return b, false
	}
	return append(b, 0), true
}

// charDevPath appends "<root>/dev/char/<major>:<minor><suffix>" to dst, as
// C's snprintf("/sys/dev/char/%u:%u…", major(rdev), minor(rdev)).
func charDevPath(dst []byte, root string, rdev uint64, suffix string) []byte {
	dst = append(dst, root...)
	dst = append(dst, "/dev/char/"...)
	dst = appendUint(dst, uint64(unix.Major(rdev)))
	dst = append(dst, ':')
	dst = appendUint(dst, uint64(unix.Minor(rdev)))
	return append(dst, suffix...)
}

func appendUint(dst []byte, v uint64) []byte {
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(dst, d[i:]...)
}

// str is the path without its NUL, as a string for an error message.
func str(cpath []byte) string {
	if n := len(cpath); n > 0 && cpath[n-1] == 0 {
		cpath = cpath[:n-1]
	}
	return string(cpath)
}
