package fusefs

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// errnoByName maps every errno name the kernel headers define to its value,
// plus the aliases that share a number with another name.
var errnoByName = sync.OnceValue(func() map[string]syscall.Errno {
	m := map[string]syscall.Errno{
		"EWOULDBLOCK": syscall.EAGAIN,
		"EDEADLOCK":   syscall.EDEADLK,
		"ENOTSUP":     syscall.EOPNOTSUPP,
	}
	for e := syscall.Errno(1); e < 4096; e++ {
		if n := unix.ErrnoName(e); n != "" {
			m[n] = e
		}
	}
	return m
})

// ParseErrno reads an errno by name as the kernel headers spell it ("EIO",
// "ENOTCONN"; case does not matter) or by number ("5").
func ParseErrno(name string) (syscall.Errno, error) {
	if e, ok := errnoByName()[strings.ToUpper(name)]; ok {
		return e, nil
	}
	if n, err := strconv.Atoi(name); err == nil && n > 0 && n < 4096 {
		return syscall.Errno(n), nil
	}
	return 0, fmt.Errorf("unknown errno %q (want a name like EIO)", name)
}

// ErrnoName is the name of e as the kernel headers spell it ("EIO"), or its
// number when it has none.
func ErrnoName(e syscall.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return strconv.Itoa(int(e))
}
