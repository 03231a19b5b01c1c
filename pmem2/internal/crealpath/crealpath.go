// Package crealpath calls the C library's realpath, so the tests of package
// pmem2 can check that its Device DAX classification resolves sysfs paths
// exactly as glibc does. Only tests import it: package pmem2 itself stays
// free of cgo.
package crealpath

/*
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

static char *call_realpath(const char *path, char *buf, int *err) {
	errno = 0;
	char *r = realpath(path, buf);
	*err = errno;
	return r;
}
*/
import "C"

import (
	"syscall"
	"unsafe"
)

// PathMax is PATH_MAX of the C library.
const PathMax = C.PATH_MAX

// Realpath is realpath(path, buf) into a PATH_MAX buffer, as
// pmem2_get_type_from_stat calls it.
func Realpath(path string) (string, syscall.Errno) {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	buf := (*C.char)(C.malloc(C.PATH_MAX))
	defer C.free(unsafe.Pointer(buf))
	var cerr C.int
	if r := C.call_realpath(cp, buf, &cerr); r == nil {
		return "", syscall.Errno(cerr)
	}
	return C.GoString(buf), 0
}

// RealpathAlloc is realpath(path, NULL), as
// pmem2_device_dax_alignment_from_stat calls it.
func RealpathAlloc(path string) (string, syscall.Errno) {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	var cerr C.int
	r := C.call_realpath(cp, nil, &cerr)
	if r == nil {
		return "", syscall.Errno(cerr)
	}
	defer C.free(unsafe.Pointer(r))
	return C.GoString(r), 0
}
