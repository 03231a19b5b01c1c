package pmem2

import (
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// sysfsOpenFlags opens sysfs attributes. O_NONBLOCK because the port must
// never hang where a FIFO stands in for an attribute (C opens with O_RDONLY
// alone and would block until a writer appears); reading such a FIFO then
// yields "" (a format error) or EAGAIN when a writer holds it open.
const sysfsOpenFlags = unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC

// readAttr is C's open + one read(fd, buf, MAX_SIZE_LENGTH) + close of a
// sysfs attribute: never more than len(buf) bytes, however large the file.
func readAttr(fn string, cpath, buf []byte) (int, error) {
	fd, errno := openat(cpath, sysfsOpenFlags)
	if errno != 0 {
		return 0, errnoErr(fn, "open", str(cpath), errno)
	}
	return readOnce(fn, fd, cpath, buf)
}

// readOnce reads once from fd, which it closes.
func readOnce(fn string, fd int, cpath, buf []byte) (int, error) {
	n, errno := read(fd, buf)
	closeFD(fd)
	if errno != 0 {
		return 0, errnoErr(fn, "read", str(cpath), errno)
	}
	return n, nil
}

// devDAXSize is pmem2_device_dax_size_from_stat of PMDK 1.9, then the
// region check libpmem2 1.12 implies: the C library of today finds a Device
// DAX's size through libndctl and crashes (SIGSEGV) when the device is not in
// a dax region, so the port requires one and fails with
// PMEM2_E_DAX_REGION_NOT_FOUND instead.
func (s *Source) devDAXSize() (uint64, error) {
	var pbuf [pathMax + 64]byte
	p, ok := cstr(charDevPath(pbuf[:0], s.sysfsRoot, s.rdev, "/size"))
	if !ok {
		return 0, errnoErr(fnSize, "open", str(p), syscall.ENAMETOOLONG)
	}
	var buf [maxSizeLength + 1]byte
	n, err := readAttr(fnSize, p, buf[:maxSizeLength])
	if err != nil {
		return 0, err
	}
	size, code := parseSize(buf[:n])
	if code != 0 {
		e := codeErr(fnSize, "parse", str(p), code, contentDetail(buf[:n]))
		if code < 0 && code > -4096 {
			e.Err = syscall.Errno(-code)
		}
		return 0, e
	}
	var w regionWalk
	fd, err := w.open(fnSize, s)
	if err != nil {
		return 0, err
	}
	if fd < 0 {
		return 0, codeErr(fnSize, "find dax region", str(w.dev()), ErrDAXRegionNotFound,
			"no dax_region/align in the parents of the device's directory")
	}
	closeFD(fd)
	return size, nil
}

// contentDetail quotes what a sysfs read returned, for an error message.
func contentDetail(b []byte) string {
	return "content " + strconv.Quote(string(b))
}
