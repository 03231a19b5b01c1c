package pmem2

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"syscall"

	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// The trees below are what NumaNode, DeviceID, DeviceUSC and BadBlocks are
// tested on, by the Go port (region_test.go) and by the C library
// (nd_c_test.go), as root and as uid 65534. Each expectation is read from
// the sources: PMDK 1.12.1's numa_ndctl.c, usc_ndctl.c, badblocks_ndctl.c,
// extent_linux.c and region_namespace_ndctl.c, and ndctl 76.1's libndctl.c
// behind them. In short:
//
//   - the source is found as pmem2_region_namespace finds it: a Device DAX
//     through its nd_dax, as for Size, but where libndctl finds nothing the
//     C library does not crash here: NUMA node PMEM2_E_DAX_REGION_NOT_FOUND,
//     id and usc PMEM2_E_NOSUPP, no bad blocks; a regular file through the
//     block device whose sys/block/<name>/dev is its st_dev;
//   - the NUMA node is the region's numa_node, strtol'd into an int, -2
//     without the attribute, -1 when it cannot be read;
//   - the DIMMs are the bus's nmemN that a mappingK of the region names, in
//     the bus's list order (directory order reversed); the id is their
//     nfit/id concatenated, the usc the sum of their nfit/dirty_shutdown;
//   - bad blocks come from the region's badblocks ("SECTOR COUNT" lines,
//     512-byte sectors from the region's start), cut to the namespace,
//     whose offset in the region needs the 0400 resource attributes — or,
//     for an fsdax namespace, from its block device's badblocks — and, for
//     a regular file, mapped through its extents (FIEMAP).

// regionResult is what the four functions return on a tree, or, for the C
// library, that it blocks.
type regionResult struct {
	Numa     int
	NumaCode Code
	ID       string
	IDCode   Code
	USC      uint64
	USCCode  Code
	BB       []BadBlock
	BBCode   Code
	Hang     bool
}

func (r regionResult) String() string {
	if r.Hang {
		return "hang"
	}
	f := func(name string, code Code, v string) string {
		if code != 0 {
			return name + "_rc " + code.Name()
		}
		return name + " " + v
	}
	bbs := make([]string, len(r.BB))
	for i, b := range r.BB {
		bbs[i] = b.String()
	}
	return strings.Join([]string{
		f("numa_node", r.NumaCode, strconv.Itoa(r.Numa)),
		f("device_id", r.IDCode, strconv.Quote(r.ID)),
		f("usc", r.USCCode, strconv.FormatUint(r.USC, 10)),
		f("badblocks", r.BBCode, "["+strings.Join(bbs, " ")+"]"),
	}, ", ")
}

// found is a source libndctl finds, with its region's NUMA node, its DIMMs'
// id and usc, and bad blocks.
func found(numa int, id string, usc uint64, bbs ...BadBlock) regionResult {
	return regionResult{Numa: numa, ID: id, USC: usc, BB: bbs}
}

// lost is a source libndctl finds no namespace for.
var lost = regionResult{NumaCode: ErrDAXRegionNotFound, IDCode: ErrNoSupp, USCCode: ErrNoSupp}

// failing is a regular file's walk stopped by code: all four return it.
func failing(code Code) regionResult {
	return regionResult{NumaCode: code, IDCode: code, USCCode: code, BBCode: code}
}

func (r regionResult) withBB(code Code) regionResult  { r.BB, r.BBCode = nil, code; return r }
func (r regionResult) withID(code Code) regionResult  { r.ID, r.IDCode = "", code; return r }
func (r regionResult) withUSC(code Code) regionResult { r.USC, r.USCCode = 0, code; return r }

// bb is a bad block in bytes.
func bb(off, length uint64) BadBlock { return BadBlock{Offset: off, Length: length} }

// regionCase is one tree. Root is what both libraries return as root;
// Nobody, when set, what they return as uid 65534. CRoot and CNobody, when
// set, are where the C library does something else (it blocks where the
// port cannot). Want, when set, computes both from the tree as built
// (directory order, a file's extents) and replaces Root and Nobody.
type regionCase struct {
	Name  string
	Build func(s *sysfsTree)
	// Open is the host node (default "/dev/zero", 1:5, the Device DAX) or,
	// when File is set, the file of the tree it names, created by Build.
	Open string
	File bool
	// Mode is how both libraries open it: "path" (O_PATH, the default)
	// or "r" (O_RDONLY).
	Mode           string
	Root           regionResult
	Nobody         *regionResult
	CRoot, CNobody *regionResult
	Want           func(s *sysfsTree, root bool) regionResult
}

// WantFor is the expected result for the Go port (c false) or the C
// library, as root or not, on the tree s that Build made.
func (c regionCase) WantFor(s *sysfsTree, root, cside bool) regionResult {
	w := c.Root
	if !root && c.Nobody != nil {
		w = *c.Nobody
	}
	if c.Want != nil {
		w = c.Want(s, root)
	}
	if cside && root && c.CRoot != nil {
		return *c.CRoot
	}
	if cside && !root && c.CNobody != nil {
		return *c.CNobody
	}
	return w
}

// OpenPath is the path both libraries open on tree s.
func (c regionCase) OpenPath(s *sysfsTree) string {
	switch {
	case c.File:
		return s.base + "/" + c.Open
	case c.Open == "":
		return "/dev/zero"
	}
	return c.Open
}

// OpenMode is "path" unless the case says otherwise.
func (c regionCase) OpenMode() string {
	if c.Mode == "" {
		return "path"
	}
	return c.Mode
}

