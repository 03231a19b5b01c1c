package emulate

import (
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
// package's documented choices where C crashes) and from what the kernel
// does on a nodev FUSE mount, never from running the library. The table is
// generated from Default (go test ./emulate -run
// TestTheDefaultDocTableIsCurrent -update); "12, page" means from_fd 0,
// size 12, alignment the page size; the second table gives, where they
// are expected, what NumaNode, DeviceID, DeviceUSC and BadBlocks return:
//
//	node              declared                                  r                  w                    rw                 path
//	dev/dax0.0        Device DAX 252:0, 1 GiB, align 2 MiB      EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	dev/dax0.1        Device DAX 252:1, 2 GiB, align 1 GiB      EACCES             EACCES               EACCES             2 GiB, 1 GiB
//	dev/dax1.0        Device DAX 252:2, 512 MiB, align 4 KiB,   EACCES             EACCES               EACCES             512 MiB, 4 KiB
//	                  class/dax model, NUMA node 1
//	dev/dax2.0        Device DAX 252:3, 1 GiB, align 2 MiB,     EACCES             EACCES               EACCES             INVALID_SIZE_FORMAT, 2 MiB
//	                  size "one gigabyte\n"
//	dev/dax2.1        Device DAX 252:4, 1 GiB, align 2 MiB,     EACCES             EACCES               EACCES             INVALID_SIZE_FORMAT, 2 MiB
//	                  size "1073741824"
//	dev/dax2.2        Device DAX 252:5, 1 GiB, align 2 MiB,     EACCES             EACCES               EACCES             -ERANGE, 2 MiB
//	                  size "18446744073709551616\n"
//	dev/dax2.3        Device DAX 252:6, 1 GiB, align 2 MiB,     EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  size "0x40000000\n"
//	dev/dax2.4        Device DAX 252:7, 1 GiB, align 2 MiB,     EACCES             EACCES               EACCES             1 GiB, INVALID_ALIGNMENT_VALUE
//	                  align "12345\n"
//	dev/dax2.5        Device DAX 252:8, 1 GiB, align 2 MiB,     EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  align "200000\n"
//	dev/dax2.6        Device DAX 252:9, 1 GiB, align 2 MiB,     EACCES             EACCES               EACCES             1 GiB, INVALID_ALIGNMENT_FORMAT
//	                  align "2M\n"
//	dev/dax2.7        Device DAX 252:10, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, -ERANGE
//	                  align "99999999999999999999\n"
//	dev/dax3.0        Device DAX 252:11, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             DAX_REGION_NOT_FOUND, INVALID_ALIGNMENT_VALUE
//	                  no dax_region/
//	dev/dax4.0        Device DAX 252:12, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             DAX_REGION_NOT_FOUND, INVALID_ALIGNMENT_VALUE
//	                  no NVDIMM bus (hmem.4)
//	dev/dax5.0        Device DAX 252:13, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             -EIO, 2 MiB
//	                  read of size fails EIO
//	dev/dax6.0        Device DAX 252:14, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             INVALID_FILE_TYPE
//	                  subsystem: symlink to …/class/mem
//	dev/dax6.1        Device DAX 252:15, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             -EISDIR, 2 MiB
//	                  size: directory
//	dev/dax20.0       Device DAX 252:16, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  NUMA node 1, DIMMs nmem20, bad blocks
//	                  [4096+4096 524288+512]
//	dev/dax21.0       Device DAX 252:17, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  DIMMs nmem21 nmem22, bad blocks
//	                  [1073737728+4096]
//	dev/dax21.1       Device DAX 252:18, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  DIMMs nmem21 nmem22, bad blocks [0+4096
//	                  1048576+1048576]
//	dev/dax22.0       Device DAX 252:19, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  DIMMs nmem23, nmem23 without id
//	dev/dax23.0       Device DAX 252:20, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  DIMMs nmem24, dirty_shutdown: file
//	                  "seven\n"
//	dev/dax24.0       Device DAX 252:21, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  NUMA node 1, DIMMs nmem25, nmem25
//	                  without dirty_shutdown
//	dev/dax25.0       Device DAX 252:22, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  DIMMs nmem26, mappings: file "2\n"
//	dev/dax26.0       Device DAX 252:23, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  badblocks: file "8 8\n16 2 trailing\n
//	                  1024 1\nbad line\n2048 1\n"
//	dev/dax27.0       Device DAX 252:24, 1 GiB, align 2 MiB,    EACCES             EACCES               EACCES             1 GiB, 2 MiB
//	                  NUMA node 1, DIMMs nmem27, bad blocks
//	                  [0+512], open of resource fails EACCES
//	dev/pmem0         fsdax pmem 259:0, 1 GiB                   EACCES             EACCES               EACCES             INVALID_FILE_TYPE
//	data/empty        empty file                                0, page            INVALID_FILE_HANDLE  0, page            0, page
//	data/small        file "hello, pmem\n"                      12, page           INVALID_FILE_HANDLE  12, page           12, page
//	data/sparse       sparse file of 1 TiB                      1 TiB, page        INVALID_FILE_HANDLE  1 TiB, page        1 TiB, page
//	data/link         symlink to small                          12, page           INVALID_FILE_HANDLE  12, page           12, page
//	data/dir          directory                                 INVALID_FILE_TYPE  EISDIR               EISDIR             INVALID_FILE_TYPE
//	data/fifo         FIFO                                      INVALID_FILE_TYPE  ENXIO                INVALID_FILE_TYPE  INVALID_FILE_TYPE
//	data/socket       socket                                    ENXIO              ENXIO                ENXIO              INVALID_FILE_TYPE
//	dev/sda           block device 8:0, unknown to sysfs        EACCES             EACCES               EACCES             INVALID_FILE_TYPE
//	dev/mem5          char device 1:5, sysfs subsystem mem      EACCES             EACCES               EACCES             INVALID_FILE_TYPE
//	dev/experimental  char device 60:0, unknown to sysfs        EACCES             EACCES               EACCES             -ENOENT
//	data/faulty       file "fstat fails\n", getattr fails EIO   -EIO               INVALID_FILE_HANDLE  -EIO               -EIO
//	data/ras          file "ras\n"                              4, page            INVALID_FILE_HANDLE  4, page            4, page
//	node         modes      numa_node             device_id                                     usc     badblocks
//	dev/dax20.0  path       1                     "8089-a2-1837-00000abc"                       7       [4096+4096 524288+512]
//	dev/dax21.0  path       0                     "8089-a2-1840-000010028089-a2-1840-00001001"  3       [1073737728+4096]
//	dev/dax21.1  path       0                     "8089-a2-1840-000010028089-a2-1840-00001001"  3       [0+4096 1048576+262144 1310720+262144 1572864+262144 1835008+262144]
//	dev/dax22.0  path       0                     NOSUPP                                        4       []
//	dev/dax23.0  path       0                     "8089-a2-1837-00002004"                       0       []
//	dev/dax24.0  path       1                     "802c-0f-1911-00002005"                       NOSUPP  []
//	dev/dax25.0  path       0                     "802c-0f-1911-00002006"                       5       []
//	dev/dax26.0  path       0                     -                                             -       [4096+4096 8192+1024 524288+512]
//	dev/dax27.0  path       1                     "8089-a2-1837-00000ab7"                       3       CANNOT_READ_BOUNDS
//	data/ras     r rw path  DAX_REGION_NOT_FOUND  NOSUPP                                        NOSUPP  []
//
// Why:
//
//   - Device nodes (dev/) refuse every open but O_PATH: the mount is
//     nodev, so the kernel fails the open with EACCES (may_open) before
//     FUSE is asked; an O_PATH open opens nothing and is all
//     pmem2_source_from_fd needs.
//   - A Device DAX's size is sys/dev/char/M:m/size, parsed like C's
//     strtoull(…, 0): the number must be followed by exactly "\n" (else
//     INVALID_SIZE_FORMAT), overflow gives -ERANGE, hex is read (dax2.3).
//   - Its alignment is dax_region/align: decimal then (when not a power of
//     two) hex (dax2.5), "\n" required (else INVALID_ALIGNMENT_FORMAT),
//     overflow -ERANGE, a value not a power of two INVALID_ALIGNMENT_VALUE.
//   - Without dax_region/align above the device (dax3.0, dax4.0) the
//     alignment is 0, not a power of two, and pmem2 (by its documented
//     choice) returns DAX_REGION_NOT_FOUND for Size. The C library reads
//     the nd_dax instead: it succeeds on dax3.0 and crashes in libndctl on
//     dax4.0, which has no NVDIMM bus.
//   - A failing read of a sysfs attribute returns -errno (dax5.0; reading
//     a directory, dax6.1, fails with EISDIR). libdaxctl drops such a
//     device, and the C library then crashes in libndctl.
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
	sizeFails := func(rc pmem2.Code, align uint64) Outcome {
		return Outcome{FromFD: new(pmem2.Code(0)), SizeRC: new(rc), Alignment: new(align)}
	}
	alignFails := func(size uint64, rc pmem2.Code) Outcome {
		return Outcome{FromFD: new(pmem2.Code(0)), Size: new(size), AlignmentRC: new(rc)}
	}
	noRegion := Outcome{FromFD: new(pmem2.Code(0)), SizeRC: new(pmem2.ErrDAXRegionNotFound), AlignmentRC: new(pmem2.ErrInvalidAlignmentValue)}
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

	noRegionDev := dax("dax3.0", gib, 2*mib, 0, noRegion)
	noRegionDev.DAXRegion = new(false)
	noBusDev := dax("dax4.0", gib, 2*mib, 0, noRegion)
	noBusDev.NDBus = new(false)
	classDev := dax("dax1.0", 512*mib, 4096, 1, ok(512*mib, 4096))
	classDev.Subsystem = "class"

	s := &Spec{
		DAXSubsystem: "bus",
		DAXDevices: []DAXDevice{
			dax("dax0.0", gib, 2*mib, 0, ok(gib, 2*mib)),
			dax("dax0.1", 2*gib, gib, 0, ok(2*gib, gib)),
			classDev,
			withSizeRaw(dax("dax2.0", gib, 2*mib, 0, sizeFails(pmem2.ErrInvalidSizeFormat, 2*mib)), "one gigabyte\n"),
			withSizeRaw(dax("dax2.1", gib, 2*mib, 0, sizeFails(pmem2.ErrInvalidSizeFormat, 2*mib)), "1073741824"),
			withSizeRaw(dax("dax2.2", gib, 2*mib, 0, sizeFails(-34, 2*mib)), "18446744073709551616\n"),
			withSizeRaw(dax("dax2.3", gib, 2*mib, 0, ok(gib, 2*mib)), "0x40000000\n"),
			withAlignRaw(dax("dax2.4", gib, 2*mib, 0, alignFails(gib, pmem2.ErrInvalidAlignmentValue)), "12345\n"),
			withAlignRaw(dax("dax2.5", gib, 2*mib, 0, ok(gib, 2*mib)), "200000\n"),
			withAlignRaw(dax("dax2.6", gib, 2*mib, 0, alignFails(gib, pmem2.ErrInvalidAlignmentFormat)), "2M\n"),
			withAlignRaw(dax("dax2.7", gib, 2*mib, 0, alignFails(gib, -34)), "99999999999999999999\n"),
			noRegionDev,
			noBusDev,
			dax("dax5.0", gib, 2*mib, 0, sizeFails(-5, 2*mib)),
			dax("dax6.0", gib, 2*mib, 0, *badType),
			dax("dax6.1", gib, 2*mib, 0, sizeFails(-21, 2*mib)),
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
			// dax6.0: the subsystem link says mem, so the device is no
			// Device DAX although everything else is in place.
			{Path: "sys/devices/platform/e820_pmem/ndbus0/region6/dax6.1/dax6.0/subsystem", Type: fusefs.TypeSymlink,
				Target: "../../../../../../../class/mem"},
			// dax6.1: a directory where the size attribute should be.
			{Path: "sys/devices/platform/e820_pmem/ndbus0/region6/dax6.2/dax6.1/size", Type: fusefs.TypeDir, Mode: 0o755},
		},
		Faults: []Fault{
			{Path: "data/faulty", Op: fusefs.OpGetattr, Errno: syscall.EIO},
			{Path: "sys/devices/platform/e820_pmem/ndbus0/region5/dax5.1/dax5.0/size", Op: fusefs.OpRead, Errno: syscall.EIO},
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
