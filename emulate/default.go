package emulate

import (
	"io/fs"
	"os"
	"syscall"

	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// pageSize is the size of a page, which a regular file's alignment is.
var pageSize = os.Getpagesize

// Default is the built-in fixture: every error of the pmem2_source_from_fd
// manual page and every row of libpmem2-behaviour.md, each node with its
// expectation in the four open modes. The expectations are reasoned from
// the documentation (the manual page, libpmem2-behaviour.md, the pmem2
// package's documented choices where C crashes), from the C sources and
// from what the kernel does on a nodev FUSE mount, never from running the
// library: `pmem2emu check` holds pmem2 to them, and the conformance suite
// (integration/conformance) holds pmem2 to the C library on every node.
// The table is generated from Default (go test ./emulate -run
// TestTheDefaultDocTableIsCurrent -update); "12, page" means from_fd 0,
// size 12, alignment the page size; the second table gives, where they
// are expected, what NumaNode, DeviceID, DeviceUSC and BadBlocks return:
//
//	node              declared                                  r                  w                    rw                 path
//	dev/dax0.0        Device DAX 252:0, 1 GiB, align 2 MiB      EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	dev/dax0.1        Device DAX 252:1, 2 GiB, align 1 GiB      EACCES             EACCES               EACCES             2 GiB, 1 GiB
//	dev/dax1.0        Device DAX 252:2, 512 MiB, align 4 KiB,   EACCES             EACCES               EACCES             512 MiB, 4 KiB
//	                  class/dax model, NUMA node 1
//	dev/dax2.0        Device DAX 252:3, 1 GiB, align 2 MiB,     EACCES             EACCES               EACCES             0, 2 MiB
//	                  nd_dax size "one gigabyte\n"
//	dev/dax2.1        Device DAX 252:4, 1 GiB, align 2 MiB,     EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  nd_dax size "1073741824"
//	dev/dax2.2        Device DAX 252:5, 1 GiB, align 2 MiB,     EACCES             EACCES               EACCES             18446744073709551615, 2 MiB
//	                  nd_dax size "18446744073709551616\n"
//	dev/dax2.3        Device DAX 252:6, 1 GiB, align 2 MiB,     EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  nd_dax size "0x40000000\n"
//	dev/dax2.4        Device DAX 252:7, 1 GiB, align 2 MiB,     EACCES             EACCES               EACCES             1 GiB, INVALID_ALIGNMENT_VALUE
//	                  nd_dax align "12345\n"
//	dev/dax2.5        Device DAX 252:8, 1 GiB, align 2 MiB,     EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  nd_dax align "0x200000\n"
//	dev/dax2.6        Device DAX 252:9, 1 GiB, align 2 MiB,     EACCES             EACCES               EACCES             1 GiB, 2
//	                  nd_dax align "2M\n"
//	dev/dax2.7        Device DAX 252:10, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, INVALID_ALIGNMENT_VALUE
//	                  nd_dax align "99999999999999999999\n"
//	dev/dax2.8        Device DAX 252:11, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             18446744073709551615, INVALID_ALIGNMENT_VALUE
//	                  read of dax2.9/size fails EIO, read of
//	                  dax2.9/align fails EIO
//	dev/dax3.0        Device DAX 252:12, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  no dax_region/
//	dev/dax4.0        Device DAX 252:13, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             DAX_REGION_NOT_FOUND, INVALID_ALIGNMENT_FORMAT
//	                  no NVDIMM bus (hmem.4)
//	dev/dax5.0        Device DAX 252:14, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             DAX_REGION_NOT_FOUND, INVALID_ALIGNMENT_FORMAT
//	                  read of dax5.0/size fails EIO
//	dev/dax6.0        Device DAX 252:15, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             INVALID_FILE_TYPE
//	                  dax6.0/subsystem: symlink to
//	                  …/class/mem
//	dev/dax6.1        Device DAX 252:16, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             DAX_REGION_NOT_FOUND, INVALID_ALIGNMENT_FORMAT
//	                  dax6.1/size: directory
//	dev/dax7.0        Device DAX 252:17, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  dax7.0/size: file "4096\n",
//	                  dax_region/size: file "4096\n", mode
//	                  0444, dax_region/align: file "4096\n",
//	                  mode 0400
//	dev/dax8.0        Device DAX 252:18, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  dax8.0/resource: file "junk\n", mode
//	                  0400, dax8.1/resource: file "junk\n",
//	                  mode 0400, namespace8.0/resource: file
//	                  "junk\n", mode 0400, dax_region/align:
//	                  file "junk\n", mode 0400
//	dev/dax9.0        Device DAX 252:19, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  namespace9.0/holder: file "\n", mode
//	                  0444
//	dev/dax20.0       Device DAX 252:20, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  NUMA node 1, DIMMs nmem20, bad blocks
//	                  [4096+4096 524288+512]
//	dev/dax21.0       Device DAX 252:21, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  DIMMs nmem21 nmem22, bad blocks
//	                  [1073737728+4096]
//	dev/dax21.1       Device DAX 252:22, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  DIMMs nmem21 nmem22, bad blocks [0+4096
//	                  1048576+1048576]
//	dev/dax22.0       Device DAX 252:23, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  DIMMs nmem23, nmem23 without id
//	dev/dax23.0       Device DAX 252:24, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  DIMMs nmem24, nfit/dirty_shutdown: file
//	                  "seven\n", mode 0444
//	dev/dax24.0       Device DAX 252:25, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  NUMA node 1, DIMMs nmem25, nmem25
//	                  without dirty_shutdown
//	dev/dax25.0       Device DAX 252:26, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  DIMMs nmem26, region25/mappings: file
//	                  "2\n", mode 0444
//	dev/dax26.0       Device DAX 252:27, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  region26/badblocks: file "8 8\n16 2
//	                  trailing\n 1024 1\nbad line\n2048 1\n",
//	                  mode 0444
//	dev/dax27.0       Device DAX 252:28, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  NUMA node 1, DIMMs nmem27, bad blocks
//	                  [0+512], open of dax27.1/resource fails
//	                  EACCES
//	dev/pmem0         fsdax pmem 259:0, 1 GiB                   EACCES             EACCES               EACCES             INVALID_FILE_TYPE
//	data/empty        empty file                                0, page            INVALID_FILE_HANDLE  0, page            0, page
//	data/small        file "hello, pmem\n"                      12, page           INVALID_FILE_HANDLE  12, page           12, page
//	data/sparse       sparse file of 1 TiB                      1 TiB, page        INVALID_FILE_HANDLE  1 TiB, page        1 TiB, page
//	data/link         symlink to small                          12, page           INVALID_FILE_HANDLE  12, page           12, page
//	data/dir          directory                                 INVALID_FILE_TYPE  EISDIR               EISDIR             INVALID_FILE_TYPE
//	data/fifo         FIFO                                      INVALID_FILE_TYPE  ENXIO                INVALID_FILE_TYPE  INVALID_FILE_TYPE
//	data/socket       socket                                    ENXIO              ENXIO                ENXIO              INVALID_FILE_TYPE
//	dev/sda           block device 8:0, unknown to sysfs        EACCES             EACCES               EACCES             INVALID_FILE_TYPE
//	dev/mem5          char device 1:5, sysfs subsystem mem,     EACCES             EACCES               EACCES             INVALID_FILE_TYPE
//	                  mode 0666
//	dev/experimental  char device 60:0, unknown to sysfs        EACCES             EACCES               EACCES             -ENOENT
//	data/faulty       file "fstat fails\n", getattr fails EIO   -EIO               INVALID_FILE_HANDLE  -EIO               -EIO
//	data/secret       file "root only\n", uid 0, mode 0600      10, page           INVALID_FILE_HANDLE  10, page           10, page
//	                  as a user:                                EACCES             EACCES               EACCES
//	data/ras          file "ras\n"                              4, page            INVALID_FILE_HANDLE  4, page            4, page
//	node         modes      numa_node             device_id                                     usc     badblocks
//	dev/dax20.0  path       1                     "8089-a2-1837-00000abc"                       7       [4096+4096 524288+512]
//	as a user:   path       1                     "8089-a2-1837-00000abc"                       7       CANNOT_READ_BOUNDS
//	dev/dax21.0  path       0                     "8089-a2-1840-000010028089-a2-1840-00001001"  3       [1073737728+4096]
//	as a user:   path       0                     "8089-a2-1840-000010028089-a2-1840-00001001"  3       CANNOT_READ_BOUNDS
//	dev/dax21.1  path       0                     "8089-a2-1840-000010028089-a2-1840-00001001"  3       [0+4096 1048576+262144 1310720+262144 1572864+262144 1835008+262144]
//	as a user:   path       0                     "8089-a2-1840-000010028089-a2-1840-00001001"  3       CANNOT_READ_BOUNDS
//	dev/dax22.0  path       0                     NOSUPP                                        4       []
//	as a user:   path       0                     NOSUPP                                        4       CANNOT_READ_BOUNDS
//	dev/dax23.0  path       0                     "8089-a2-1837-00002004"                       0       []
//	as a user:   path       0                     "8089-a2-1837-00002004"                       0       CANNOT_READ_BOUNDS
//	dev/dax24.0  path       1                     "802c-0f-1911-00002005"                       NOSUPP  []
//	as a user:   path       1                     "802c-0f-1911-00002005"                       NOSUPP  CANNOT_READ_BOUNDS
//	dev/dax25.0  path       0                     "802c-0f-1911-00002006"                       5       []
//	as a user:   path       0                     "802c-0f-1911-00002006"                       5       CANNOT_READ_BOUNDS
//	dev/dax26.0  path       0                     -                                             -       [4096+4096 8192+1024 524288+512]
//	as a user:   path       0                     -                                             -       CANNOT_READ_BOUNDS
//	dev/dax27.0  path       1                     "8089-a2-1837-00000ab7"                       3       CANNOT_READ_BOUNDS
//	data/ras     r rw path  DAX_REGION_NOT_FOUND  NOSUPP                                        NOSUPP  []
//
// Why. Every Device DAX expectation follows the C libpmem2 users link
// today (PMDK 1.12.1 with ndctl 76.1; package pmem2 states the rules),
// traced in PMDK's pmem2_utils_ndctl.c and region_namespace_ndctl.c and
// ndctl's libndctl.c and libdaxctl.c; each device's comment in the code
// names the C path it reaches. Where the C library crashes, pmem2's
// documented choice is expected, and the comment says so.
//
//   - Device nodes (dev/) refuse every open but O_PATH: the mount is
//     nodev, so the kernel fails the open with EACCES (may_open) before
//     FUSE is asked; an O_PATH open opens nothing and is all
//     pmem2_source_from_fd needs.
//   - A Device DAX's size and alignment are its nd_dax's size and align
//     (regionR/daxR.(N+1)/), read once by libndctl (__add_pfn) with one
//     read and a trailing "\n" dropped, then strtoull(…, NULL, 0) and
//     strtoul(…, NULL, 0) without any format check: junk is 0 (dax2.0), a
//     missing "\n" is fine (dax2.1), an overflow is the type's maximum
//     (dax2.2, dax2.7), hex is read (dax2.3, dax2.5), "2M" is 2 (dax2.6),
//     an unreadable size is 2^64-1 and an unreadable align 0 (dax2.8).
//     Size returns any of them with code 0; Alignment must be a power of
//     two, else INVALID_ALIGNMENT_VALUE (dax2.4, dax2.7, dax2.8).
//   - The files PMDK 1.9 read — the device's own size, dax_region/size and
//     dax_region/align — are read by libdaxctl, if at all, into values
//     libpmem2 never returns: missing (dax3.0) or disagreeing (dax7.0)
//     they change nothing. Neither do the files the kernel makes 0400
//     (resource, dax_region/align; dax8.0 fills them with junk), so a
//     caller without privileges gets what root gets.
//   - The C library crashes (SIGSEGV, a NULL namespace dereferenced) when
//     libndctl finds no namespace holding the device: no NVDIMM bus
//     (dax4.0), a device libdaxctl drops because its own size cannot be
//     read (dax5.0: EIO; dax6.1: a directory, EISDIR), a namespace whose
//     holder names no nd_dax (dax9.0). pmem2 returns DAX_REGION_NOT_FOUND
//     and INVALID_ALIGNMENT_FORMAT where no device can match (dax4.0,
//     dax5.0, dax6.1), and the nd_dax's size and align where the device
//     matches and only something above it is missing (dax9.0).
//   - dax6.0: realpath(sys/dev/char/M:m/subsystem) ends in "mem", not
//     "dax", so the device is no Device DAX; the same holds for dev/mem5
//     (manual page: a char device other than Device DAX).
//   - Only character devices can be Device DAX: a block device (dev/pmem0,
//     dev/sda) is an invalid file type (manual page).
//   - dev/experimental has no sys/dev/char/60:0, so realpath fails with
//     ENOENT.
//   - The manual page: an fd opened O_WRONLY is an invalid handle, checked
//     (F_GETFL) before fstat, so for every file type that opens. An O_PATH
//     descriptor has access mode 0 and is accepted; fstat works on it. A
//     regular file's size is st_size and its alignment the page size; open
//     follows a symlink (also with O_PATH), so data/link is data/small.
//   - A directory cannot be opened for writing (EISDIR);
//     O_WRONLY|O_NONBLOCK on a FIFO without a reader fails with ENXIO,
//     O_RDONLY and O_RDWR open at once; opening a socket inode fails with
//     ENXIO. fstat of what opens says directory, FIFO or socket: an invalid
//     file type.
//   - data/faulty: the rule fails GETATTR only, lookup and open succeed,
//     and a node with a rule is never served from the kernel's attribute
//     cache, so the fstat of pmem2_source_from_fd reaches the server and
//     gets EIO.
//   - Ownership: sys/ and dev/ are root's, with the kernel's modes; the
//     data nodes belong to whoever mounts the fixture, so a normal user
//     opens them for writing as root does. data/secret is root's, mode
//     0600: root opens it in every mode; any other user ("as a user" in
//     the table, Expect.AsUser) gets EACCES, but for O_PATH, which needs
//     no permission on the file. So `pmem2emu check` passes as root and
//     as a normal user.
//
// The DIMM-backed devices (regions 20 and up, on the NFIT bus every region
// of the fixture is on) follow libpmem2's numa_ndctl.c, usc_ndctl.c and
// badblocks_ndctl.c over libndctl; each device's comment in the code names
// the C path it reaches:
//
//   - The region's numa_node is the NUMA node; the ids of the region's
//     DIMMs, concatenated in libndctl's DIMM order (the bus directory's,
//     reversed: nmem22 before nmem21 on dax21.*), are the device id; the
//     sum of their dirty_shutdown counts is the unsafe shutdown count.
//   - A DIMM without nfit/id (dax22.0) or without dirty_shutdown (dax24.0)
//     makes the id or the count PMEM2_E_NOSUPP. A malformed count is
//     read by strtoll: "seven" is 0 (dax23.0). A mapping naming a DIMM
//     that is not on the bus is skipped (dax25.0).
//   - Bad blocks are the region's badblocks lines that overlap the
//     device, cut to it (a range across dax21.0 and dax21.1 is split
//     between them) and relative to it; the kernel's lines are at most
//     512 sectors, so 1 MiB is four bad blocks (dax21.1). The list ends at
//     the first line sscanf("%llu %u") cannot read (dax26.0). Placing the
//     device needs its nd_dax's resource, which only root may read:
//     unreadable (dax27.0, and for a normal user every device) it is
//     PMEM2_E_CANNOT_READ_BOUNDS.
//   - data/ras lies on no pmem device: no region, so PMEM2_E_DAX_REGION_NOT_FOUND
//     and PMEM2_E_NOSUPP, and no bad blocks.
//
// Device numbers: Device DAX 252:0…, pmem 259:0, the block device 8:0 and
// the mem device 1:5 look like a real machine's; the mount is nodev, so the
// kernel never opens them (and the fixture cannot be mounted in device
// mode, which allows only harmless memory devices). 60:0 is in the range
// Linux reserves for local experiments.
func Default() *Spec {
	page := uint64(pageSize())
	const (
		gib = 1 << 30
		mib = 1 << 20
		// maxU64 is ULLONG_MAX (and ULONG_MAX on 64-bit Linux).
		maxU64 = 1<<64 - 1
		bus    = "sys/devices/platform/e820_pmem/ndbus0"
	)
	eacces := &Outcome{OpenErrno: syscall.EACCES}
	// daxExpect is a Device DAX's expectation: devices refuse to open on
	// a nodev mount, O_PATH runs the library.
	daxExpect := func(path Outcome) *Expect {
		return &Expect{Path: &path, All: eacces}
	}
	ok := func(size, align uint64) Outcome {
		return Outcome{FromFD: new(pmem2.Code(0)), Size: new(size), Alignment: new(align)}
	}
	alignFails := func(size uint64, rc pmem2.Code) Outcome {
		return Outcome{FromFD: new(pmem2.Code(0)), Size: new(size), AlignmentRC: new(rc)}
	}
	// notFound is pmem2's documented result where no device can match
	// and the C library crashes.
	notFound := Outcome{FromFD: new(pmem2.Code(0)), SizeRC: new(pmem2.ErrDAXRegionNotFound), AlignmentRC: new(pmem2.ErrInvalidAlignmentFormat)}
	fromFD := func(c pmem2.Code) *Outcome { return &Outcome{FromFD: new(c)} }
	// fileExpect is a regular file's expectation of size bytes.
	fileExpect := func(size uint64) *Expect {
		o := ok(size, page)
		return &Expect{W: fromFD(pmem2.ErrInvalidFileHandle), All: &o}
	}
	badType := fromFD(pmem2.ErrInvalidFileType)
	dax := func(name string, size, align uint64, numa int, expect Outcome) DAXDevice {
		return DAXDevice{Name: name, Major: DefaultDAXMajor, Size: size, Align: align, NUMANode: numa, Expect: daxExpect(expect)}
	}
	withSizeRaw := func(d DAXDevice, raw string) DAXDevice { d.SizeRaw = new(raw); return d }
	withAlignRaw := func(d DAXDevice, raw string) DAXDevice { d.AlignRaw = new(raw); return d }
	file := func(path, content string, mode fs.FileMode) Node {
		return Node{Path: path, Type: fusefs.TypeFile, Mode: mode, Content: content}
	}

	// libndctl's __add_pfn reads the nd_dax's attributes: a healthy
	// device's size and align are the declared ones.
	classDev := dax("dax1.0", 512*mib, 4096, 1, ok(512*mib, 4096))
	classDev.Subsystem = "class"
	// libdaxctl's add_dax_region reads dax_region/size and align into the
	// daxctl_region, ignoring a failure; libpmem2 never returns them, so
	// without dax_region/ the nd_dax's values stand.
	noRegionDev := dax("dax3.0", gib, 2*mib, 0, ok(gib, 2*mib))
	noRegionDev.DAXRegion = new(false)
	// No NVDIMM bus (dax_hmem): FOREACH_BUS_REGION_NAMESPACE visits no
	// namespace, pmem2_region_namespace returns 0 with no namespace, and
	// pmem2_device_dax_size and _alignment pass NULL to
	// ndctl_namespace_get_dax: SIGSEGV in both. C crash: pmem2's
	// documented codes.
	noBusDev := dax("dax4.0", gib, 2*mib, 0, notFound)
	noBusDev.NDBus = new(false)

	s := &Spec{
		DAXSubsystem: "bus",
		DAXDevices: []DAXDevice{
			dax("dax0.0", gib, 2*mib, 0, ok(gib, 2*mib)),
			dax("dax0.1", 2*gib, gib, 0, ok(2*gib, gib)),
			classDev,
			// __add_pfn: strtoull("one gigabyte", NULL, 0) of the
			// nd_dax's size is 0, and no format is checked:
			// pmem2_source_size returns 0, size 0.
			withSizeRaw(dax("dax2.0", gib, 2*mib, 0, ok(0, 2*mib)), "one gigabyte\n"),
			// sysfs_read_attr drops a trailing "\n" only when there is
			// one: strtoull("1073741824") is 1 GiB.
			withSizeRaw(dax("dax2.1", gib, 2*mib, 0, ok(gib, 2*mib)), "1073741824"),
			// strtoull overflows to ULLONG_MAX (ERANGE, unchecked):
			// size 2^64-1 with code 0.
			withSizeRaw(dax("dax2.2", gib, 2*mib, 0, ok(maxU64, 2*mib)), "18446744073709551616\n"),
			// strtoull with base 0 reads hex: 1 GiB.
			withSizeRaw(dax("dax2.3", gib, 2*mib, 0, ok(gib, 2*mib)), "0x40000000\n"),
			// strtoul of the nd_dax's align is 12345;
			// pmem2_source_alignment: util_is_pow2 fails →
			// PMEM2_E_INVALID_ALIGNMENT_VALUE.
			withAlignRaw(dax("dax2.4", gib, 2*mib, 0, alignFails(gib, pmem2.ErrInvalidAlignmentValue)), "12345\n"),
			// strtoul with base 0 reads hex: 2 MiB.
			withAlignRaw(dax("dax2.5", gib, 2*mib, 0, ok(gib, 2*mib)), "0x200000\n"),
			// strtoul stops at the "M": 2, a power of two, so the
			// alignment is 2.
			withAlignRaw(dax("dax2.6", gib, 2*mib, 0, ok(gib, 2)), "2M\n"),
			// strtoul overflows to ULONG_MAX, not a power of two →
			// PMEM2_E_INVALID_ALIGNMENT_VALUE.
			withAlignRaw(dax("dax2.7", gib, 2*mib, 0, alignFails(gib, pmem2.ErrInvalidAlignmentValue)), "99999999999999999999\n"),
			// Both reads of __add_pfn fail (faults below): the size is
			// ULLONG_MAX, returned with code 0, the align 0, not a
			// power of two → PMEM2_E_INVALID_ALIGNMENT_VALUE.
			dax("dax2.8", gib, 2*mib, 0, alignFails(maxU64, pmem2.ErrInvalidAlignmentValue)),
			noRegionDev,
			noBusDev,
			// libdaxctl's add_dax_dev cannot read the device's own size
			// (EIO, faults below) and drops the device;
			// daxctl_dev_foreach matches nothing, no namespace is
			// found: SIGSEGV as for dax4.0. C crash: pmem2's
			// documented codes.
			dax("dax5.0", gib, 2*mib, 0, notFound),
			// pmem2_source_from_fd: realpath of the subsystem link ends
			// in "mem" (nodes below) → PMEM2_E_INVALID_FILE_TYPE.
			dax("dax6.0", gib, 2*mib, 0, *badType),
			// add_dax_dev: the device's size is a directory (nodes
			// below), read fails with EISDIR, the device is dropped:
			// SIGSEGV. C crash: pmem2's documented codes.
			dax("dax6.1", gib, 2*mib, 0, notFound),
			// What PMDK 1.9 read disagrees with the nd_dax (nodes
			// below): add_dax_dev reads the device's size (4 KiB) only
			// to keep the device, add_dax_region keeps
			// dax_region/size and align (4 KiB) in the daxctl_region;
			// libpmem2 returns neither: the nd_dax's 1 GiB, 2 MiB.
			dax("dax7.0", gib, 2*mib, 0, ok(gib, 2*mib)),
			// The files the kernel makes 0400 hold junk (nodes below):
			// add_dax_dev's read of the device's resource, __add_pfn's
			// of the nd_dax's, add_namespace's of the namespace's and
			// add_dax_region's of dax_region/align all tolerate
			// failure and feed neither size nor alignment, so root
			// (who reads the junk) and every other user (who cannot
			// read them) get the nd_dax's 1 GiB, 2 MiB.
			dax("dax8.0", gib, 2*mib, 0, ok(gib, 2*mib)),
			// The namespace's holder names no nd_dax (nodes below):
			// ndctl_namespace_get_dax returns NULL, pmem2_region_namespace
			// skips the namespace as no Device DAX and finds nothing:
			// SIGSEGV. C crash: pmem2 follows the device's own link to
			// its nd_dax and returns its size and align, what C returns
			// once the holder is back.
			dax("dax9.0", gib, 2*mib, 0, ok(gib, 2*mib)),
		},
		PmemDevices: []PmemDevice{
			{Name: "pmem0", Major: DefaultPmemMajor, Minor: 0, Size: gib, Expect: &Expect{Path: badType, All: eacces}},
		},
		Nodes: []Node{
			{Path: "data", Type: fusefs.TypeDir, Mode: 0o755},
			{Path: "data/empty", Type: fusefs.TypeFile, Mode: 0o644, Expect: fileExpect(0)},
			{Path: "data/small", Type: fusefs.TypeFile, Mode: 0o644, Content: "hello, pmem\n", Expect: fileExpect(12)},
			{Path: "data/sparse", Type: fusefs.TypeFile, Mode: 0o644, Size: 1 << 40, Expect: fileExpect(1 << 40)},
			{Path: "data/link", Type: fusefs.TypeSymlink, Target: "small", Expect: fileExpect(12)},
			{Path: "data/dir", Type: fusefs.TypeDir, Mode: 0o755, Expect: &Expect{
				W: &Outcome{OpenErrno: syscall.EISDIR}, RW: &Outcome{OpenErrno: syscall.EISDIR}, All: badType}},
			{Path: "data/fifo", Type: fusefs.TypeFIFO, Mode: 0o644, Expect: &Expect{
				W: &Outcome{OpenErrno: syscall.ENXIO}, All: badType}},
			{Path: "data/socket", Type: fusefs.TypeSocket, Mode: 0o755, Expect: &Expect{
				Path: badType, All: &Outcome{OpenErrno: syscall.ENXIO}}},
			{Path: "dev/sda", Type: fusefs.TypeBlockDev, Mode: 0o660, Major: 8, Minor: 0, Expect: &Expect{Path: badType, All: eacces}},
			// Not "dev/zero": under the namespace runner it would shadow the
			// host's working /dev/zero with a nodev node.
			{Path: "dev/mem5", Type: fusefs.TypeCharDev, Mode: 0o666, Major: 1, Minor: 5, Subsystem: "mem", Expect: &Expect{Path: badType, All: eacces}},
			{Path: "dev/experimental", Type: fusefs.TypeCharDev, Mode: 0o660, Major: 60, Minor: 0, Expect: &Expect{
				Path: fromFD(-2), All: eacces}},
			{Path: "data/faulty", Type: fusefs.TypeFile, Mode: 0o644, Content: "fstat fails\n", Expect: &Expect{
				W: fromFD(pmem2.ErrInvalidFileHandle), All: fromFD(-5)}},
			// Root's own file among the user's: the row whose answer
			// depends on who checks.
			{Path: "data/secret", Type: fusefs.TypeFile, Mode: 0o600, UID: new(uint32(0)), GID: new(uint32(0)), Content: "root only\n", Expect: func() *Expect {
				e := fileExpect(10)
				e.AsUser = &Expect{R: eacces, W: eacces, RW: eacces}
				return e
			}()},
			// dax6.0: the subsystem link says mem, so the device is no
			// Device DAX although everything else is in place.
			{Path: bus + "/region6/dax6.1/dax6.0/subsystem", Type: fusefs.TypeSymlink,
				Target: "../../../../../../../class/mem"},
			// dax6.1: a directory where the size attribute should be.
			{Path: bus + "/region6/dax6.2/dax6.1/size", Type: fusefs.TypeDir, Mode: 0o755},
			// dax7.0: the device's own size and dax_region/ (what PMDK
			// 1.9 read) say 4 KiB, in the kernel's modes.
			file(bus+"/region7/dax7.1/dax7.0/size", "4096\n", 0o644),
			file(bus+"/region7/dax7.1/dax_region/size", "4096\n", 0o444),
			file(bus+"/region7/dax7.1/dax_region/align", "4096\n", 0o400),
			// dax8.0: junk in the files only root can read.
			file(bus+"/region8/dax8.1/dax8.0/resource", "junk\n", 0o400),
			file(bus+"/region8/dax8.1/resource", "junk\n", 0o400),
			file(bus+"/region8/namespace8.0/resource", "junk\n", 0o400),
			file(bus+"/region8/dax8.1/dax_region/align", "junk\n", 0o400),
			// dax9.0: the namespace holds nothing, as after the nd_dax
			// let go of it.
			file(bus+"/region9/namespace9.0/holder", "\n", 0o444),
		},
		Faults: []Fault{
			{Path: "data/faulty", Op: fusefs.OpGetattr, Errno: syscall.EIO},
			{Path: bus + "/region2/dax2.9/size", Op: fusefs.OpRead, Errno: syscall.EIO},
			{Path: bus + "/region2/dax2.9/align", Op: fusefs.OpRead, Errno: syscall.EIO},
			{Path: bus + "/region5/dax5.1/dax5.0/size", Op: fusefs.OpRead, Errno: syscall.EIO},
		},
	}
	dimms, ras, rasNodes, rasFaults := rasDefault()
	s.DIMMs = dimms
	s.DAXDevices = append(s.DAXDevices, ras...)
	s.Nodes = append(s.Nodes, rasNodes...)
	s.Faults = append(s.Faults, rasFaults...)
	for i := range s.DAXDevices {
		s.DAXDevices[i].Minor = uint32(i)
	}
	return s
}