// unbounded is the uid 65534 answer of a tree whose bad blocks come from
// the region: the 0400 resource of the nd_dax cannot be read.
func unbounded(r regionResult) *regionResult { r = r.withBB(ErrCannotReadBounds); return &r }

var (
	// healthyDAX is the default Device DAX: region0 on NUMA node 0 of an
	// e820 bus, no DIMMs, no badblocks attribute.
	healthyDAX   = found(0, "", 0)
	nobodyDAX    = unbounded(healthyDAX)
	id0          = dimmID(0) // "8089-a2-1837-00000abc"
	onDIMM0      = found(0, id0, 7)
	nobodyDIMM0  = unbounded(onDIMM0)
	regionHang   = &regionResult{Hang: true}
	fileOnNoPmem = lost
)

// withBadblocks is the one-DIMM Device DAX with region0's bad-block list.
func withBadblocks(lines string) func(*sysfsTree) {
	return onDIMMs(func(s *sysfsTree) { s.badblocks(lines) })
}

// dimmOrder is the ids and usc of the DIMMs nmem<n> of ndbus0 that the set
// holds, in libndctl's order: the bus directory's order, reversed.
func dimmOrder(s *sysfsTree, set ...int) (string, uint64) {
	var id string
	var usc uint64
	names := testutil.DirNames(s.t, s.path(ndBusDir))
	for i := len(names) - 1; i >= 0; i-- {
		for _, n := range set {
			if names[i] == fmt.Sprintf("nmem%d", n) {
				id += dimmID(n)
				usc += uint64(n + 7)
			}
		}
	}
	return id, usc
}

// inOrder is the result on the default Device DAX whose region holds the
// DIMMs of set: their ids and counts in libndctl's order (dimmOrder), the
// bounds unreadable for uid 65534.
func inOrder(set ...int) func(s *sysfsTree, root bool) regionResult {
	return func(s *sysfsTree, root bool) regionResult {
		id, usc := dimmOrder(s, set...)
		if r := found(0, id, usc); !root {
			return *unbounded(r)
		} else {
			return r
		}
	}
}

