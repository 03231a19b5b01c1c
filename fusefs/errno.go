package fusefs

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// aliases are the errno names the kernel headers give a number beside the
// one x/sys/unix's table, the one errno table there is, knows it by.
var aliases = map[string]syscall.Errno{
	"EWOULDBLOCK": syscall.EAGAIN,
	"EDEADLOCK":   syscall.EDEADLK,
	"ENOTSUP":     syscall.EOPNOTSUPP,
}

// ParseErrno reads an errno by name as the kernel headers spell it ("EIO",
// "ENOTCONN"; case does not matter) or by number ("5").
func ParseErrno(name string) (syscall.Errno, error) {
	upper := strings.ToUpper(name)
	if e, ok := aliases[upper]; ok {
		return e, nil
	}
	for e := syscall.Errno(1); e < 4096 && upper != ""; e++ {
		if unix.ErrnoName(e) == upper {
			return e, nil
		}
	}
	if n, err := strconv.Atoi(name); err == nil && n > 0 && n < 4096 {
		return syscall.Errno(n), nil
	}
	return 0, fmt.Errorf("unknown errno %q (want a name like EIO)", name)
}

// ErrnoName is the name of e as the kernel headers spell it ("EIO"), or its
// number when it has none: every errno name shown above this package.
func ErrnoName(e syscall.Errno) string {
	return cmp.Or(unix.ErrnoName(e), strconv.Itoa(int(e)))
}
