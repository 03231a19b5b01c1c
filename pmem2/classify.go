package pmem2

import (
	"bytes"
	"syscall"

	"golang.org/x/sys/unix"
)

// classifyCharDev is the character-device half of pmem2_get_type_from_stat
// (called by fn): nil when realpath("<sysfs>/dev/char/M:m/subsystem") ends
// in "/dax".
func classifyCharDev(c Option, rdev uint64, fn string) error {
	var pbuf [pathMax + 64]byte
	p, ok := cstr(charDevPath(pbuf[:0], c.sysfsRoot, rdev, "/subsystem"))
	if !ok {
		return errnoErr(fn, "realpath", str(p), syscall.ENAMETOOLONG)
	}
	var rbuf [pathMax + 1]byte
	n, errno := canonical(p, rbuf[:], c.procFD)
	if errno != 0 {
		return errnoErr(fn, "realpath", str(p), errno)
	}
	if !isDAXSubsystem(rbuf[:n]) {
		return codeErr(fn, "check subsystem", str(p), ErrInvalidFileType,
			"resolves to "+string(rbuf[:n])+", not to a subsystem named dax")
	}
	return nil
}

// isDAXSubsystem is C's test on the resolved path:
// strcmp("dax", strrchr(rpath, '/') + 1) == 0.
func isDAXSubsystem(rpath []byte) bool {
	i := bytes.LastIndexByte(rpath, '/')
	return i >= 0 && string(rpath[i+1:]) == "dax"
}

// canonical resolves the NUL-terminated path the way glibc's realpath into a
// PATH_MAX buffer does, writing the result (no NUL) to out, which must hold
// pathMax+1 bytes. It returns the length or the errno realpath would set.
//
// Method: the kernel resolves the whole path in one openat(O_PATH) (every
// symlink followed: ENOENT for a dangling one, ELOOP past 40 links as glibc,
// ENOTDIR, EACCES …), and readlink("/proc/self/fd/N") reads back the path it
// reached; then close. Three system calls, where realpath makes one
// readlink per component and per link. The kernel's d_path fails with
// ENAMETOOLONG exactly when glibc's PATH_MAX buffer would be too small
// (length+1 > 4096). Without a usable /proc (not mounted, or not
// procfs) a user-space walk resolves like glibc instead (realpathWalk).
func canonical(path, out []byte, procFD string) (int, syscall.Errno) {
	fd, errno := openat(path, unix.O_PATH|unix.O_CLOEXEC)
	if errno != 0 {
		return 0, errno
	}
	var lbuf [128]byte
	link := append(lbuf[:0], procFD...)
	link = append(link, '/')
	link = append(appendUint(link, uint64(fd)), 0)
	n, errno := readlinkat(link, out[:pathMax+1])
	closeFD(fd)
	switch {
	case errno == syscall.ENAMETOOLONG:
		return 0, errno
	case errno == 0 && n > 0 && out[0] == '/':
		if n+1 > pathMax {
			return 0, syscall.ENAMETOOLONG
		}
		return n, 0
	}
	r, errno := realpathWalk(str(path))
	if errno != 0 {
		return 0, errno
	}
	return copy(out, r), 0
}
