package pmem2

import (
	"bytes"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// attrSize is SYSFS_ATTR_SIZE of ndctl's util/sysfs.h: libndctl and
// libdaxctl read every attribute with one read of this many bytes.
const attrSize = 1024

// attrBuf holds one attribute as libndctl reads it.
type attrBuf [attrSize]byte

// sysfsOpenFlags opens sysfs attributes and directories. O_NONBLOCK because
// the port must never hang where a FIFO stands in for an attribute
// (libndctl opens with O_RDONLY alone and blocks until a writer appears);
// reading such a FIFO yields "" (or EAGAIN while a writer holds it open).
const sysfsOpenFlags = unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC

// readAttr is ndctl's __sysfs_read_attr on the NUL-terminated path: open,
// one read of at most attrSize bytes, close. It fails (false) when the
// open or the read fails, and when the read fills the whole buffer (C then
// returns whatever errno earlier calls left; see the package
// documentation). The content is what C's string functions see: up to the
// first NUL byte, one trailing '\n' removed.
func readAttr(cpath []byte, buf *attrBuf) ([]byte, bool) {
	b, errno := readAttrErrno(cpath, buf)
	return b, errno == 0
}

// errAttrFull stands for the errno of a read that filled libndctl's
// buffer: C returns -errno with whatever errno earlier calls left, which
// is no property of the file.
const errAttrFull = syscall.EFBIG

// staleErrno is the errno the port takes where C returns one that earlier
// calls left: ENOENT, from the optional attributes libndctl fails to open
// on its way (measured on every such tree: a region's resource or
// numa_node of 1 KiB, a region resource of ULLONG_MAX).
const staleErrno = syscall.ENOENT

// readAttrErrno is readAttr telling why it failed: the errno of open or
// read, or errAttrFull.
func readAttrErrno(cpath []byte, buf *attrBuf) ([]byte, syscall.Errno) {
	fd, errno := openat(cpath, sysfsOpenFlags)
	if errno != 0 {
		return nil, errno
	}
	n, errno := read(fd, buf[:])
	closeFD(fd)
	if errno != 0 {
		return nil, errno
	}
	b, ok := attrContent(buf[:n])
	if !ok {
		return nil, errAttrFull
	}
	return b, 0
}

// attrContent is what __sysfs_read_attr leaves of the bytes one read
// returned: nothing (false) when they fill the buffer, else the string up
// to the first NUL once one trailing '\n' is removed.
func attrContent(b []byte) ([]byte, bool) {
	if len(b) >= attrSize {
		return nil, false
	}
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return b, true
}

// statPath is stat(2) of the NUL-terminated path, symbolic links followed
// (libdaxctl's stat of /dev/<name>); false when it fails.
func statPath(cpath []byte, st *unix.Stat_t) bool {
	for {
		_, _, e := unix.Syscall6(unix.SYS_NEWFSTATAT, atFDCWD, uintptr(unsafe.Pointer(&cpath[0])),
			uintptr(unsafe.Pointer(st)), 0, 0, 0)
		if e != syscall.EINTR {
			return e == 0
		}
	}
}

// dirent is one entry of a directory listing.
type dirent struct {
	name []byte
	ino  uint64
}

// readDir lists the directory at the NUL-terminated path in the order the
// kernel returns the entries (glibc's readdir order, so libndctl's), calling
// fn for each with a name valid only during the call; fn returns false to
// stop. It reports whether the directory could be opened (opendir). Reads
// go through a fixed buffer: a huge directory costs time, not memory.
func readDir(cpath []byte, fn func(e dirent) bool) bool {
	fd, errno := openat(cpath, sysfsOpenFlags|unix.O_DIRECTORY)
	if errno != 0 {
		return false
	}
	defer closeFD(fd)
	var buf [8192]byte
	var nameBuf [nameMax]byte
	for {
		// The raw call keeps buf on the stack (unix.Getdents's slice
		// would move it to the heap: 8 KiB per listing).
		r, _, e := unix.Syscall(unix.SYS_GETDENTS64, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		if e == syscall.EINTR {
			continue
		}
		n := int(r)
		if e != 0 || n <= 0 {
			return true // readdir ends the listing on an error too
		}
		for off := 0; off+19 <= n; {
			reclen := int(buf[off+16]) | int(buf[off+17])<<8
			if reclen == 0 || off+reclen > n {
				return true
			}
			ino := *(*uint64)(unsafe.Pointer(&buf[off]))
			name := buf[off+19 : off+reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			// fn sees a copy: what it is handed escapes, and a name is
			// smaller than the buffer.
			if !fn(dirent{name: nameBuf[:copy(nameBuf[:], name)], ino: ino}) {
				return true
			}
			off += reclen
		}
	}
}