var regionCases = []regionCase{
	// Found, healthy.
	{Name: "a Device DAX on an e820 bus has its region's NUMA node, no DIMMs (id \"\", usc 0) and no bad blocks",
		Build: func(s *sysfsTree) { s.busDAX("1:5") }, Root: healthyDAX, Nobody: nobodyDAX},
	{Name: "a Device DAX of the class model is found the same way", Build: func(s *sysfsTree) { s.classDAX("1:5") },
		Root: healthyDAX, Nobody: nobodyDAX},
	{Name: "a Device DAX on one NFIT DIMM has the DIMM's id and dirty shutdown count", Build: dimmDAX(0),
		Root: onDIMM0, Nobody: nobodyDIMM0},
	{Name: "a two-DIMM interleave set concatenates the ids and sums the counts, in the bus's list order",
		Build: dimmDAX(0, 1), Want: inOrder(0, 1)},
	{Name: "a DIMM of the bus outside the interleave set is not counted", Build: func(s *sysfsTree) {
		dimmDAX(0, 1, 2)(s)
		s.interleave(0, 2)
	}, Want: inOrder(0, 2)},
	{Name: "a DIMM named twice in the set counts once", Build: func(s *sysfsTree) {
		dimmDAX(0)(s)
		s.interleave(0, 0)
	}, Root: onDIMM0, Nobody: nobodyDIMM0},

	// The DIMM's id and count.
	{Name: "a DIMM without nfit/id has no device id: not supported; its count still adds up",
		Build: onDIMMs(func(s *sysfsTree) { s.remove(ndBusDir + "/nmem0/nfit/id") }),
		Root:  onDIMM0.withID(ErrNoSupp), Nobody: unbounded(onDIMM0.withID(ErrNoSupp))},
	{Name: "a DIMM id of mode 0400 is not read for uid 65534",
		Build: onDIMMs(func(s *sysfsTree) { s.chmod(ndBusDir+"/nmem0/nfit/id", 0o400) }),
		Root:  onDIMM0, Nobody: unbounded(onDIMM0.withID(ErrNoSupp))},
	{Name: "an empty DIMM id is an empty device id", Build: onDIMMs(func(s *sysfsTree) { s.file(ndBusDir+"/nmem0/nfit/id", "\n") }),
		Root: found(0, "", 7), Nobody: unbounded(found(0, "", 7))},
	{Name: "a DIMM id is taken as it is, spaces and all",
		Build: onDIMMs(func(s *sysfsTree) { s.file(ndBusDir+"/nmem0/nfit/id", " id with spaces \n") }),
		Root:  found(0, " id with spaces ", 7), Nobody: unbounded(found(0, " id with spaces ", 7))},
	{Name: "a malformed dirty_shutdown is 0, as strtoll reads it",
		Build: onDIMMs(func(s *sysfsTree) { s.file(ndBusDir+"/nmem0/nfit/dirty_shutdown", "junk\n") }),
		Root:  found(0, id0, 0), Nobody: unbounded(found(0, id0, 0))},
	{Name: "a dirty_shutdown in hex is read as hex",
		Build: onDIMMs(func(s *sysfsTree) { s.file(ndBusDir+"/nmem0/nfit/dirty_shutdown", "0x10\n") }),
		Root:  found(0, id0, 16), Nobody: unbounded(found(0, id0, 16))},
	{Name: "a negative dirty_shutdown makes the usc not supported",
		Build: onDIMMs(func(s *sysfsTree) { s.file(ndBusDir+"/nmem0/nfit/dirty_shutdown", "-1\n") }),
		Root:  onDIMM0.withUSC(ErrNoSupp), Nobody: unbounded(onDIMM0.withUSC(ErrNoSupp))},
	{Name: "a missing dirty_shutdown is -ENOENT to libndctl: usc not supported",
		Build: onDIMMs(func(s *sysfsTree) { s.remove(ndBusDir + "/nmem0/nfit/dirty_shutdown") }),
		Root:  onDIMM0.withUSC(ErrNoSupp), Nobody: unbounded(onDIMM0.withUSC(ErrNoSupp))},
	{Name: "a dirty_shutdown past LLONG_MAX saturates",
		Build: onDIMMs(func(s *sysfsTree) { s.file(ndBusDir+"/nmem0/nfit/dirty_shutdown", "99999999999999999999\n") }),
		Root:  found(0, id0, math.MaxInt64), Nobody: unbounded(found(0, id0, math.MaxInt64))},
	{Name: "counts that overflow 64 bits wrap around", Build: func(s *sysfsTree) {
		dimmDAX(0, 1)(s)
		s.file(ndBusDir+"/nmem0/nfit/dirty_shutdown", "9223372036854775807\n")
		s.file(ndBusDir+"/nmem1/nfit/dirty_shutdown", "9223372036854775807\n")
	}, Want: func(s *sysfsTree, root bool) regionResult {
		r := inOrder(0, 1)(s, root)
		r.USC = math.MaxUint64 - 1
		return r
	}},

	// What libndctl needs of a DIMM to list it, and of a mapping.
	{Name: "a mapping naming a DIMM that is not on the bus names none", Build: onDIMMs(func(s *sysfsTree) {
		s.file(region0+"/mapping0", "nmem5,0,1073741824,0\n")
	}), Root: healthyDAX, Nobody: nobodyDAX},
	{Name: "a DIMM without dev is not listed", Build: onDIMMs(func(s *sysfsTree) { s.remove(ndBusDir + "/nmem0/dev") }),
		Root: healthyDAX, Nobody: nobodyDAX},
	{Name: "a DIMM whose dev is not major:minor is not listed",
		Build: onDIMMs(func(s *sysfsTree) { s.file(ndBusDir+"/nmem0/dev", "251\n") }), Root: healthyDAX, Nobody: nobodyDAX},
	{Name: "a DIMM without commands is not listed", Build: onDIMMs(func(s *sysfsTree) { s.remove(ndBusDir + "/nmem0/commands") }),
		Root: healthyDAX, Nobody: nobodyDAX},
	{Name: "a DIMM without modalias is not listed", Build: onDIMMs(func(s *sysfsTree) { s.remove(ndBusDir + "/nmem0/modalias") }),
		Root: healthyDAX, Nobody: nobodyDAX},
	{Name: "an NFIT DIMM without nfit/handle is not listed",
		Build: onDIMMs(func(s *sysfsTree) { s.remove(ndBusDir + "/nmem0/nfit/handle") }), Root: healthyDAX, Nobody: nobodyDAX},
	{Name: "an NFIT DIMM without nfit/phys_id is not listed",
		Build: onDIMMs(func(s *sysfsTree) { s.remove(ndBusDir + "/nmem0/nfit/phys_id") }), Root: healthyDAX, Nobody: nobodyDAX},
	{Name: "a DIMM needs none of its other attributes", Build: onDIMMs(func(s *sysfsTree) {
		for _, a := range []string{"flags", "devtype", "available_slots", "nfit/serial", "nfit/vendor", "nfit/device",
			"nfit/formats", "nfit/format", "nfit/family", "nfit/flags"} {
			s.remove(ndBusDir + "/nmem0/" + a)
		}
	}), Root: onDIMM0, Nobody: nobodyDIMM0},
	{Name: "a mappings count of 0 reads no mapping", Build: onDIMMs(func(s *sysfsTree) { s.file(region0+"/mappings", "0\n") }),
		Root: healthyDAX, Nobody: nobodyDAX},
	{Name: "a malformed mappings count is 0", Build: onDIMMs(func(s *sysfsTree) { s.file(region0+"/mappings", "junk\n") }),
		Root: healthyDAX, Nobody: nobodyDAX},
	{Name: "a mappings count that does not fit an int is negative: no mapping",
		Build: onDIMMs(func(s *sysfsTree) { s.file(region0+"/mappings", "4294967295\n") }), Root: healthyDAX, Nobody: nobodyDAX},
	{Name: "a mapping of fewer than three numbers is skipped",
		Build: onDIMMs(func(s *sysfsTree) { s.file(region0+"/mapping0", "nmem0,0\n") }), Root: healthyDAX, Nobody: nobodyDAX},
	{Name: "a mapping without position, with spaces after its commas, is read",
		Build: onDIMMs(func(s *sysfsTree) { s.file(region0+"/mapping0", "nmem0, 0, 1073741824\n") }),
		Root:  onDIMM0, Nobody: nobodyDIMM0},
	{Name: "a missing mapping is skipped", Build: onDIMMs(func(s *sysfsTree) { s.remove(region0 + "/mapping0") }),
		Root: healthyDAX, Nobody: nobodyDAX},
	{Name: "mapping01 is not mapping1", Build: onDIMMs(func(s *sysfsTree) {
		s.file(region0+"/mappings", "2\n")
		s.file(region0+"/mapping0", "nmem5,0,1,0\n")
		s.file(region0+"/mapping01", "nmem0,0,1,1\n")
	}), Root: healthyDAX, Nobody: nobodyDAX},
	{Name: "of a hundred thousand mappings, the one that exists counts", Build: onDIMMs(func(s *sysfsTree) {
		s.file(region0+"/mappings", "100000\n")
		s.remove(region0 + "/mapping0")
		s.file(region0+"/mapping99999", "nmem0,0,1,0\n")
		s.file(region0+"/mapping099", "nmem5,0,1,0\n")
		s.file(region0+"/mapping100000", "nmem5,0,1,0\n")
	}), Root: onDIMM0, Nobody: nobodyDIMM0},

	// The bus decides how DIMMs are read (add_bus, add_dimm).
	{Name: "on an e820 bus libndctl reads a DIMM as CXL (is_subsys_cxl): cxl/id is its id, and it has no shutdown count",
		Build: func(s *sysfsTree) {
			s.busDAX("1:5")
			d := s.nvdimm(0, "", "")
			s.file(d+"/cxl/id", "cxl-id-0\n")
			s.interleave(0)
		}, Root: found(0, "cxl-id-0", 0).withUSC(ErrNoSupp), Nobody: unbounded(found(0, "cxl-id-0", 0).withUSC(ErrNoSupp))},
	{Name: "on an e820 bus whose parent has a subsys, a DIMM has neither id nor count", Build: func(s *sysfsTree) {
		s.busDAX("1:5")
		d := s.nvdimm(0, "", "")
		s.file(d+"/cxl/id", "cxl-id-0\n")
		s.dir("devices/platform/e820_pmem/subsys")
		s.interleave(0)
	}, Root: healthyDAX.withID(ErrNoSupp).withUSC(ErrNoSupp), Nobody: unbounded(healthyDAX.withID(ErrNoSupp).withUSC(ErrNoSupp))},
	{Name: "on a papr bus an ibm,pmemory DIMM has its papr/dirty_shutdown and no id", Build: papr("ibm,pmemory", true),
		Root: found(0, "", 3).withID(ErrNoSupp), Nobody: unbounded(found(0, "", 3).withID(ErrNoSupp))},
	{Name: "on a papr bus an ibm,pmemory DIMM without papr/flags is not listed", Build: papr("ibm,pmemory", false),
		Root: healthyDAX, Nobody: nobodyDAX},
	{Name: "on a papr bus an nvdimm_test DIMM is read as an NFIT one, in papr/", Build: papr("nvdimm_test", true),
		Root: found(0, "papr-id", 3), Nobody: unbounded(found(0, "papr-id", 3))},
	{Name: "on a papr bus a DIMM of another compatible is listed with nothing read", Build: papr("other", true),
		Root: healthyDAX.withID(ErrNoSupp).withUSC(ErrNoSupp), Nobody: unbounded(healthyDAX.withID(ErrNoSupp).withUSC(ErrNoSupp))},

	// The NUMA node: strtol into an int, -2 without attribute, -1 unreadable.
	{Name: "a region on NUMA node 1", Build: set(region0+"/numa_node", "1\n"), Root: found(1, "", 0), Nobody: unbounded(found(1, "", 0))},
	{Name: "a region on NUMA node -1", Build: set(region0+"/numa_node", "-1\n"), Root: found(-1, "", 0), Nobody: unbounded(found(-1, "", 0))},
	{Name: "a region without numa_node is NUMA_NO_ATTR, -2", Build: del(region0 + "/numa_node"),
		Root: found(-2, "", 0), Nobody: unbounded(found(-2, "", 0))},
	{Name: "a malformed numa_node is 0", Build: set(region0+"/numa_node", "junk\n"), Root: healthyDAX, Nobody: nobodyDAX},
	{Name: "a hex numa_node is read as hex", Build: set(region0+"/numa_node", "0x10\n"), Root: found(16, "", 0), Nobody: unbounded(found(16, "", 0))},
	{Name: "a numa_node past INT_MAX keeps its low 32 bits", Build: set(region0+"/numa_node", "4294967297\n"),
		Root: found(1, "", 0), Nobody: unbounded(found(1, "", 0))},
	{Name: "a numa_node of mode 0400 is NUMA_NO_NODE for uid 65534 only", Build: func(s *sysfsTree) {
		s.busDAX("1:5")
		s.fileMode(region0+"/numa_node", "3\n", 0o400)
	}, Root: found(3, "", 0), Nobody: unbounded(found(-1, "", 0))},
	{Name: "a numa_node that is a directory is NUMA_NO_NODE (EISDIR)", Build: func(s *sysfsTree) {
		s.busDAX("1:5")
		s.remove(region0 + "/numa_node")
		s.dir(region0 + "/numa_node")
	}, Root: found(-1, "", 0), Nobody: unbounded(found(-1, "", 0))},

	// Bad blocks from the region's list, cut to the namespace.
	{Name: "bad blocks at sectors 8 (8 long) and 1024 (1 long) are 4096+4096 and 524288+512",
		Build: withBadblocks("8 8\n1024 1\n"), Root: found(0, id0, 7, bb(4096, 4096), bb(524288, 512)), Nobody: nobodyDIMM0},
	{Name: "an empty bad-block list has no bad blocks", Build: withBadblocks(""), Root: onDIMM0, Nobody: nobodyDIMM0},
	{Name: "a malformed line ends the list", Build: withBadblocks("8 8\njunk\n1024 1\n"), Root: found(0, id0, 7, bb(4096, 4096)),
		Nobody: nobodyDIMM0},
	{Name: "a line of one number ends the list", Build: withBadblocks("8\n1024 1\n"), Root: onDIMM0, Nobody: nobodyDIMM0},
	{Name: "an empty line ends the list", Build: withBadblocks("8 8\n\n1024 1\n"), Root: found(0, id0, 7, bb(4096, 4096)),
		Nobody: nobodyDIMM0},
	{Name: "numbers separated by a comma end the list", Build: withBadblocks("8,8\n"), Root: onDIMM0, Nobody: nobodyDIMM0},
	{Name: "what follows the two numbers is ignored", Build: withBadblocks("8 8 9\n16 1x\n"),
		Root: found(0, id0, 7, bb(4096, 4096), bb(8192, 512)), Nobody: nobodyDIMM0},
	{Name: "white space around the numbers is skipped, signs are read", Build: withBadblocks(" \t8\t \t8 \n+16 +1\n"),
		Root: found(0, id0, 7, bb(4096, 4096), bb(8192, 512)), Nobody: nobodyDIMM0},
	{Name: "a last line without newline is read", Build: withBadblocks("8 8\n1024 1"),
		Root: found(0, id0, 7, bb(4096, 4096), bb(524288, 512)), Nobody: nobodyDIMM0},
	{Name: "a NUL byte ends what sscanf reads of a line, not the line", Build: withBadblocks("8 8\x009\n1024 1\n"),
		Root: found(0, id0, 7, bb(4096, 4096), bb(524288, 512)), Nobody: nobodyDIMM0},
	{Name: "a line of 10000 leading spaces is read", Build: withBadblocks(strings.Repeat(" ", 10000) + "8 8\n1024 1\n"),
		Root: found(0, id0, 7, bb(4096, 4096), bb(524288, 512)), Nobody: nobodyDIMM0},
	{Name: "a count of -1 is 2^32-1 sectors (%u), cut at the namespace's end", Build: withBadblocks("8 -1\n"),
		Root: found(0, id0, 7, bb(4096, testDAXSize-4096)), Nobody: nobodyDIMM0},
	{Name: "a count of 2^23 sectors is 0 bytes once shifted in 32 bits", Build: withBadblocks("8 8388608\n"),
		Root: found(0, id0, 7, bb(4096, 0)), Nobody: nobodyDIMM0},
	{Name: "a zero count at sector 0 ends at 2^64-1: the whole namespace", Build: withBadblocks("0 0\n"),
		Root: found(0, id0, 7, bb(0, testDAXSize)), Nobody: nobodyDIMM0},
	{Name: "bad blocks outside the namespace's part of the region are left out, those across its end are cut",
		Build: withBadblocks("0 8\n4092 8\n4096 8\n"), Root: found(0, id0, 7, bb(0, 4096), bb(testDAXSize-2048, 2048)),
		Nobody: nobodyDIMM0},
	{Name: "bad blocks of a namespace 1 MiB into the region are moved to the namespace's offsets",
		Build: func(s *sysfsTree) {
			withBadblocks("0 8\n2040 16\n4096 8\n6140 16\n8192 8\n")(s)
			s.placeNS(mib)
		}, Root: found(0, id0, 7, bb(0, 4096), bb(mib, 4096), bb(2*mib-2048, 2048)), Nobody: nobodyDIMM0},
	{Name: "a badblocks list that is a directory has no bad blocks", Build: onDIMMs(func(s *sysfsTree) { s.dir(region0 + "/badblocks") }),
		Root: onDIMM0, Nobody: nobodyDIMM0},
	{Name: "a badblocks list of mode 0400 has no bad blocks for uid 65534, who cannot read the bounds first",
		Build: onDIMMs(func(s *sysfsTree) { s.fileMode(region0+"/badblocks", "8 8\n", 0o400) }),
		Root:  found(0, id0, 7, bb(4096, 4096)), Nobody: nobodyDIMM0},
	{Name: "a badblocks list that is a FIFO reads as empty, where C blocks", Build: onDIMMs(func(s *sysfsTree) { s.fifo(region0 + "/badblocks") }),
		Root: onDIMM0, Nobody: nobodyDIMM0, CRoot: regionHang},

	// A FIFO in place of an attribute blocks C in open(2) as libndctl
	// lists the devices; the port reads it as empty.
	{Name: "a numa_node that is a FIFO is empty, 0, where C blocks", Build: func(s *sysfsTree) {
		s.busDAX("1:5")
		s.fifo(region0 + "/numa_node")
	}, Root: healthyDAX, Nobody: nobodyDAX, CRoot: regionHang, CNobody: regionHang},
	{Name: "a dirty_shutdown that is a FIFO is empty, 0, where C blocks",
		Build: onDIMMs(func(s *sysfsTree) { s.fifo(ndBusDir + "/nmem0/nfit/dirty_shutdown") }),
		Root:  found(0, id0, 0), Nobody: unbounded(found(0, id0, 0)), CRoot: regionHang, CNobody: regionHang},
	{Name: "a block device dev that is a FIFO is empty, PMEM2_E_INVALID_DEV_FORMAT, where C blocks", Build: func(s *sysfsTree) {
		fileOn(pmemNamespace{n: 1, mode: "memory", bdev: "pmem0"})(s)
		s.fifo(region0 + "/namespace0.1/block/pmem0/dev")
	}, Open: "data", File: true, Mode: "r", Root: failing(ErrInvalidDevFormat), CRoot: regionHang, CNobody: regionHang},

	// The bounds: the nd_dax's resource and size, the region's resource.
	{Name: "an nd_dax resource readable by all lets uid 65534 reach the region's resource, 0400: -EACCES",
		Build: func(s *sysfsTree) {
			withBadblocks("8 8\n")(s)
			s.chmod(ndDax0+"/resource", 0o444)
		}, Root: found(0, id0, 7, bb(4096, 4096)), Nobody: ptr(onDIMM0.withBB(errnoCode(syscall.EACCES)))},
	{Name: "an nd_dax without resource cannot be bounded", Build: onDIMMs(func(s *sysfsTree) { s.remove(ndDax0 + "/resource") }),
		Root: onDIMM0.withBB(ErrCannotReadBounds), Nobody: nobodyDIMM0},
	{Name: "an nd_dax resource of -1 is ULLONG_MAX, libndctl's failure", Build: onDIMMs(func(s *sysfsTree) { s.file(ndDax0+"/resource", "-1\n") }),
		Root: onDIMM0.withBB(ErrCannotReadBounds), Nobody: nobodyDIMM0},
	{Name: "an nd_dax without size cannot be bounded", Build: onDIMMs(func(s *sysfsTree) { s.remove(ndDax0 + "/size") }),
		Root: onDIMM0.withBB(ErrCannotReadBounds), Nobody: nobodyDIMM0},
	{Name: "a region without resource is -ENOENT", Build: onDIMMs(func(s *sysfsTree) { s.remove(region0 + "/resource") }),
		Root: onDIMM0.withBB(errnoCode(syscall.ENOENT)), Nobody: nobodyDIMM0},
	// Where C returns whatever errno its earlier calls left, it was
	// measured: ENOENT, from the optional attributes libndctl fails to
	// open on the way (the port returns that; see the package
	// documentation).
	{Name: "a region resource of ULLONG_MAX is C's failed read, with the errno left behind: -ENOENT",
		Build: onDIMMs(func(s *sysfsTree) { s.file(region0+"/resource", "0xffffffffffffffff\n") }),
		Root:  onDIMM0.withBB(errnoCode(syscall.ENOENT)), Nobody: nobodyDIMM0},
	{Name: "a region resource of 1 KiB fills libndctl's buffer: -ENOENT, the errno left behind",
		Build: onDIMMs(func(s *sysfsTree) { s.file(region0+"/resource", strings.Repeat("1", 1024)) }),
		Root:  onDIMM0.withBB(errnoCode(syscall.ENOENT)), Nobody: nobodyDIMM0},
	{Name: "a numa_node of 1 KiB fills libndctl's buffer: NUMA_NO_ATTR, for the ENOENT left behind",
		Build: func(s *sysfsTree) { s.busDAX("1:5"); s.file(region0+"/numa_node", strings.Repeat("1", 1024)) },
		Root:  found(-2, "", 0), Nobody: unbounded(found(-2, "", 0))},
	{Name: "a DIMM id of 1 KiB is not read: device id not supported",
		Build: onDIMMs(func(s *sysfsTree) { s.file(ndBusDir+"/nmem0/nfit/id", strings.Repeat("1", 1024)) }),
		Root:  onDIMM0.withID(ErrNoSupp), Nobody: unbounded(onDIMM0.withID(ErrNoSupp))},
	{Name: "a region resource that is a directory is -EISDIR", Build: onDIMMs(func(s *sysfsTree) {
		s.remove(region0 + "/resource")
		s.dir(region0 + "/resource")
	}), Root: onDIMM0.withBB(errnoCode(syscall.EISDIR)), Nobody: nobodyDIMM0},
	{Name: "a namespace in mode memory takes libndctl's namespace list, empty for an nd_dax: no bounds needed",
		Build: onDIMMs(func(s *sysfsTree) {
			s.badblocks("8 8\n")
			s.file(ns0+"/mode", "memory\n")
		}), Root: onDIMM0},
	{Name: "a namespace without mode takes the region's list", Build: func(s *sysfsTree) {
		withBadblocks("8 8\n")(s)
		s.remove(ns0 + "/mode")
	}, Root: found(0, id0, 7, bb(4096, 4096)), Nobody: nobodyDIMM0},

	// Not found: no crash here, the codes of C's branch for no region.
	{Name: "a Device DAX without NVDIMM bus (dax_hmem) is in no region", Build: hmemDAX, Root: lost},
	{Name: "a Device DAX without /dev node is in no region", Build: func(s *sysfsTree) { s.busDAX("1:5"); s.devNode("dax0.0", "") },
		Root: lost},
	{Name: "a Device DAX whose bus has no commands is in no region libndctl lists", Build: onDIMMs(func(s *sysfsTree) {
		s.badblocks("8 8\n")
		s.remove(ndBusDir + "/commands")
	}), Root: lost},
	{Name: "a Device DAX whose region has no mappings attribute is in no region libndctl lists",
		Build: onDIMMs(func(s *sysfsTree) { s.remove(region0 + "/mappings") }), Root: lost},
	{Name: "a Device DAX whose nd_dax no namespace holds is in no region", Build: set(ns0+"/holder", "\n"), Root: lost},

	// Regular files: the namespace whose block device has the file's
	// st_dev, an fsdax one's own list, the file's extents.
	{Name: "a regular file on no pmem device is in no region", Build: func(s *sysfsTree) {
		s.busDAX("1:5")
		s.dataFile("data", map[int64]string{0: "x"})
	}, Open: "data", File: true, Mode: "r", Root: fileOnNoPmem},
	{Name: "a regular file on an fsdax namespace has its region's NUMA node and DIMMs, and its extents' bad blocks",
		Build: fileOn(pmemNamespace{n: 1, mode: "memory", bdev: "pmem0"}), Open: "data", File: true, Mode: "r",
		Want: fileWant(false)},
	{Name: "a regular file's bad blocks need FIEMAP: an O_PATH descriptor is -EBADF",
		Build: fileOn(pmemNamespace{n: 1, mode: "memory", bdev: "pmem0"}), Open: "data", File: true,
		Root: onDIMM0.withBB(errnoCode(syscall.EBADF))},
	{Name: "a regular file on an fsdax namespace with a pfn takes the pfn's block device",
		Build: fileOn(pmemNamespace{n: 1, mode: "memory", holder: "pfn0.1", bdev: "pmem0"}), Open: "data", File: true, Mode: "r",
		Want: fileWant(false)},
	{Name: "a regular file on a raw namespace takes the region's list, bounded by the namespace's 0400 resource",
		Build: fileOn(pmemNamespace{n: 1, mode: "raw", bdev: "pmem0"}), Open: "data", File: true, Mode: "r",
		Want: fileWant(true)},
	{Name: "a regular file on a btt (sector mode) takes the region's list, bounded by the namespace's",
		Build: fileOn(pmemNamespace{n: 1, mode: "safe", holder: "btt0.1", bdev: "pmem0s"}), Open: "data", File: true, Mode: "r",
		Want: fileWant(true)},
	{Name: "an empty regular file on fsdax: FIEMAP of 0 bytes is -EINVAL", Build: func(s *sysfsTree) {
		dimmDAX(0)(s)
		p := s.dataFile("data", nil)
		s.pmemNS(pmemNamespace{n: 1, mode: "memory", bdev: "pmem0", devno: stDev(p)})
	}, Open: "data", File: true, Mode: "r", Want: emptyFileWant},
	{Name: "a block device with another number is not the file's", Build: func(s *sysfsTree) {
		dimmDAX(0)(s)
		s.dataFile("data", map[int64]string{0: "x"})
		s.pmemNS(pmemNamespace{n: 1, mode: "memory", bdev: "pmem0", devno: "259:77"})
	}, Open: "data", File: true, Mode: "r", Root: fileOnNoPmem},
	{Name: "a block device whose dev lacks the newline is PMEM2_E_INVALID_DEV_FORMAT everywhere",
		Build: fileDev(func(devno string) string { return devno }), Open: "data", File: true, Mode: "r",
		Root: failing(ErrInvalidDevFormat)},
	{Name: "a block device whose dev is empty is PMEM2_E_INVALID_DEV_FORMAT everywhere",
		Build: fileDev(func(string) string { return "" }), Open: "data", File: true, Mode: "r", Root: failing(ErrInvalidDevFormat)},
	{Name: "a block device dev past 64 bytes is cut there, and lacks its newline",
		Build: fileDev(func(devno string) string { return devno + strings.Repeat(" ", 64) + "\n" }), Open: "data", File: true, Mode: "r",
		Root: failing(ErrInvalidDevFormat)},
	{Name: "a block device dev is compared up to a NUL byte",
		Build: fileDev(func(devno string) string { return devno + "\x00junk\n" }), Open: "data", File: true, Mode: "r",
		Want: fileWant(false)},
	{Name: "a namespace whose block device is not in sys/block stops the walk with -ENOENT, whatever the file",
		Build: func(s *sysfsTree) {
			dimmDAX(0)(s)
			s.dataFile("data", map[int64]string{0: "x"})
			s.pmemNS(pmemNamespace{n: 1, mode: "memory", bdev: "pmem0", devno: "259:77"})
			s.remove("block/pmem0")
		}, Open: "data", File: true, Mode: "r", Root: failing(errnoCode(syscall.ENOENT))},
	{Name: "a namespace whose block/ holds two devices names none", Build: func(s *sysfsTree) {
		fileOn(pmemNamespace{n: 1, mode: "memory", bdev: "pmem0"})(s)
		s.dir(region0 + "/namespace0.1/block/pmem9")
	}, Open: "data", File: true, Mode: "r", Root: fileOnNoPmem},
	{Name: "a btt libndctl does not list (no sector_size) leaves the namespace its own block/, none here",
		Build: func(s *sysfsTree) {
			fileOn(pmemNamespace{n: 1, mode: "safe", holder: "btt0.1", bdev: "pmem0s"})(s)
			s.remove(region0 + "/btt0.1/sector_size")
		}, Open: "data", File: true, Mode: "r", Root: fileOnNoPmem},
	{Name: "a pfn libndctl does not list (no modalias) leaves the namespace its own block/, none here",
		Build: func(s *sysfsTree) {
			fileOn(pmemNamespace{n: 1, mode: "memory", holder: "pfn0.1", bdev: "pmem0"})(s)
			s.remove(region0 + "/pfn0.1/modalias")
		}, Open: "data", File: true, Mode: "r", Root: fileOnNoPmem},
	{Name: "a namespace libndctl does not list (no force_raw) is not looked at",
		Build: func(s *sysfsTree) {
			fileOn(pmemNamespace{n: 1, mode: "memory", bdev: "pmem0"})(s)
			s.remove(region0 + "/namespace0.1/force_raw")
		}, Open: "data", File: true, Mode: "r", Root: fileOnNoPmem},
	{Name: "a namespace held by an nd_dax is no regular file's, whatever its block/", Build: func(s *sysfsTree) {
		dimmDAX(0)(s)
		p := s.dataFile("data", map[int64]string{0: "x"})
		s.file(ns0+"/block/pmem0/dev", stDev(p)+"\n")
		s.linkTo("block/pmem0", ns0+"/block/pmem0")
	}, Open: "data", File: true, Mode: "r", Root: fileOnNoPmem},
}

