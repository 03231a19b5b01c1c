// Package pmem2 is a pure-Go port of the source API of libpmem2 (PMDK):
// pmem2_source_from_fd, pmem2_source_from_anon, pmem2_source_delete,
// pmem2_source_get_fd, pmem2_source_size, pmem2_source_alignment,
// pmem2_source_pread_mcsafe, pmem2_source_pwrite_mcsafe,
// pmem2_source_numa_node, pmem2_source_device_id, pmem2_source_device_usc
// and the reading half of the bad-block API (pmem2_badblock_context_new,
// pmem2_badblock_next, pmem2_badblock_context_delete, as one call). It
// needs no cgo and no libndctl, and returns, for every input, what the C
// function users link today returns: PMDK 1.12.1, which finds a Device
// DAX's size and alignment, and every source's region, DIMMs and bad
// blocks, through libndctl and libdaxctl (ndctl 76.1). It never crashes
// where C does.
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
// # Device DAX size and alignment: what C does
//
// pmem2_source_size calls fstat(fd) (EBADF: PMEM2_E_INVALID_FILE_HANDLE,
// else -errno); for a Device DAX it, like pmem2_source_alignment, then asks
// libndctl (pmem2_region_namespace): for each bus of /sys/class/nd, each
// region of the bus, each namespace of the region — each list in
// directory order, visited last entry first — it reads the namespace's
// holder; when that names an nd_dax of the region, libdaxctl lists the
// nd_dax's devices (entries "daxR.N" of <nd_dax>/dax, then of <nd_dax>)
// and the first device whose /dev/<name> has the descriptor's st_rdev
// ends the search. The result is that nd_dax's size and align, as
// libndctl read them when it listed the nd_dax: one read(2) of at most
// 1024 bytes, one trailing '\n' dropped, then strtoull(buf, NULL, 0) for
// size and strtoul(buf, NULL, 0) for align — no format check: "junk" is 0,
// "-1" is 2^64-1, "2M" is 2, an overflow 2^64-1. A size libndctl could not
// read is 2^64-1 (ULLONG_MAX, returned with code 0); an align it could not
// read is 0. The alignment must be a power of two, else
// PMEM2_E_INVALID_ALIGNMENT_VALUE. On the way libndctl and libdaxctl drop
// every bus, region, namespace, nd_dax and device one of whose required
// attributes cannot be read (listed under "Where the C library crashes"),
// and a device without /dev node. When no device matches, pmem2_region_namespace returns 0 and
// no namespace, and both functions dereference it: SIGSEGV.
//
// For Size and Alignment neither C nor the port reads the attributes the
// kernel makes 0400 (resource, dax_region/align, a device's mapping*): a
// caller without privileges gets the same answers as root. Nothing read is
// cached: every call reads again, as C does.
//
// # What the port reads
//
// Per call, on a Device DAX (after Size's fstat):
//
//  1. readlink("<sysfs>/dev/char/M:m"), the kernel's link from the device
//     number to the device's directory, joined lexically to its directory
//     ("<sysfs>/dev/char/" + target, cleaned);
//  2. nothing, to check the names in that path as libndctl and libdaxctl
//     match them (sscanf): .../regionR/<daxR.M>/[dax/]<daxR.N>;
//  3. stat("<dev>/<daxR.N>"): its st_rdev must be the descriptor's;
//  4. one read of "<device>/size": libdaxctl drops a device it cannot read;
//  5. one read of "<nd_dax>/size" (Size) or "<nd_dax>/align" (Alignment).
//
// "<dev>" is the directory "dev" beside the sysfs root, "<sysfs>/../dev"
// ("/dev" for "/sys"; see WithSysfsRoot). Reads are C's: one read of up to 1024 bytes
// (nothing allocated by file size), and the same parsing.
//
// Why that is C's answer. The kernel builds sysfs and /dev by four rules:
// (K1) sys/dev/char/M:m is a relative link through real directories to the
// device's directory; (K2) one device, one name: device names are unique
// on the dax bus and devtmpfs makes one /dev node per device, so one
// device alone can match the descriptor; (K3) the names libndctl turns
// into numbers are unique in their directory (no namespace0.1 beside
// namespace0.01); (K4) bus/dax/devices and class/dax name each device
// after its region (libdaxctl takes a region's number from there). On any
// tree keeping them, C's search can end only at the device of step 1, so
// C returns that device's nd_dax's size and alignment — step 5 — or
// crashes. Steps 2–4 are what C needs of the device itself; the rest of
// what it needs (below) only decides between that answer and a crash.
//
// When steps 1 to 4 do not lead to a device as libdaxctl finds it (a
// dev/char entry that is a directory, or leads to a copy of the device
// elsewhere, a /dev node that does not match…), the port walks libndctl's
// lists as above, in libndctl's order, reading holders and listing nd_dax
// directories; it drops a bus, region, namespace or nd_dax for its name, a
// bus's dev attribute, a holder or a device, not for the other attributes
// libndctl needs. Where libndctl can read those, what the walk finds is
// C's answer on any tree, K1–K4 or not; finding nothing is a C crash.
// On the one tree the tests build that breaks K2 — two /dev nodes with the
// descriptor's number — C takes the nd_dax of the namespace it visits
// first, the port the one sys/dev/char names.
//
// # Where the C library crashes
//
// The port decides, per case:
//
//   - No device can match: the device is not below an nd_dax of an NVDIMM
//     region (dax_hmem devices, no NVDIMM bus), there is no /dev/<name>
//     with its number, its size cannot be read, or its names are not ones
//     libndctl and libdaxctl list. Size returns PMEM2_E_DAX_REGION_NOT_FOUND
//     (-100026) and Alignment PMEM2_E_INVALID_ALIGNMENT_FORMAT (-100012):
//     the codes of C's own branch for a namespace without nd_dax, which its
//     missing NULL check never lets it reach. The message says what is
//     missing.
//   - The device matches, but libndctl would drop something above it: no
//     namespace's holder names the nd_dax, or an attribute it needs only to
//     list the bus, region, namespace or nd_dax cannot be read (a bus's
//     commands or provider, its class/nd entry or dev; a region's size,
//     mappings, read_only, modalias, nstype, set_cookie; a namespace's
//     nstype, size, force_raw, modalias, alt_name, uuid, sector_size; an
//     nd_dax's modalias, uuid, mode, supported_alignments). Where the
//     device's own link led the port to it, the port returns the nd_dax's
//     size and alignment: what C returns once the file is back, unambiguous
//     since that nd_dax is the only one C could end at (K2). (Through the
//     walk, a missing holder, bus entry or bus dev means no device: the
//     codes above.) Those files say nothing about size or alignment and the
//     kernel makes them world-readable; reading them, as libndctl does,
//     would cost the port C's dozens of reads on every call.
//
// Two more C behaviours are not reproduced. A FIFO in place of an
// attribute blocks C in open(2); the port opens O_NONBLOCK and reads ""
// (a size of 0, an alignment of 0). An attribute of 1024 bytes or more
// fills libndctl's buffer and its read returns -errno with whatever errno
// earlier calls left — a 1 KiB nd_dax size was measured as 0 for root and
// 2^64-1 for uid 65534 —; the port counts it as unreadable.
//
// # NUMA node, device ID, unsafe shutdown count and bad blocks
//
// NumaNode, DeviceID, DeviceUSC and BadBlocks start as C does, with
// pmem2_region_namespace: the region and namespace libndctl finds the
// source in.
//
//   - A Device DAX is found as for Size, but with libndctl's verdict: the
//     port also finds the namespace holding the nd_dax and reads every
//     attribute libndctl needs to list the bus, region, namespace and
//     nd_dax (those of "Where the C library crashes"). Here C does not
//     crash when nothing is found: NumaNode returns
//     PMEM2_E_DAX_REGION_NOT_FOUND, DeviceID and DeviceUSC PMEM2_E_NOSUPP,
//     and BadBlocks no bad blocks and no error, exactly where C does.
//   - A regular file is looked for as libndctl lists the namespaces (the
//     walk above, in its order): each namespace no nd_dax claims names a
//     block device — its btt's if a btt libndctl lists claims it, else its
//     pfn's, else its own: the one entry of <device>/block/ — and
//     "<sysfs>/block/<name>/dev", read once (64 bytes), must hold the
//     file's st_dev "major:minor" and a newline (compared up to a NUL).
//     That read stops the walk, in all four functions, with -errno when
//     the file cannot be opened or read (a namespace whose block device is
//     missing from sys/block: -ENOENT, whatever the file) and with
//     PMEM2_E_INVALID_DEV_FORMAT when it is empty or lacks the newline. A
//     file on a FUSE mount has the mount's anonymous st_dev (0:N), which a
//     tree can give its pmemN.
//
// An anonymous source is PMEM2_E_NOSUPP in all four; a nil or deleted
// Source fails with ErrDeleted, as everywhere.
//
// NumaNode is the region's numa_node as strtol(buf, NULL, 0) reads it,
// kept in an int (low 32 bits); -2 (NUMA_NO_ATTR) when the attribute does
// not exist, -1 (NUMA_NO_NODE) when it cannot be read otherwise (EACCES for
// a 0400 file and an unprivileged caller, EISDIR).
//
// DeviceID and DeviceUSC read the region's DIMMs: mappings
// (strtoul, kept in an int: a count past INT_MAX is negative and names
// none), then mapping0 … mapping<mappings-1>, each "nmem%u,%llu,%llu[,%d]"
// naming a DIMM (fewer than three numbers: skipped); the DIMMs are the
// bus's nmemN entries so named, in the bus's list order (directory order
// reversed; of two entries of one number, the first of that order). A
// DIMM is listed only when dev ("%d:%d"), commands and modalias are
// readable; the rest depends on the bus, decided on its control device
// <sysfs>/class/nd/ndctlK:
//
//   - NFIT (device/nfit/revision readable): the DIMM also needs
//     nfit/handle and nfit/phys_id; its id is nfit/id, its count
//     nfit/dirty_shutdown as strtoll reads it ("junk" is 0, "0x10" 16);
//   - papr (device/of_node/compatible readable): by the DIMM's
//     ../of_node/compatible, "ibm,pmemory" needs papr/flags and counts
//     papr/dirty_shutdown, with no id; "nvdimm_test" is read as NFIT, in
//     papr/; anything else, or none, reads nothing;
//   - CXL: libndctl compares the unresolved path <ctl>/device/../subsys
//     with "/sys/bus/cxl", so a bus is "CXL" exactly when that path does
//     not resolve — an e820 bus, typically — and a DIMM's id is then
//     cxl/id, with no count;
//   - otherwise nothing is read.
//
// DeviceID concatenates the ids ("" without DIMMs); a DIMM without one is
// PMEM2_E_NOSUPP. DeviceUSC adds the counts as unsigned 64-bit numbers (0
// without DIMMs); a negative count, or none read (-ENOENT to libndctl), is
// PMEM2_E_NOSUPP. A region whose mappings is 0, as on an e820 bus, has no
// DIMM and nothing more is read. Counts above 64 are not opened one by
// one: the region's directory is listed once and only the names
// "mapping%d" with N below the count are read (what C's opens find).
//
// BadBlocks is pmem2_badblock_context_new and pmem2_badblock_next until
// PMEM2_E_NO_BAD_BLOCK_FOUND. A namespace whose mode reads "memory"
// (fsdax) takes its block device's list, "<sysfs>/block/<name>/badblocks"
// — none when a btt or an nd_dax claims it —, offsets from the namespace's
// start. Any other takes the region's "badblocks", cut to the namespace
// and moved to its offsets; the namespace's place in the region is the
// resource and size of the pfn or nd_dax claiming it, else its own, as
// libndctl read them when it listed the device (ULLONG_MAX when it could
// not, and for "-1": PMEM2_E_CANNOT_READ_BOUNDS), less the region's
// resource, read now (-errno when it cannot be). The kernel makes every
// resource 0400: an unprivileged caller gets PMEM2_E_CANNOT_READ_BOUNDS
// for a Device DAX (its namespace's mode is "dax") and for a file on a
// raw or sector-mode namespace. A list is read as
// libndctl's iterator reads it: line by line, sscanf(line, "%llu %u") —
// white space and signs as scanf takes them, "-1" a count of 2^32-1 — and
// the first line without both numbers, or a list that cannot be opened,
// ends it. Sectors are 512 bytes; the count is shifted to bytes in 32 bits
// (2^23 sectors are 0 bytes) and ranges wrap as C's unsigned arithmetic
// does (a count of 0 at sector 0 ends at 2^64-1). A regular file then
// needs its extents: fstat (-errno), and FS_IOC_FIEMAP over [0, st_size)
// (-errno: an O_PATH descriptor -EBADF, an empty file -EINVAL, a file
// system without FIEMAP, FUSE among them, -EOPNOTSUPP). Each bad block of
// the device is cut to the first extent it overlaps (the rest is matched
// against the following extents), moved to the file's offset and widened
// to whole blocks of st_blksize; bad blocks in no extent are skipped.
//
// The lists stream through a fixed buffer: any number of lines, of any
// length, costs the bad blocks returned and nothing more. The extents are
// fetched (C's second FIEMAP call) only when a bad block needs them.
//
// Out of scope: clearing bad blocks. pmem2_badblock_clear sends, for a
// Device DAX, ARS_CAP and CLEAR_ERROR commands to the NVDIMM bus through
// ioctls on its control device (/dev/ndctlK), and for a regular file
// punches the range out and allocates it again with fallocate. It is not
// ported.
//
// None of the four crashes on any tree the tests build. Where C returns a
// -errno that earlier calls left (a region resource of 1 KiB or more, or
// reading as ULLONG_MAX) the port returns -ENOENT, and a numa_node of
// 1 KiB or more is NUMA_NO_ATTR: what C was measured to return there, the
// ENOENT of the optional attributes libndctl fails to open on its way.
//
// What the port reads, per call on a Device DAX of one DIMM on an NFIT bus
// (counted with strace; C's counts for the same call beside them): NumaNode
// 21 files opened (C 73), DeviceID and DeviceUSC 30 and a listing of the
// bus (C 102 for each of its two DeviceID calls, and for DeviceUSC),
// BadBlocks 25 (C 81). The lookup is most of it; C lists every bus, region,
// namespace and DIMM and reads every attribute of each.
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
//     for tests and emulation; the device nodes libdaxctl stats move with
//     it.
//   - Where C crashes (SIGSEGV), the port returns the codes or values
//     "Where the C library crashes" lists; where C blocks on a FIFO, it
//     does not; an attribute of 1 KiB or more is unreadable, and where C
//     returns a stale errno the port returns -ENOENT (see "NUMA node,
//     device ID, unsafe shutdown count and bad blocks").
//   - A regular file's extents are fetched when the first bad block needs
//     them, not when the bad-block context is made: where the file's
//     extents change between C's two FIEMAP calls, the codes could differ.
//   - pmem2_badblock_clear is not ported.
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
//     that long is -ENAMETOOLONG in SourceFromFD, and an unreadable file
//     for Size and Alignment; C's snprintf would silently truncate it.
//   - The kernel limits only the resolved path to PATH_MAX, glibc also each
//     intermediate path it builds: a subsystem link that wanders through a
//     path longer than 4095 bytes and back gives ENAMETOOLONG in C but
//     resolves here (the fallback walk behaves as glibc).
package pmem2
