package emulate

import (
	"syscall"

	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// The default fixture's DIMM-backed devices: what pmem2_source_numa_node,
// _device_id, _device_usc and the bad block iterator return on healthy and
// broken NFIT trees, in regions 20 and up (apart from the size and
// alignment cases below them). Every expectation is reasoned from the C
// sources (PMDK 1.12.1 numa_ndctl.c, usc_ndctl.c, badblocks_ndctl.c,
// region_namespace_ndctl.c; ndctl 76.1 libndctl.c), as each device's
// comment says, never from running the library.
//
// All four calls first find the device's region as pmem2_source_size
// does (pmem2_region_namespace: bus, region, namespace, nd_dax, the
// daxctl device whose /dev node has the descriptor's st_rdev). Then:
//   - numa_node is the region's numa_node as libndctl read it (strtol);
//   - device_id concatenates nfit/id of the region's DIMMs — those its
//     mappingK files name that are on the bus — in the order of libndctl's
//     DIMM list, the reverse of the bus directory's (each DIMM is added at
//     the list's head): nmem22 before nmem21. A DIMM without an id makes
//     it PMEM2_E_NOSUPP;
//   - usc sums their nfit/dirty_shutdown (strtoll(…, NULL, 0): junk reads
//     as its leading number or 0); a DIMM without one (libndctl keeps
//     -ENOENT), or with a negative one, makes it PMEM2_E_NOSUPP;
//   - bad blocks are the region's badblocks lines ("SECTOR COUNT", read
//     with sscanf "%llu %u" until a line does not parse) that overlap the
//     nd_dax's resource and size, cut to the device and made relative to
//     it; reading the nd_dax's resource needs root (mode 0400), so a
//     normal user gets PMEM2_E_CANNOT_READ_BOUNDS.
func rasDefault() ([]DIMM, []DAXDevice, []Node, []Fault) {
	const (
		gib = 1 << 30
		mib = 1 << 20
	)
	eacces := &Outcome{OpenErrno: syscall.EACCES}
	ras := func(numa int, id *string, idRC pmem2.Code, usc *uint64, uscRC pmem2.Code, bad *BadBlocks, badRC pmem2.Code) *Expect {
		o := Outcome{FromFD: new(pmem2.Code(0)), Size: new(uint64(gib)), Alignment: new(uint64(2 * mib)), NUMANode: new(numa),
			DeviceID: id, USC: usc, BadBlocks: bad}
		if idRC != 0 {
			o.DeviceIDRC = new(idRC)
		}
		if uscRC != 0 {
			o.USCRC = new(uscRC)
		}
		e := &Expect{Path: &o, All: eacces}
		if badRC != 0 {
			o.BadBlocksRC = new(badRC)
			return e
		}
		// Placing the device among the region's bad blocks needs the
		// nd_dax's resource, mode 0400: a user gets
		// PMEM2_E_CANNOT_READ_BOUNDS from pmem2_badblock_context_new.
		u := o
		u.BadBlocks, u.BadBlocksRC = nil, new(pmem2.ErrCannotReadBounds)
		e.AsUser = &Expect{Path: &u}
		return e
	}
	dev := func(name string, numa int, dimms []string, bad []BadBlock, e *Expect) DAXDevice {
		return DAXDevice{Name: name, Major: DefaultDAXMajor, Size: gib, Align: 2 * mib, NUMANode: numa, DIMMs: dimms, BadBlocks: bad, Expect: e}
	}
	none := new(BadBlocks(nil))
	const (
		id20 = "8089-a2-1837-00000abc"
		id21 = "8089-a2-1840-00001001"
		id22 = "8089-a2-1840-00001002"
		id25 = "802c-0f-1911-00002005"
		id26 = "802c-0f-1911-00002006"
		id27 = "8089-a2-1837-00000ab7"
	)
	dimms := []DIMM{
		{Name: "nmem20", ID: new(id20), DirtyShutdown: 7},
		{Name: "nmem21", ID: new(id21), DirtyShutdown: 1},
		{Name: "nmem22", ID: new(id22), DirtyShutdown: 2},
		{Name: "nmem23", ID: new(""), DirtyShutdown: 4},
		{Name: "nmem24", ID: new("8089-a2-1837-00002004"), DirtyShutdown: 1}, // a node makes it "seven\n"
		{Name: "nmem25", ID: new(id25), DirtyShutdown: -1},
		{Name: "nmem26", ID: new(id26), DirtyShutdown: 5},
		{Name: "nmem27", ID: new(id27), DirtyShutdown: 3},
	}
	devices := []DAXDevice{
		// Healthy, one DIMM: the issue's measured case. badblocks "8 8\n1024
		// 1\n" — sectors 8-15 and 1024 — is 4096+4096 and 524288+512.
		dev("dax20.0", 1, []string{"nmem20"}, []BadBlock{{4096, 4096}, {524288, 512}},
			ras(1, new(id20), 0, new(uint64(7)), 0, &BadBlocks{{4096, 4096}, {524288, 512}}, 0)),
		// Two devices in a region interleaved across two DIMMs: the id is
		// nmem22's then nmem21's (libndctl's list order), the count their
		// sum. One bad range spans the two devices (the last 4 KiB of
		// dax21.0, the first of dax21.1: one region line "2097144 16"),
		// each gets its part; 1 MiB at dax21.1's 1 MiB is four lines of
		// 512 sectors (the kernel's longest), four bad blocks.
		dev("dax21.0", 0, []string{"nmem21", "nmem22"}, []BadBlock{{gib - 4096, 4096}},
			ras(0, new(id22+id21), 0, new(uint64(3)), 0, &BadBlocks{{gib - 4096, 4096}}, 0)),
		dev("dax21.1", 0, []string{"nmem21", "nmem22"}, []BadBlock{{0, 4096}, {mib, mib}},
			ras(0, new(id22+id21), 0, new(uint64(3)), 0, &BadBlocks{{0, 4096}, {mib, 256 << 10}, {mib + 256<<10, 256 << 10}, {mib + 512<<10, 256 << 10}, {mib + 768<<10, 256 << 10}}, 0)),
		// nmem23 has no nfit/id (as on older kernels): libndctl keeps no
		// unique id, pmem2_source_device_id returns PMEM2_E_NOSUPP; the
		// count is unaffected.
		dev("dax22.0", 0, []string{"nmem23"}, nil,
			ras(0, nil, pmem2.ErrNoSupp, new(uint64(4)), 0, none, 0)),
		// nmem24's dirty_shutdown is "seven\n": strtoll reads no digit and
		// libndctl keeps 0, so the count is 0 with code 0.
		dev("dax23.0", 0, []string{"nmem24"}, nil,
			ras(0, new("8089-a2-1837-00002004"), 0, new(uint64(0)), 0, none, 0)),
		// nmem25 reports no dirty shutdown count (no file): libndctl keeps
		// -ENOENT, pmem2_source_device_usc returns PMEM2_E_NOSUPP.
		dev("dax24.0", 1, []string{"nmem25"}, nil,
			ras(1, new(id25), 0, nil, pmem2.ErrNoSupp, none, 0)),
		// A DIMM that is not on the bus: region25's mappings is 2 and
		// mapping1 names nmem99, which libndctl cannot find (mappings_init
		// skips the mapping); the region's DIMMs are nmem26 alone.
		dev("dax25.0", 0, []string{"nmem26"}, nil,
			ras(0, new(id26), 0, new(uint64(5)), 0, none, 0)),
		// Malformed badblocks lines (a node replaces the region's file):
		// "8 8", "16 2 trailing" (sscanf stops after two numbers),
		// "  1024 1" (leading blanks skipped), then "bad line", which ends
		// the list: "2048 1" after it is never read.
		dev("dax26.0", 0, nil, nil,
			ras(0, nil, 0, nil, 0, &BadBlocks{{4096, 4096}, {8192, 1024}, {524288, 512}}, 0)),
		// The nd_dax's resource cannot be read (a fault: open fails
		// EACCES, as it does for every caller but root): libndctl keeps
		// ULLONG_MAX, badblocks_get_namespace_bounds fails and
		// pmem2_badblock_context_new returns PMEM2_E_CANNOT_READ_BOUNDS,
		// whatever the bad blocks. Nothing else reads that file.
		dev("dax27.0", 1, []string{"nmem27"}, []BadBlock{{0, 512}},
			ras(1, new(id27), 0, new(uint64(3)), 0, nil, pmem2.ErrCannotReadBounds)),
	}
	// A regular file on no pmem device (the fixture's st_dev is no
	// namespace's block device, ndctl_match_fsdax matches none):
	// pmem2_region_namespace finds no region, so numa_node is
	// PMEM2_E_DAX_REGION_NOT_FOUND, device_id and usc PMEM2_E_NOSUPP, and
	// the bad block context is empty (no extents are read): no bad blocks.
	file := Outcome{FromFD: new(pmem2.Code(0)), Size: new(uint64(4)), Alignment: new(uint64(pageSize())),
		NUMANodeRC: new(pmem2.ErrDAXRegionNotFound), DeviceIDRC: new(pmem2.ErrNoSupp), USCRC: new(pmem2.ErrNoSupp), BadBlocks: none}
	nodes := []Node{
		{Path: "data/ras", Type: fusefs.TypeFile, Mode: 0o644, Content: "ras\n", Expect: &Expect{
			W: &Outcome{FromFD: new(pmem2.ErrInvalidFileHandle)}, All: &file}},
		{Path: ndBusDir + "/nmem24/nfit/dirty_shutdown", Type: fusefs.TypeFile, Mode: modeRO, Content: "seven\n"},
		{Path: regionDir(25) + "/mappings", Type: fusefs.TypeFile, Mode: modeRO, Content: "2\n"},
		{Path: regionDir(25) + "/mapping1", Type: fusefs.TypeFile, Mode: modeRO, Content: "nmem99,0,1073741824,1\n"},
		{Path: regionDir(26) + "/badblocks", Type: fusefs.TypeFile, Mode: modeRO, Content: "8 8\n16 2 trailing\n  1024 1\nbad line\n2048 1\n"},
	}
	faults := []Fault{
		{Path: regionDir(27) + "/dax27.1/resource", Op: fusefs.OpOpen, Errno: syscall.EACCES},
	}
	return dimms, devices, nodes, faults
}
