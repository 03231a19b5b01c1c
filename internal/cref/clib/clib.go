// Package clib calls the C libpmem2 (Debian's libpmem2-dev, PMDK 1.12.1)
// in process, through cgo, for benchmarks that compare it with the Go port
// on the same descriptor. It is the one cgo package of the module, kept
// apart so that package pmem2 and everything else build without cgo.
//
// The C library reads sysfs at the compiled-in "/sys", through the mount
// namespace of the calling thread. To point it at an emulated sysfs, call
// it from a goroutine locked to a thread (runtime.LockOSThread) that has
// its own mount namespace with the fake tree bound over /sys.
//
// Building needs gcc and libpmem2-dev (apt-get install -y gcc
// libpmem2-dev); without them the importing test binary does not compile.
package clib

/*
#cgo LDFLAGS: -lpmem2
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <libpmem2.h>

// from_fd_loop runs pmem2_source_from_fd and pmem2_source_delete n times
// on fd, in C, so that the time of a loop is the library's alone and not
// that of n crossings of the cgo boundary. It returns the first non-zero
// code, or 0.
static int
from_fd_loop(int fd, long n)
{
	for (long i = 0; i < n; i++) {
		struct pmem2_source *src;
		int rc = pmem2_source_from_fd(&src, fd);
		if (rc != 0)
			return rc;
		pmem2_source_delete(&src);
	}
	return 0;
}

// realpath_loop resolves path n times with glibc's realpath into a
// PATH_MAX buffer, as pmem2_source_from_fd does, and returns 0 or the
// errno of the first failure.
static int
realpath_loop(const char *path, long n)
{
	char out[PATH_MAX];
	for (long i = 0; i < n; i++) {
		if (realpath(path, out) == NULL)
			return errno;
	}
	return 0;
}

// fcntl_loop and fstat_loop make the two system calls every
// pmem2_source_from_fd starts with, n times, as glibc makes them.
static int
fcntl_loop(int fd, long n)
{
	for (long i = 0; i < n; i++) {
		if (fcntl(fd, F_GETFL) < 0)
			return errno;
	}
	return 0;
}

static int
fstat_loop(int fd, long n)
{
	struct stat st;
	for (long i = 0; i < n; i++) {
		if (fstat(fd, &st) < 0)
			return errno;
	}
	return 0;
}

// value_of makes one source from fd and calls pmem2_source_alignment
// (align set) or pmem2_source_size on it: the code of the first call that
// fails, or 0 and the value in *v.
static int
value_of(int fd, int align, size_t *v)
{
	struct pmem2_source *src;
	int rc = pmem2_source_from_fd(&src, fd);
	if (rc != 0)
		return rc;
	rc = align ? pmem2_source_alignment(src, v) : pmem2_source_size(src, v);
	pmem2_source_delete(&src);
	return rc;
}

// size_align_loop makes one source from fd and calls pmem2_source_size
// and pmem2_source_alignment on it n times: the code of the first call
// that fails, or 0.
static int
size_align_loop(int fd, long n)
{
	struct pmem2_source *src;
	int rc = pmem2_source_from_fd(&src, fd);
	if (rc != 0)
		return rc;
	for (long i = 0; i < n && rc == 0; i++) {
		size_t v;
		rc = pmem2_source_size(src, &v);
		if (rc == 0)
			rc = pmem2_source_alignment(src, &v);
	}
	pmem2_source_delete(&src);
	return rc;
}

// region_call makes one call of what, on src: 0 numa_node, 1 device_id
// (length, then the id), 2 device_usc, 3 the bad-block list (context_new,
// next until PMEM2_E_NO_BAD_BLOCK_FOUND, context_delete). It returns the
// call's code (0 for a list read to its end).
static int
region_call(struct pmem2_source *src, int what)
{
	switch (what) {
	case 0: {
		int node;
		return pmem2_source_numa_node(src, &node);
	}
	case 1: {
		char id[1024];
		size_t len = 0;
		int rc = pmem2_source_device_id(src, NULL, &len);
		if (rc != 0)
			return rc;
		if (len > sizeof(id))
			return PMEM2_E_BUFFER_TOO_SMALL;
		id[0] = '\0';
		return pmem2_source_device_id(src, id, &len);
	}
	case 2: {
		uint64_t usc;
		return pmem2_source_device_usc(src, &usc);
	}
	default: {
		struct pmem2_badblock_context *ctx;
		int rc = pmem2_badblock_context_new(&ctx, src);
		if (rc != 0)
			return rc;
		struct pmem2_badblock bb;
		while ((rc = pmem2_badblock_next(ctx, &bb)) == 0)
			;
		pmem2_badblock_context_delete(&ctx);
		return rc == PMEM2_E_NO_BAD_BLOCK_FOUND ? 0 : rc;
	}
	}
}

// region_loop makes one source from fd and calls region_call(what) on it
// n times: the code of the first call that fails, or 0.
static int
region_loop(int fd, int what, long n)
{
	struct pmem2_source *src;
	int rc = pmem2_source_from_fd(&src, fd);
	if (rc != 0)
		return rc;
	for (long i = 0; i < n && rc == 0; i++)
		rc = region_call(src, what);
	pmem2_source_delete(&src);
	return rc;
}
*/
import "C"

