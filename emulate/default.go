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
// size 12, alignment the page size:
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
//   - Ownership: sys/ and dev/ are root's, with the kernel's modes; the
//     data nodes belong to whoever mounts the fixture, so a normal user
//     opens them for writing as root does. data/secret is root's, mode
//     0600: root opens it in every mode; any other user ("as a user" in
//     the table, Expect.AsUser) gets EACCES, but for O_PATH, which needs
//     no permission on the file. So `pmem2emu check` passes as root and
//     as a normal user.
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
			// Root's own file among the user's: the row whose answer
			// depends on who checks.
			{Path: "data/secret", Type: fusefs.TypeFile, Mode: 0o600, UID: new(uint32(0)), GID: new(uint32(0)), Content: "root only\n", Expect: func() *Expect {
				e := fileExpect(10)
				e.AsUser = &Expect{R: eacces, W: eacces, RW: eacces}
				return e
			}()},
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
	for i := range s.DAXDevices {
		s.DAXDevices[i].Minor = uint32(i)
	}
	return s
}