// ptr is &r.
func ptr(r regionResult) *regionResult { return &r }

// papr makes ndbus0 a papr_scm bus (of_node/compatible), nmem0 a DIMM of
// compatible compat in region0's set, papr/id "papr-id" and papr/handle,
// phys_id and dirty_shutdown 3, with papr/flags unless flags is false.
func papr(compat string, flags bool) func(*sysfsTree) {
	return func(s *sysfsTree) {
		s.busDAX("1:5")
		s.file(ndBusDir+"/provider", "papr_scm\n")
		s.file(ndBusDir+"/of_node/compatible", "ibm,pmemory\n")
		d := s.nvdimm(0, "", "")
		s.file(ndBusDir+"/of_node/compatible", compat+"\n")
		for name, v := range map[string]string{"papr/id": "papr-id\n", "papr/handle": "0x1\n", "papr/phys_id": "0x2\n",
			"papr/dirty_shutdown": "3\n"} {
			s.file(d+"/"+name, v)
		}
		if flags {
			s.file(d+"/papr/flags", "\n")
		}
		s.interleave(0)
	}
}

// fileOn is the one-DIMM Device DAX tree plus the file "data" of the tree
// (4 KiB at 0, 8 KiB at 1 MiB, a hole between) on the namespace ns, whose
// block device is numbered as the file's file system, and bad blocks in
// the file's extents (see fileBadblocks) in both lists: the block device's
// and the region's.
func fileOn(ns pmemNamespace) func(*sysfsTree) {
	return func(s *sysfsTree) {
		dimmDAX(0)(s)
		p := s.dataFile("data", map[int64]string{0: strings.Repeat("a", 4096), mib: strings.Repeat("b", 8192)})
		ns.devno = stDev(p)
		dir := s.pmemNS(ns)
		dev, region, _, _ := fileBadblocks(s)
		s.file(dir+"/badblocks", dev)
		s.badblocks(region)
	}
}

