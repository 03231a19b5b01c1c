package pmem2

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// SourceFromFD is pmem2_source_from_fd: it validates fd and describes the
// file behind it. The checks run in C's order and fail with C's codes:
//
//	fd < 0                         PMEM2_E_INVALID_FILE_HANDLE
//	fcntl(F_GETFL) fails           EBADF: PMEM2_E_INVALID_FILE_HANDLE, else -errno
//	access mode O_WRONLY           PMEM2_E_INVALID_FILE_HANDLE (O_PATH, mode 0, is accepted)
//	fstat fails                    EBADF: PMEM2_E_INVALID_FILE_HANDLE, else -errno
//	regular file                   FileTypeRegular
//	directory, FIFO, socket, block PMEM2_E_INVALID_FILE_TYPE
//	character device               Device DAX when realpath("<sysfs>/dev/char/M:m/subsystem")
//	                               ends in "/dax"; resolution fails: -errno; else
//	                               PMEM2_E_INVALID_FILE_TYPE
//
// The descriptor stays the caller's: the Source neither duplicates nor
// closes it.
func SourceFromFD(fd int, opts ...Option) (*Source, error) {
	if fd < 0 {
		return nil, codeErr(fnFromFD, "check fd", "", ErrInvalidFileHandle, fmt.Sprintf("fd %d is negative", fd))
	}
	flags, errno := getfl(fd)
	if errno != 0 {
		if errno == syscall.EBADF {
			return nil, &Error{Func: fnFromFD, Op: "fcntl(F_GETFL)", Code: ErrInvalidFileHandle, Err: errno}
		}
		return nil, errnoErr(fnFromFD, "fcntl(F_GETFL)", "", errno)
	}
	if flags&unix.O_ACCMODE == unix.O_WRONLY {
		return nil, codeErr(fnFromFD, "check access mode", "", ErrInvalidFileHandle, "fd must be open with O_RDONLY or O_RDWR, not O_WRONLY")
	}
	var st statBuf
	if errno := fstat(fd, &st); errno != 0 {
		return nil, fstatErr(fnFromFD, errno)
	}
	c := apply(opts)
	s := &Source{fd: fd, rdev: st.Rdev, dev: st.Dev, sysfsRoot: c.sysfsRoot, procFD: c.procFD}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		s.typ = FileTypeRegular
	case unix.S_IFDIR:
		return nil, codeErr(fnFromFD, "check file type", "", ErrInvalidFileType, "fd refers to a directory")
	case unix.S_IFCHR:
		if err := classifyCharDev(c, st.Rdev, fnFromFD); err != nil {
			return nil, err
		}
		s.typ = FileTypeDevDAX
	default:
		return nil, codeErr(fnFromFD, "check file type", "", ErrInvalidFileType,
			fmt.Sprintf("file type 0%o is not supported", st.Mode&unix.S_IFMT))
	}
	return s, nil
}

// getfl is fcntl(fd, F_GETFL). It reads the open file's flags and never
// blocks (not even on FUSE), so it skips the scheduler's blocking-syscall
// bookkeeping: SourceFromFD on a regular file is two system calls, and
// that bookkeeping was a visible share of its cost against C's.
func getfl(fd int) (int, syscall.Errno) {
	for {
		flags, _, errno := unix.RawSyscall(unix.SYS_FCNTL, uintptr(fd), unix.F_GETFL, 0)
		if errno != syscall.EINTR {
			return int(flags), errno
		}
	}
}
