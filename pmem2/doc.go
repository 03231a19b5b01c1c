// Package pmem2 is a pure-Go port of the source API of libpmem2 (PMDK):
// pmem2_source_from_fd, pmem2_source_from_anon, pmem2_source_delete,
// pmem2_source_get_fd, pmem2_source_size, pmem2_source_alignment,
// pmem2_source_pread_mcsafe and pmem2_source_pwrite_mcsafe. It needs no cgo
// and no libndctl, and returns, for every input, the code the C function
// returns (PMDK 1.12.1 codes, PMDK 1.9 sysfs rules for Device DAX).
//
// # Classification
//
// SourceFromFD checks, in C's order: fd < 0; fcntl(F_GETFL) (EBADF is
// PMEM2_E_INVALID_FILE_HANDLE, another failure -errno); access mode
// O_WRONLY (PMEM2_E_INVALID_FILE_HANDLE; O_PATH has access mode 0 and is
// accepted, as in C); fstat (EBADF: PMEM2_E_INVALID_FILE_HANDLE, else
// -errno); then the file type: regular file → FileTypeRegular; directory,
// FIFO, socket, block device, symlink → PMEM2_E_INVALID_FILE_TYPE; a
// character device is Device DAX when realpath of
// "<sysfs>/dev/char/MAJOR:MINOR/subsystem" ends in the component "dax"
// (PMEM2_E_INVALID_FILE_TYPE otherwise, -errno when it does not resolve:
// -ENOENT, -ELOOP, -ENOTDIR, -EACCES, -ENAMETOOLONG …).
//
// The port gives realpath's answer in three system calls instead of one
// readlink per component and link: openat(path, O_PATH|O_CLOEXEC) lets the
// kernel resolve every symlink (with realpath's errors, ELOOP after 40
// links as glibc), readlink("/proc/self/fd/N") reads back the canonical
// path, close. The kernel fails that readlink with ENAMETOOLONG exactly
// when the result would not fit glibc's PATH_MAX buffer (length+1 > 4096).
// When /proc is not usable (not mounted, not procfs), a user-space walk
// that follows glibc 2.36's realpath step by step takes over. The tests
// hold both against glibc's realpath on every broken tree they build (one
// pathological exception, listed at the end).
//
// # Device DAX size and alignment
//
// Nothing read from sysfs is cached: each call reads it again, as C does.
// The device number is the st_rdev seen by SourceFromFD.
//
// Size calls fstat(fd) first (EBADF: PMEM2_E_INVALID_FILE_HANDLE, else
// -errno), then reads "<sysfs>/dev/char/M:m/size" with one read of at most
// 64 bytes and parses it as C's strtoull(buf, &end, 0): leading white space,
// an optional sign ('-' negates modulo 2^64), "0x" hex, leading-0 octal. No
// digits, or anything but '\n' right after them, is
// PMEM2_E_INVALID_SIZE_FORMAT; overflow is -ERANGE; a failing open or read
// is -errno. Then the device must sit in a dax region (below).
//
// Alignment resolves "<sysfs>/dev/char/M:m" to its real directory (three
// system calls as above; -errno on failure), strips one component at a
// time and tries "<dir>/dax_region/align", until the path equals
// "<canonical sysfs root>/devices" (C: "/sys/devices") or is empty. As in
// C, "<sysfs>/devices/dax_region/align" is still tried, a file that cannot
// be opened sends the walk upwards whatever the reason, and a device
// directory outside "<sysfs>/devices" is walked up to "/dax_region/align".
// The first file opened is read once (64 bytes; a failing read is -errno)
// and parsed as decimal, then, when that is not a power of two, as hex (how
// kernels before 4.9 printed it); each parse requires the '\n'
// (PMEM2_E_INVALID_ALIGNMENT_FORMAT) and fails with -ERANGE on overflow. No
// file found leaves the alignment 0. A result that is not a power of two,
// 0 included, is PMEM2_E_INVALID_ALIGNMENT_VALUE. Regular files and
// anonymous sources have the page size.
//
// Reads never block and never allocate by the file's size. Sysfs files are
// opened O_RDONLY|O_NONBLOCK and read once into 64 bytes: a FIFO reads as
// "" (a format error; -EAGAIN if a writer holds it open), a directory fails
// with -EISDIR (-21), a device node such as /dev/zero yields NUL bytes (a
// format error), a 1 GiB file is read 64 bytes deep (a format error unless
// those hold a number and its '\n').
//
// # Reading and writing
//
// ReadAt and WriteAt are pread_mcsafe and pwrite_mcsafe: an anonymous
// source is PMEM2_E_SOURCE_TYPE_NOT_SUPPORTED; Size's error is returned as
// is; len(p) > size-off computed in unsigned 64-bit arithmetic, like C's
// size_t, is PMEM2_E_LENGTH_OUT_OF_RANGE (so an offset beyond the size
// wraps and passes, as in C). A regular file goes through pread/pwrite (EIO
// is PMEM2_E_IO_FAIL, other failures -errno). A Device DAX goes through a
// MAP_SHARED, PROT_READ|PROT_WRITE mapping from offset 0 to the end of the
// range rounded up to Alignment, as pmem2_map_new's default config maps it
// — for reads too, so an O_RDONLY descriptor gets mmap's EACCES, which is
// PMEM2_E_NO_ACCESS as in C; other mmap failures are -errno — and the
// copy runs under debug.SetPanicOnFault so that a SIGBUS from a bad block
// is PMEM2_E_IO_FAIL.
//
// # Errors
//
// Every failure is an *Error. Its Code is what the C function returns and
// CodeOf(err) reads it; errors.Is(err, pmem2.ErrInvalidFileType) matches
// the code, and an error from a system call also matches its
// syscall.Errno (errors.Is(err, syscall.ENOENT)). The message names the
// libpmem2 function, the failing step, the sysfs path where there is one
// and what was found there.
//
// C's -ENOMEM for a failed allocation cannot happen: the Go runtime aborts
// the program when memory runs out. ENOMEM from a system call (mmap) is
// -12 like any other errno.
//
// # Lifetime and concurrency
//
// A Source records the descriptor number, never duplicating or closing
// it: like C, it describes whatever file the number refers to when a
// method runs. Delete is idempotent and accepts a nil *Source. A nil or
// deleted Source reports FileTypeUnknown, and its other methods return an
// *Error with Code PMEM2_E_INVALID_FILE_HANDLE wrapping ErrDeleted; none
// panics. A Source is safe for concurrent use: methods share a read lock,
// Delete takes the write lock.
//
// # Where the port differs from C, and why
//
//   - Sysfs is read under WithSysfsRoot (default "/sys"), the only seam
//     for tests and emulation.
//   - The C library of today (1.12) gets a Device DAX's size and alignment
//     from libndctl and crashes (SIGSEGV) when the device is not in an
//     NVDIMM region. The port uses PMDK 1.9's sysfs rules instead and
//     returns errors: Size fails with PMEM2_E_DAX_REGION_NOT_FOUND
//     (-100026) when the alignment walk finds no openable
//     dax_region/align, and Alignment then fails with
//     PMEM2_E_INVALID_ALIGNMENT_VALUE (-100013), its value being 0.
//   - Sysfs files are opened O_NONBLOCK: C would hang on a FIFO.
//   - Short transfers are continued until p is done or a transfer returns
//     0 (C ignores them; the code is the same). n reports the bytes moved;
//     unlike io.ReaderAt, n < len(p) with a nil error happens at end of
//     file, where C returns 0.
//   - A Device DAX is mapped from offset 0 up to the end of the range, not
//     up to its size: where C's unsigned check lets an offset beyond the
//     size through and C would then touch memory outside its mapping, the
//     port gets -errno from mmap (-EOVERFLOW when the range would wrap
//     around 2^64) or, on a device that allows it, the bytes at that
//     offset. Never a crash.
//   - EINTR is retried, as in Go's os package: the Go runtime signals its
//     own threads (preemption), which a C program never sees.
//   - A sysfs path that would not fit PATH_MAX because the sysfs root is
//     that long is -ENAMETOOLONG; C's snprintf would silently truncate it.
//   - C copies the alignment walk's realpath result with util_safe_strcpy
//     and would fail with -EINVAL past PATH_MAX; glibc's realpath already
//     fails with -ENAMETOOLONG there, and so does the port.
//   - The kernel limits only the resolved path to PATH_MAX, glibc also each
//     intermediate path it builds: a subsystem link that wanders through a
//     path longer than 4095 bytes and back gives ENAMETOOLONG in C but
//     resolves here (the fallback walk behaves as glibc).
package pmem2
