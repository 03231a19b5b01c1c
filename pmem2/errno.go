package pmem2

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// errnoValue is the errno named name ("EIO"), 0 when there is none.
// x/sys/unix holds the one errno table there is: unix.ErrnoName reads it
// one way (Code.Name), this reads it the other, rarely enough (ParseCode)
// to need no map of its own.
func errnoValue(name string) syscall.Errno {
	for e := syscall.Errno(1); e < 4096 && name != ""; e++ {
		if unix.ErrnoName(e) == name {
			return e
		}
	}
	return 0
}