import (
	"syscall"
	"unsafe"
)

// SourceFromFD is pmem2_source_from_fd on fd followed by
// pmem2_source_delete: it returns the code of pmem2_source_from_fd.
func SourceFromFD(fd int) int {
	return int(C.from_fd_loop(C.int(fd), 1))
}

// SourceFromFDLoop calls pmem2_source_from_fd and pmem2_source_delete n
// times on fd inside one cgo call and returns the first non-zero code of
// pmem2_source_from_fd, or 0. A benchmark that calls it once with b.N
// measures the C library without the cost of b.N cgo calls.
func SourceFromFDLoop(fd, n int) int {
	return int(C.from_fd_loop(C.int(fd), C.long(n)))
}

// Size is pmem2_source_size on a source made from fd: the code of the
// first call that fails, or 0 and the size.
func Size(fd int) (int, uint64) {
	var v C.size_t
	rc := C.value_of(C.int(fd), 0, &v)
	return int(rc), uint64(v)
}

// Alignment is pmem2_source_alignment on a source made from fd: the code
// of the first call that fails, or 0 and the alignment.
func Alignment(fd int) (int, uint64) {
	var v C.size_t
	rc := C.value_of(C.int(fd), 1, &v)
	return int(rc), uint64(v)
}

// SizeAlignmentLoop makes one source from fd and calls
// pmem2_source_size and pmem2_source_alignment on it n times inside one
// cgo call: the code of the first call that fails, or 0.
func SizeAlignmentLoop(fd, n int) int {
	return int(C.size_align_loop(C.int(fd), C.long(n)))
}

// RealpathLoop resolves path n times with glibc's realpath(3) into a
// PATH_MAX buffer — the step of pmem2_source_from_fd that classifies a
// character device — inside one cgo call. It returns the errno of the
// first failure, or nil.
func RealpathLoop(path string, n int) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	return errnoOf(C.realpath_loop(cpath, C.long(n)))
}

// FcntlLoop calls fcntl(fd, F_GETFL) n times in C, FstatLoop fstat(fd):
// the two system calls pmem2_source_from_fd makes on every descriptor,
// timed without the Go runtime around them. They return the errno of the
// first failure, or nil.
func FcntlLoop(fd, n int) error { return errnoOf(C.fcntl_loop(C.int(fd), C.long(n))) }

// FstatLoop: see FcntlLoop.
func FstatLoop(fd, n int) error { return errnoOf(C.fstat_loop(C.int(fd), C.long(n))) }

func errnoOf(e C.int) error {
	if e != 0 {
		return syscall.Errno(e)
	}
	return nil
}

// RegionCall names a region function for RegionLoop.
type RegionCall int

// The region functions RegionLoop calls.
const (
	NumaNode  RegionCall = iota // pmem2_source_numa_node
	DeviceID                    // pmem2_source_device_id, for the length then the id
	DeviceUSC                   // pmem2_source_device_usc
	BadBlocks                   // pmem2_badblock_context_new, _next to the end, _context_delete
)

// RegionLoop makes one source from fd and makes call on it n times inside
// one cgo call: the code of the first call that fails, or 0.
func RegionLoop(fd int, call RegionCall, n int) int {
	return int(C.region_loop(C.int(fd), C.int(call), C.long(n)))
}
