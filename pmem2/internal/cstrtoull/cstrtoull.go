// Package cstrtoull calls the C library's strtoull and strtoll, so the
// tests of package pmem2 can compare its pure-Go ports with the real
// thing. Only tests import it: package pmem2 itself stays free of cgo.
package cstrtoull

/*
#include <errno.h>
#include <stdlib.h>

static unsigned long long call_strtoull(const char *s, int base, long *end, int *err) {
	char *endp;
	errno = 0;
	unsigned long long v = strtoull(s, &endp, base);
	*err = errno;
	*end = endp - s;
	return v;
}
*/
import "C"

import "syscall"

// Strtoull runs strtoull(s, &end, base) on s followed by a NUL byte (bytes
// after an embedded NUL are invisible to C, as in a NUL-terminated buffer).
// It returns the value, end as an offset from the start of s, and errno as
// the call left it (0, ERANGE or EINVAL).
func Strtoull(s []byte, base int) (v uint64, end int, errno syscall.Errno) {
	cs := C.CBytes(append(append([]byte(nil), s...), 0))
	defer C.free(cs)
	var cend C.long
	var cerr C.int
	r := C.call_strtoull((*C.char)(cs), C.int(base), &cend, &cerr)
	return uint64(r), int(cend), syscall.Errno(cerr)
}

// Strtoll is strtoll(s, NULL, base) on s followed by a NUL byte.
func Strtoll(s []byte, base int) int64 {
	cs := C.CBytes(append(append([]byte(nil), s...), 0))
	defer C.free(cs)
	return int64(C.strtoll((*C.char)(cs), nil, C.int(base)))
}
