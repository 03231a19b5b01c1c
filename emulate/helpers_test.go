package emulate_test

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// observe opens path in mode and runs pmem2 on the descriptor, as
// `pmem2emu check` does.
func observe(path, sysfs string, mode emulate.OpenMode) emulate.Result {
	flags, err := mode.Flags()
	if err != nil {
		panic(err)
	}
	fd, err := unix.Open(path, flags, 0)
	if err != nil {
		var errno syscall.Errno
		if !errors.As(err, &errno) {
			errno = syscall.EINVAL
		}
		return emulate.Result{OpenErrno: errno}
	}
	defer unix.Close(fd)
	var r emulate.Result
	src, err := pmem2.SourceFromFD(fd, pmem2.WithSysfsRoot(sysfs))
	r.FromFD = pmem2.Code(pmem2.CodeOf(err))
	if err != nil {
		return r
	}
	defer src.Delete()
	r.Size, err = src.Size()
	r.SizeRC = pmem2.Code(pmem2.CodeOf(err))
	r.Alignment, err = src.Alignment()
	r.AlignmentRC = pmem2.Code(pmem2.CodeOf(err))
	return r
}
