package pmem2

import (
	"bytes"
	"syscall"
)

// devDAXAlignment is pmem2_device_dax_alignment_from_stat of PMDK 1.9
// followed by pmem2_source_alignment's power-of-two check.
func (s *Source) devDAXAlignment() (uint64, error) {
	var w regionWalk
	fd, err := w.open(fnAlignment, s)
	if err != nil {
		return 0, err
	}
	var align uint64
	where := w.dev()
	if fd >= 0 {
		where = w.alignPath()
		var buf [maxSizeLength + 1]byte
		n, err := readOnce(fnAlignment, fd, where, buf[:maxSizeLength])
		if err != nil {
			return 0, err
		}
		v, code := parseAlignment(buf[:n])
		if code != 0 {
			e := codeErr(fnAlignment, "parse", str(where), code, contentDetail(buf[:n]))
			if code < 0 && code > -4096 {
				e.Err = syscall.Errno(-code)
			}
			return 0, e
		}
		align = v
	}
	if align == 0 || align&(align-1) != 0 {
		detail := "alignment " + string(appendUint(nil, align)) + " is not a power of two"
		if fd < 0 {
			detail = "no dax_region/align in the parents of the device's directory, so the alignment is 0"
		}
		return 0, codeErr(fnAlignment, "check alignment", str(where), ErrInvalidAlignmentValue, detail)
	}
	return align, nil
}

// regionWalk finds a Device DAX's dax_region/align as PMDK 1.9 did:
// resolve "<sysfs>/dev/char/M:m" to its real directory, then strip one
// component at a time and try "<dir>/dax_region/align", until the path is
// "<canonical sysfs>/devices" (C: "/sys/devices") or empty. A file that
// cannot be opened, for any reason, sends the walk one level up. Like C, the
// walk still tries "<sysfs>/devices/dax_region/align" before stopping, and
// a device whose directory is not below "<sysfs>/devices" is walked up to
// "/dax_region/align".
type regionWalk struct {
	devBuf [pathMax + 64]byte // "<sysfs>/dev/char/M:m", NUL-terminated
	devN   int                // its length, NUL included
	path   [pathMax + 32]byte
	n      int // length of the align path in path, once found
}

// dev is the NUL-terminated "<sysfs>/dev/char/M:m". (Lengths rather than
// slices are kept, so that w does not point into itself and can stay on
// the stack.)
func (w *regionWalk) dev() []byte { return w.devBuf[:w.devN] }

// open returns a descriptor of the first dax_region/align found, or -1.
func (w *regionWalk) open(fn string, s *Source) (int, error) {
	p, ok := cstr(charDevPath(w.devBuf[:0], s.sysfsRoot, s.rdev, ""))
	if !ok {
		return -1, errnoErr(fn, "realpath", str(p), syscall.ENAMETOOLONG)
	}
	w.devN = len(p)
	n, errno := canonical(p, w.path[:], s.procFD)
	if errno != 0 {
		return -1, errnoErr(fn, "realpath", str(p), errno)
	}
	if n+1 > pathMax {
		// C copies realpath's result into a PATH_MAX buffer with
		// util_safe_strcpy and fails with -EINVAL. Unreachable in practice:
		// realpath itself fails with ENAMETOOLONG first, as canonical does.
		return -1, errnoErr(fn, "util_safe_strcpy", str(p), syscall.EINVAL)
	}
	var stopBuf [pathMax + 16]byte
	stop := devicesDir(stopBuf[:], s)
	sp := w.path[:n]
	for len(sp) > 0 {
		if bytes.Equal(sp, stop) {
			break
		}
		i := bytes.LastIndexByte(sp, '/')
		if i < 0 {
			break
		}
		sp = sp[:i]
		q := append(sp, "/dax_region/align"...)
		if len(q) > pathMax-1 {
			q = q[:pathMax-1] // C's snprintf into spath[PATH_MAX] truncates
		}
		q = append(q, 0)
		if fd, errno := openat(q, sysfsOpenFlags); errno == 0 {
			w.n = len(q) - 1
			return fd, nil
		}
	}
	return -1, nil
}

// alignPath is the NUL-terminated path of the dax_region/align found.
func (w *regionWalk) alignPath() []byte { return w.path[:w.n+1] }

// devicesDir is where the walk stops: "<canonical sysfs root>/devices",
// "/sys/devices" by default. Should the root not resolve (it did a moment
// ago, for the device), it is taken as given.
func devicesDir(buf []byte, s *Source) []byte {
	var rbuf [pathMax + 64]byte
	root := append(rbuf[:0], s.sysfsRoot...)
	n := 0
	if croot, ok := cstr(root); ok {
		if m, errno := canonical(croot, buf, s.procFD); errno == 0 {
			n = m
		}
	}
	d := buf[:n]
	if n == 0 {
		d = append(d, s.sysfsRoot...)
	}
	if len(d) > 0 && d[len(d)-1] == '/' {
		d = d[:len(d)-1]
	}
	return append(d, "/devices"...)
}