// nsStart is where the namespaces of pmemNS start in region0.
const nsStart = 16 * mib

// fileBadblocks plans the bad blocks of the file "data" of tree s from its
// extents (FIEMAP, as the kernel gives them now): the first 4 KiB of its
// first extent, one sector 1 KiB into its second, and sector 0 of the
// device, which no file's extent holds. It returns the lines for the
// block device's list (device offsets) and for the region's (shifted by
// the namespace's start), the bad blocks of the file C returns for them
// (pmem2_badblock_next: cut to the extent, moved to the file's offset,
// widened to st_blksize), or the errno of FIEMAP.
func fileBadblocks(s *sysfsTree) (dev, region string, want []BadBlock, errno syscall.Errno) {
	exts, blk, errno := testExtents(s.base + "/data")
	if errno != 0 {
		return "", "", nil, errno
	}
	type plan struct{ phys, length uint64 }
	var plans []plan
	if len(exts) > 0 {
		plans = append(plans, plan{exts[0].physical, 4096})
	}
	plans = append(plans, plan{0, 512})
	if len(exts) > 1 {
		plans = append(plans, plan{exts[1].physical + 1024, 512})
	}
	for _, p := range plans {
		dev += fmt.Sprintf("%d %d\n", p.phys/512, p.length/512)
		region += fmt.Sprintf("%d %d\n", (p.phys+nsStart)/512, p.length/512)
		for _, e := range exts {
			if p.phys >= e.physical && p.phys+p.length <= e.physical+e.length {
				off := p.phys - e.physical + e.logical
				length := p.length + off%blk
				off -= off % blk
				want = append(want, bb(off, (length+blk-1)/blk*blk))
			}
		}
	}
	return dev, region, want, 0
}

