package pmem2

import (
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// errnoName is "ENOENT" for syscall.ENOENT, "" when the errno has no name.
func errnoName(e syscall.Errno) string { return unix.ErrnoName(e) }

var errnoByName = sync.OnceValue(func() map[string]syscall.Errno {
	m := make(map[string]syscall.Errno)
	for e := syscall.Errno(1); e < 4096; e++ {
		if n := unix.ErrnoName(e); n != "" {
			m[n] = e
		}
	}
	return m
})

// errnoValue is the errno named name ("EIO"), 0 when there is none.
func errnoValue(name string) syscall.Errno { return errnoByName()[name] }
