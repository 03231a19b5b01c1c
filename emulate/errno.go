package emulate

import (
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

var errnoByName = sync.OnceValue(func() map[string]syscall.Errno {
	m := make(map[string]syscall.Errno)
	for e := syscall.Errno(1); e < 4096; e++ {
		if n := unix.ErrnoName(e); n != "" {
			m[n] = e
		}
	}
	return m
})

// parseErrno reads an errno name as the kernel headers spell it ("EIO").
func parseErrno(name string) (syscall.Errno, bool) {
	e, ok := errnoByName()[name]
	return e, ok
}