// testExtents is the extents of the file at p and its st_blksize, or the
// errno of FIEMAP.
func testExtents(p string) ([]extent, uint64, syscall.Errno) {
	fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		panic(err)
	}
	defer syscall.Close(fd)
	x, ferr := (&Source{fd: fd, typ: FileTypeRegular}).newFileExtents("test")
	if ferr != nil {
		return nil, 0, syscall.Errno(-CodeOf(ferr))
	}
	if err := x.load("test"); err != nil {
		return nil, 0, syscall.Errno(-CodeOf(err))
	}
	return x.exts, x.blksize, 0
}

// fileWant is what the four functions return for the file "data" of
// fileOn on the one-DIMM tree: bounded by the namespace's 0400 resource
// when its bad blocks come from the region's list.
func fileWant(regionList bool) func(s *sysfsTree, root bool) regionResult {
	return func(s *sysfsTree, root bool) regionResult {
		_, _, want, errno := fileBadblocks(s)
		r := found(0, id0, 7, want...)
		switch {
		case errno != 0:
			r = r.withBB(errnoCode(errno))
		case regionList && !root:
			r = r.withBB(ErrCannotReadBounds)
		}
		return r
	}
}

// emptyFileWant is what the four functions return for an empty file on
// fsdax: FIEMAP over [0, 0), which the kernel refuses.
func emptyFileWant(s *sysfsTree, root bool) regionResult {
	_, _, errno := testExtents(s.base + "/data")
	return onDIMM0.withBB(errnoCode(errno))
}

// fileDev is fileOn(fsdax pmem0) with pmem0's dev attribute written by
// content from the file's "major:minor".
func fileDev(content func(devno string) string) func(*sysfsTree) {
	return func(s *sysfsTree) {
		fileOn(pmemNamespace{n: 1, mode: "memory", bdev: "pmem0"})(s)
		s.file(region0+"/namespace0.1/block/pmem0/dev", content(stDev(s.base+"/data")))
	}
}
