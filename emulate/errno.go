package emulate

import (
	"syscall"

	"github.com/pmem2emu/pmem2emu/fusefs"
)

// parseErrno reads an errno name exactly as the kernel headers spell it
// ("EIO"). A spec accepts nothing looser than that canonical name — not
// the numbers, lower case or aliases fusefs.ParseErrno also takes.
func parseErrno(name string) (syscall.Errno, bool) {
	e, err := fusefs.ParseErrno(name)
	return e, err == nil && fusefs.ErrnoName(e) == name
}
