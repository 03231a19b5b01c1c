package emulate

import (
	"os"

	"github.com/pmem2emu/pmem2emu/pmem2"
)

// Default is the built-in fixture: every error of the pmem2_source_from_fd
// manual page and every row of libpmem2-behaviour.md, each node with its
// expectation in the four open modes. The expectations are reasoned from
// the documentation (the manual page, libpmem2-behaviour.md, the pmem2
// package's documented choices where C crashes) and from what the kernel
// does on a nodev FUSE mount, never from running the library:
//
//	path                 what                               r              w                        rw             path
//	dev/dax0.0           Device DAX, dax bus, 1 GiB, 2 MiB  EACCES (1)     EACCES (1)               EACCES (1)     DevDAX, 1073741824, 2097152
//	dev/dax0.1           second device of region 0, 1 GiB   EACCES         EACCES                   EACCES         DevDAX, 2147483648, 1073741824
//	                     alignment, 2 GiB
//	dev/dax1.0           class/dax model, 512 MiB, 4 KiB,   EACCES         EACCES                   EACCES         DevDAX, 536870912, 4096
//	                     NUMA node 1
//	dev/dax2.0           size "one gigabyte\n"              EACCES         EACCES                   EACCES         size INVALID_SIZE_FORMAT (2)
//	dev/dax2.1           size "1073741824" (no \n)          EACCES         EACCES                   EACCES         size INVALID_SIZE_FORMAT (2)
//	dev/dax2.2           size 2^64 "18446744073709551616\n" EACCES         EACCES                   EACCES         size -ERANGE (2)
//	dev/dax2.3           size "0x40000000\n"                EACCES         EACCES                   EACCES         size 1073741824 (strtoull base 0)
//	dev/dax2.4           align "12345\n"                    EACCES         EACCES                   EACCES         alignment INVALID_ALIGNMENT_VALUE (3)
//	dev/dax2.5           align "200000\n", old hex style    EACCES         EACCES                   EACCES         alignment 2097152 (3)
//	dev/dax2.6           align "2M\n"                       EACCES         EACCES                   EACCES         alignment INVALID_ALIGNMENT_FORMAT (3)
//	dev/dax2.7           align "99999999999999999999\n"     EACCES         EACCES                   EACCES         alignment -ERANGE (3)
//	dev/dax3.0           no dax_region/ (NVDIMM bus kept)   EACCES         EACCES                   EACCES         size DAX_REGION_NOT_FOUND, alignment INVALID_ALIGNMENT_VALUE (4)
//	dev/dax4.0           "nd_bus": false (hmem.4, no        EACCES         EACCES                   EACCES         size DAX_REGION_NOT_FOUND, alignment INVALID_ALIGNMENT_VALUE (4)
//	                     dax_region/): C crashes
//	dev/dax5.0           read fault EIO on its size file    EACCES         EACCES                   EACCES         size -EIO (5), alignment 2097152
//	dev/dax6.0           subsystem replaced by a link to    EACCES         EACCES                   EACCES         INVALID_FILE_TYPE (6)
//	                     class/mem
//	dev/dax6.1           size replaced by a directory       EACCES         EACCES                   EACCES         size -EISDIR (7), alignment 2097152
//	dev/pmem0            fsdax block device 259:0           EACCES         EACCES                   EACCES         INVALID_FILE_TYPE (8)
//	data/empty           empty regular file                 0, 0, page     INVALID_FILE_HANDLE (9)  0, 0, page     0, 0, page (10)
//	data/small           regular file "hello, pmem\n"       0, 12, page    INVALID_FILE_HANDLE      0, 12, page    0, 12, page
//	data/sparse          sparse 1 TiB file                  0, 2^40, page  INVALID_FILE_HANDLE      0, 2^40, page  0, 2^40, page
//	data/link            symlink to small                   as small (11)  as small                 as small       as small
//	data/dir             directory                          INVALID_FILE_TYPE  EISDIR (12)          EISDIR         INVALID_FILE_TYPE
//	data/fifo            FIFO                               INVALID_FILE_TYPE  ENXIO (13)           INVALID_FILE_TYPE  INVALID_FILE_TYPE
//	data/socket          socket                             ENXIO (14)     ENXIO                    ENXIO          INVALID_FILE_TYPE
//	dev/sda              block device 8:0                   EACCES         EACCES                   EACCES         INVALID_FILE_TYPE (8)
//	dev/mem5             char 1:5, sysfs subsystem mem      EACCES         EACCES                   EACCES         INVALID_FILE_TYPE (15)
//	dev/experimental     char 60:0, unknown to sysfs        EACCES         EACCES                   EACCES         -ENOENT (16)
//	data/faulty          file whose getattr fails with EIO  -EIO (17)      INVALID_FILE_HANDLE      -EIO           -EIO
//
// "0, 12, page" means from_fd 0, size 12, alignment the page size. Reasons:
//
//	(1)  The mount is nodev: the kernel refuses to open any device node
//	     (may_open → EACCES) before FUSE is asked; O_PATH opens nothing.
//	(2)  Size is read from sys/dev/char/M:m/size and parsed like C's
//	     strtoull(…, 0): the number must be followed by exactly "\n"
//	     (else INVALID_SIZE_FORMAT); overflow gives -ERANGE.
//	(3)  Alignment is dax_region/align, decimal then (when not a power of
//	     two) hex, "\n" required (else INVALID_ALIGNMENT_FORMAT), overflow
//	     -ERANGE, a final value not a power of two INVALID_ALIGNMENT_VALUE.
//	(4)  No dax_region/align above the device: the alignment is 0, not a
//	     power of two, and pmem2 (by its documented choice) returns
//	     DAX_REGION_NOT_FOUND for Size. The C library reads the nd_dax
//	     instead: it succeeds on dax3.0 and crashes in libndctl on dax4.0,
//	     which has no NVDIMM bus.
//	(5)  A failing read of a sysfs attribute returns -errno. (libdaxctl drops
//	     such a device, and the C library then crashes in libndctl, as it does
//	     for (7) and for dax4.0.)
//	(6)  realpath(sys/dev/char/M:m/subsystem) ends in "mem", not "dax".
//	(7)  Reading a directory fails with EISDIR, returned as -errno.
//	(8)  Only character devices can be Device DAX; a block device is an
//	     invalid file type (manual page).
//	(9)  The manual page: an fd opened O_WRONLY is an invalid handle,
//	     checked (F_GETFL) before fstat, so for every file type that opens.
//	(10) An O_PATH descriptor has access mode 0 and is accepted; fstat works
//	     on it. A regular file's size is st_size and its alignment the
//	     page size.
//	(11) open follows the symlink (also with O_PATH), so the descriptor is
//	     the file's.
//	(12) A directory cannot be opened for writing: EISDIR.
//	(13) O_WRONLY|O_NONBLOCK on a FIFO without a reader fails with ENXIO;
//	     O_RDONLY and O_RDWR open at once; fstat says FIFO.
//	(14) Opening a socket inode fails with ENXIO; O_PATH works and fstat
//	     says socket.
//	(15) realpath(sys/dev/char/1:5/subsystem) ends in "mem" (manual page:
//	     a char device other than Device DAX).
//	(16) There is no sys/dev/char/60:0, so realpath fails with ENOENT.
//	(17) The rule fails GETATTR only: lookup and open succeed, and the node
//	     is never served from the kernel's attribute cache, so the fstat
//	     of pmem2_source_from_fd reaches the server and gets EIO.
//
// Device numbers: Device DAX 252:0…, pmem 259:0, the block device 8:0 and
// the mem device 1:5 look like a real machine's; the mount is nodev, so the
// kernel never opens them (and the fixture cannot be mounted in device
// mode, which allows only harmless memory devices). 60:0 is in the range
// Linux reserves for local experiments.
func Default() *Spec {
	page := uint64(os.Getpagesize())
	const (
		gib = 1 << 30
		mib = 1 << 20
	)
	eacces := &Outcome{OpenErrno: "EACCES"}
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
			{Path: "data", Type: "dir", Mode: "0755"},
			{Path: "data/empty", Type: "file", Mode: "0644", Expect: fileExpect(0)},
			{Path: "data/small", Type: "file", Mode: "0644", Content: "hello, pmem\n", Expect: fileExpect(12)},
			{Path: "data/sparse", Type: "file", Mode: "0644", Size: 1 << 40, Expect: fileExpect(1 << 40)},
			{Path: "data/link", Type: "symlink", Target: "small", Expect: fileExpect(12)},
			{Path: "data/dir", Type: "dir", Mode: "0755", Expect: &Expect{
				W: &Outcome{OpenErrno: "EISDIR"}, RW: &Outcome{OpenErrno: "EISDIR"}, All: badType}},
			{Path: "data/fifo", Type: "fifo", Mode: "0644", Expect: &Expect{
				W: &Outcome{OpenErrno: "ENXIO"}, All: badType}},
			{Path: "data/socket", Type: "socket", Mode: "0755", Expect: &Expect{
				Path: badType, All: &Outcome{OpenErrno: "ENXIO"}}},
			{Path: "dev/sda", Type: "block", Mode: "0660", Major: 8, Minor: 0, Expect: &Expect{Path: badType, All: eacces}},
			// Not "dev/zero": under the namespace runner it would shadow the
			// host's working /dev/zero with a nodev node.
			{Path: "dev/mem5", Type: "char", Mode: "0666", Major: 1, Minor: 5, Subsystem: "mem", Expect: &Expect{Path: badType, All: eacces}},
			{Path: "dev/experimental", Type: "char", Mode: "0660", Major: 60, Minor: 0, Expect: &Expect{
				Path: fromFD(-2), All: eacces}},
			{Path: "data/faulty", Type: "file", Mode: "0644", Content: "fstat fails\n", Expect: &Expect{
				W: fromFD(pmem2.ErrInvalidFileHandle), All: fromFD(-5)}},
			// dax6.0: the subsystem link says mem, so the device is no
			// Device DAX although everything else is in place.
			{Path: "sys/devices/platform/e820_pmem/ndbus0/region6/dax6.1/dax6.0/subsystem", Type: "symlink",
				Target: "../../../../../../../class/mem"},
			// dax6.1: a directory where the size attribute should be.
			{Path: "sys/devices/platform/e820_pmem/ndbus0/region6/dax6.2/dax6.1/size", Type: "dir", Mode: "0755"},
		},
		Faults: []Fault{
			{Path: "data/faulty", Op: "getattr", Errno: "EIO"},
			{Path: "sys/devices/platform/e820_pmem/ndbus0/region5/dax5.1/dax5.0/size", Op: "read", Errno: "EIO"},
		},
	}
	for i := range s.DAXDevices {
		s.DAXDevices[i].Minor = uint32(i)
	}
	return s
}
