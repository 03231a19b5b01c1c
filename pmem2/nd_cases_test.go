package pmem2

import (
	"math"
	"os"
	"strconv"
	"strings"
)

// The trees below are what Size and Alignment are tested on, by the Go
// port here (nd_test.go) and by the C library (nd_c_test.go), as root and
// as uid 65534. Each expectation is read from the sources: PMDK 1.12.1's
// pmem2_device_dax_size and _alignment (pmem2_utils_ndctl.c) over
// pmem2_region_namespace (region_namespace_ndctl.c), and ndctl 76.1's
// libndctl.c, libdaxctl.c and util/sysfs.c behind them. In short:
//
//   - the size is ndctl_dax_get_size of the nd_dax found: its size attribute
//     as strtoull(buf, NULL, 0) reads it (no format check), ULLONG_MAX when
//     libndctl could not read it;
//   - the alignment is ndctl_dax_get_align: its align attribute as
//     strtoul(buf, NULL, 0), 0 when unreadable; it must be a power of two;
//   - with no nd_dax found, C crashes; the port returns the codes of C's
//     own branch for a namespace without nd_dax.

// ndWant is one call's expected outcome: a value, or a code.
type ndWant struct {
	V    uint64
	Code Code
}

// ndResult is what Size and Alignment return on a tree, or, for the C
// library, that it crashes (SIGSEGV) or blocks in both calls.
type ndResult struct {
	Size, Align ndWant
	Crash, Hang bool
}

func (r ndResult) String() string {
	switch {
	case r.Crash:
		return "crash"
	case r.Hang:
		return "hang"
	}
	f := func(w ndWant) string {
		if w.Code != 0 {
			return w.Code.Name()
		}
		return strconv.FormatUint(w.V, 10)
	}
	return "size " + f(r.Size) + ", alignment " + f(r.Align)
}

// ndCase is one tree. Root is what both libraries return as root; Nobody,
// when set, what they return as uid 65534. CRoot and CNobody, when set,
// are where the C library does something else: it crashes where the port
// returns the documented codes or values, or blocks where the port cannot.
type ndCase struct {
	Name  string
	Build func(s *sysfsTree)
	// Open is the host node whose descriptor both libraries get; its
	// device number is the Device DAX's. "/dev/zero" (1:5) when empty.
	Open           string
	Root           ndResult
	Nobody         *ndResult
	CRoot, CNobody *ndResult
	CrashBothUsers bool // shorthand: CRoot = CNobody = crash
}

// Want is the expected result for the Go port (c false) or the C library
// as root or not.
func (c ndCase) Want(root, cside bool) ndResult {
	w := c.Root
	if !root && c.Nobody != nil {
		w = *c.Nobody
	}
	if !cside {
		return w
	}
	if c.CrashBothUsers {
		return ndResult{Crash: true}
	}
	if root && c.CRoot != nil {
		return *c.CRoot
	}
	if !root && c.CNobody != nil {
		return *c.CNobody
	}
	return w
}

func (c ndCase) OpenPath() string {
	if c.Open == "" {
		return "/dev/zero"
	}
	return c.Open
}

func ok(size, align uint64) ndResult { return ndResult{Size: ndWant{V: size}, Align: ndWant{V: align}} }

// withAlign is a healthy size with an alignment failing with code.
func withAlign(size uint64, code Code) ndResult {
	return ndResult{Size: ndWant{V: size}, Align: ndWant{Code: code}}
}

// notFound is the port's answer where libndctl finds no namespace holding
// the device: the C library crashes there.
var notFound = ndResult{Size: ndWant{Code: ErrDAXRegionNotFound}, Align: ndWant{Code: ErrInvalidAlignmentFormat}}

var (
	healthy = ok(testDAXSize, testDAXSize)
	crash   = &ndResult{Crash: true}
	hang    = &ndResult{Hang: true}
)

// set writes an attribute of the default tree; del removes one.
func set(rel, content string) func(*sysfsTree) {
	return func(s *sysfsTree) { s.busDAX("1:5"); s.file(rel, content) }
}
func del(rel string) func(*sysfsTree) {
	return func(s *sysfsTree) { s.busDAX("1:5"); s.remove(rel) }
}
func chmod(rel string, mode os.FileMode) func(*sysfsTree) {
	return func(s *sysfsTree) { s.busDAX("1:5"); s.chmod(rel, mode) }
}

const (
	gib = 1 << 30
	mib = 1 << 20
)

// ndCases are the trees, grouped as the package documentation explains
// the rules.
var ndCases = []ndCase{
	// The device, found as libndctl finds it.
	{Name: "a healthy Device DAX on the dax bus has its nd_dax's size and alignment, for root and uid 65534 alike " +
		"(the 0400 resource and dax_region/align are not needed)",
		Build: func(s *sysfsTree) { s.busDAX("1:5") }, Root: healthy},
	{Name: "a healthy Device DAX of the class model has its nd_dax's size and alignment",
		Build: func(s *sysfsTree) { s.classDAX("1:5") }, Root: healthy},
	{Name: "the nd_dax's size and align win over the device's own size, align and dax_region/align",
		Build: func(s *sysfsTree) {
			s.busDAX("1:5")
			s.file(ndDax0+"/size", "1073741824\n")
			s.file(ndDax0+"/align", "1073741824\n")
			s.file(daxRegionDir+"/size", "4194304\n")
			s.fileMode(daxRegionDir+"/align", "4096\n", 0o400)
			s.file(busDevDir+"/align", "4096\n")
		}, Root: ok(gib, gib)},
	{Name: "a Device DAX without dax_region is found all the same", Build: del(daxRegionDir), Root: healthy},
	{Name: "the device's own size may hold anything libdaxctl can read", Build: set(busDevDir+"/size", "junk\n"), Root: healthy},
	{Name: "a device named like its nd_dax, as the kernel names them (region0/dax0.0/dax0.0), is found",
		Build: func(s *sysfsTree) {
			s.ndRegion(s.ndBus(0), 0)
			s.ndDAX(daxDev{region: region0, ns: "namespace0.0", ndDax: "dax0.0", name: "dax0.0", rdev: "1:5", size: gib, align: 2 * mib})
		}, Root: ok(gib, 2*mib)},

	// The nd_dax's size: strtoull(buf, NULL, 0), ULLONG_MAX when unreadable.
	{Name: "a hex nd_dax size is read as hex", Build: set(ndDax0+"/size", "0x40000000\n"), Root: ok(gib, testDAXSize)},
	{Name: "an nd_dax size with a leading 0 is octal", Build: set(ndDax0+"/size", "010\n"), Root: ok(8, testDAXSize)},
	{Name: "an nd_dax size needs no newline", Build: set(ndDax0+"/size", "4096"), Root: ok(4096, testDAXSize)},
	{Name: "an nd_dax size stops at the first non-digit", Build: set(ndDax0+"/size", "  42abc\n"), Root: ok(42, testDAXSize)},
	{Name: "a word as nd_dax size is 0", Build: set(ndDax0+"/size", "junk\n"), Root: ok(0, testDAXSize)},
	{Name: "an empty nd_dax size is 0", Build: set(ndDax0+"/size", ""), Root: ok(0, testDAXSize)},
	{Name: "an nd_dax size of -1 wraps to ULLONG_MAX", Build: set(ndDax0+"/size", "-1\n"), Root: ok(math.MaxUint64, testDAXSize)},
	{Name: "an nd_dax size past 2^64 saturates at ULLONG_MAX", Build: set(ndDax0+"/size", "18446744073709551616\n"),
		Root: ok(math.MaxUint64, testDAXSize)},
	{Name: "a missing nd_dax size is ULLONG_MAX", Build: del(ndDax0 + "/size"), Root: ok(math.MaxUint64, testDAXSize)},
	{Name: "an nd_dax size that is a directory is ULLONG_MAX", Build: func(s *sysfsTree) {
		s.busDAX("1:5")
		s.remove(ndDax0 + "/size")
		s.dir(ndDax0 + "/size")
	}, Root: ok(math.MaxUint64, testDAXSize)},
	{Name: "an nd_dax size of mode 0400 is ULLONG_MAX for uid 65534 only", Build: chmod(ndDax0+"/size", 0o400),
		Root: healthy, Nobody: &ndResult{Size: ndWant{V: math.MaxUint64}, Align: ndWant{V: testDAXSize}}},
	{Name: "an nd_dax size that is a FIFO reads as empty, 0, where C blocks", Build: func(s *sysfsTree) {
		s.busDAX("1:5")
		s.fifo(ndDax0 + "/size")
	}, Root: ok(0, testDAXSize), CRoot: hang, CNobody: hang},

	// The nd_dax's align: strtoul(buf, NULL, 0), 0 when unreadable, a power
	// of two required.
	{Name: "a page-sized nd_dax align is read", Build: set(ndDax0+"/align", "4096\n"), Root: ok(testDAXSize, 4096)},
	{Name: "a hex nd_dax align is read as hex", Build: set(ndDax0+"/align", "0x200000\n"), Root: healthy},
	{Name: "an nd_dax align with a leading 0 is octal", Build: set(ndDax0+"/align", "010\n"), Root: ok(testDAXSize, 8)},
	{Name: "an nd_dax align of 2M is 2, a power of two", Build: set(ndDax0+"/align", "2M\n"), Root: ok(testDAXSize, 2)},
	{Name: "2^63 is a power of two", Build: set(ndDax0+"/align", "9223372036854775808\n"), Root: ok(testDAXSize, 1<<63)},
	{Name: "a decimal nd_dax align that is no power of two is an invalid alignment value",
		Build: set(ndDax0+"/align", "1000\n"), Root: withAlign(testDAXSize, ErrInvalidAlignmentValue)},
	{Name: "a zero nd_dax align is an invalid alignment value", Build: set(ndDax0+"/align", "0\n"),
		Root: withAlign(testDAXSize, ErrInvalidAlignmentValue)},
	{Name: "a negative nd_dax align is an invalid alignment value", Build: set(ndDax0+"/align", "-4096\n"),
		Root: withAlign(testDAXSize, ErrInvalidAlignmentValue)},
	{Name: "an nd_dax align past 2^64 is ULONG_MAX, an invalid alignment value",
		Build: set(ndDax0+"/align", "18446744073709551616\n"), Root: withAlign(testDAXSize, ErrInvalidAlignmentValue)},
	{Name: "a missing nd_dax align is 0, an invalid alignment value", Build: del(ndDax0 + "/align"),
		Root: withAlign(testDAXSize, ErrInvalidAlignmentValue)},
	{Name: "an nd_dax align of mode 0400 is 0 for uid 65534 only", Build: chmod(ndDax0+"/align", 0o400),
		Root: healthy, Nobody: &ndResult{Size: ndWant{V: testDAXSize}, Align: ndWant{Code: ErrInvalidAlignmentValue}}},

	// Where libdaxctl cannot match the device, C crashes; the port returns
	// the codes of C's branch for a namespace without nd_dax.
	{Name: "a Device DAX without NVDIMM bus (dax_hmem) is not found", Build: hmemDAX, Root: notFound, CrashBothUsers: true},
	{Name: "a Device DAX without /dev node is not found", Build: func(s *sysfsTree) { s.busDAX("1:5"); s.devNode("dax0.0", "") },
		Root: notFound, CrashBothUsers: true},
	{Name: "a Device DAX whose /dev node has another number is not found",
		Build: func(s *sysfsTree) { s.busDAX("1:5"); s.devNode("dax0.0", "/dev/null") }, Root: notFound, CrashBothUsers: true},
	{Name: "a Device DAX whose /dev node is a regular file is not found", Build: func(s *sysfsTree) {
		s.busDAX("1:5")
		s.devNode("dax0.0", "")
		if err := os.WriteFile(s.devPath("dax0.0"), []byte("not a device\n"), 0o644); err != nil {
			s.t.Fatal(err)
		}
	}, Root: notFound, CrashBothUsers: true},
	{Name: "a device without size attribute is left out by libdaxctl: not found", Build: del(busDevDir + "/size"),
		Root: notFound, CrashBothUsers: true},
	{Name: "a device whose size is a directory is left out by libdaxctl: not found", Build: func(s *sysfsTree) {
		s.busDAX("1:5")
		s.remove(busDevDir + "/size")
		s.dir(busDevDir + "/size")
	}, Root: notFound, CrashBothUsers: true},
	{Name: "a device whose size is mode 0400 is left out for uid 65534 only", Build: chmod(busDevDir+"/size", 0o400),
		Root: healthy, Nobody: &notFound, CNobody: crash},
	{Name: "a device not named after its region (dax1.0 in region0), and not in bus/dax under that number, is not listed by libdaxctl",
		Build: func(s *sysfsTree) {
			s.ndRegion(s.ndBus(0), 0)
			s.ndDAX(daxDev{region: region0, ns: "namespace0.0", ndDax: "dax0.1", name: "dax1.0", rdev: "1:5", size: gib, align: 2 * mib})
			s.remove("bus/dax/devices/dax1.0")
		}, Root: notFound, CrashBothUsers: true},
	{Name: "an nd_dax not named after its region (dax1.1 in region0) is not listed by libndctl",
		Build: func(s *sysfsTree) {
			s.ndRegion(s.ndBus(0), 0)
			s.ndDAX(daxDev{region: region0, ns: "namespace0.0", ndDax: "dax1.1", name: "dax0.0", rdev: "1:5", size: gib, align: 2 * mib})
		}, Root: notFound, CrashBothUsers: true},
	{Name: "a region not named regionN is not listed by libndctl", Build: func(s *sysfsTree) {
		r := s.ndRegion(s.ndBus(0), 0)
		s.ndDAX(daxDev{region: r, ns: "namespace0.0", ndDax: "dax0.1", name: "dax0.0", rdev: "1:5", size: gib, align: 2 * mib})
		renameDAX(s, r, ndBusDir+"/regionX")
	}, Root: notFound, CrashBothUsers: true},

	// What ties the nd_dax to a namespace and the attributes libndctl
	// reads only to add the bus, region, namespace or nd_dax to its lists:
	// when one is missing, libndctl leaves the device out and C crashes;
	// the port does not read them and returns the nd_dax's values (the
	// package documentation says why).
	{Name: "an nd_dax no namespace holds: C crashes, the port reads on", Build: set(ns0+"/holder", "\n"),
		Root: healthy, CrashBothUsers: true},
	{Name: "an nd_dax whose namespace has no holder attribute: C crashes, the port reads on", Build: del(ns0 + "/holder"),
		Root: healthy, CrashBothUsers: true},
	{Name: "an nd_dax whose namespace holds another nd_dax: C crashes, the port reads on", Build: set(ns0+"/holder", "dax0.2\n"),
		Root: healthy, CrashBothUsers: true},
	{Name: "a holder with a trailing space names no nd_dax: C crashes, the port reads on", Build: set(ns0+"/holder", "dax0.1 \n"),
		Root: healthy, CrashBothUsers: true},
	{Name: "a namespace not named after its region (namespace1.0 in region0): C crashes, the port reads on",
		Build: func(s *sysfsTree) {
			s.ndRegion(s.ndBus(0), 0)
			s.ndDAX(daxDev{region: region0, ns: "namespace1.0", ndDax: "dax0.1", name: "dax0.0", rdev: "1:5", size: gib, align: 2 * mib})
		}, Root: ok(gib, 2*mib), CrashBothUsers: true},
	{Name: "a bus without commands: C crashes, the port reads on", Build: del(ndBusDir + "/commands"), Root: healthy, CrashBothUsers: true},
	{Name: "a bus without provider: C crashes, the port reads on", Build: del(ndBusDir + "/provider"), Root: healthy, CrashBothUsers: true},
	{Name: "a bus missing from class/nd: C crashes, the port reads on", Build: del("class/nd/ndctl0"), Root: healthy, CrashBothUsers: true},
	{Name: "a bus whose control device's dev is not major:minor: C crashes, the port reads on",
		Build: set(ndBusDir+"/ndctl0/dev", "250\n"), Root: healthy, CrashBothUsers: true},
	{Name: "a bus whose control device's dev leads nowhere: C crashes, the port reads on",
		Build: set(ndBusDir+"/ndctl0/dev", "250:7\n"), Root: healthy, CrashBothUsers: true},
	{Name: "a region without size: C crashes, the port reads on", Build: del(region0 + "/size"), Root: healthy, CrashBothUsers: true},
	{Name: "a region without mappings: C crashes, the port reads on", Build: del(region0 + "/mappings"), Root: healthy, CrashBothUsers: true},
	{Name: "a region without read_only: C crashes, the port reads on", Build: del(region0 + "/read_only"), Root: healthy, CrashBothUsers: true},
	{Name: "a region without modalias: C crashes, the port reads on", Build: del(region0 + "/modalias"), Root: healthy, CrashBothUsers: true},
	{Name: "a region without nstype: C crashes, the port reads on", Build: del(region0 + "/nstype"), Root: healthy, CrashBothUsers: true},
	{Name: "a pmem-type region without set_cookie: C crashes, the port reads on", Build: set(region0+"/nstype", "5\n"),
		Root: healthy, CrashBothUsers: true},
	{Name: "a namespace without nstype: C crashes, the port reads on", Build: del(ns0 + "/nstype"), Root: healthy, CrashBothUsers: true},
	{Name: "a namespace without size: C crashes, the port reads on", Build: del(ns0 + "/size"), Root: healthy, CrashBothUsers: true},
	{Name: "a namespace without force_raw: C crashes, the port reads on", Build: del(ns0 + "/force_raw"), Root: healthy, CrashBothUsers: true},
	{Name: "a namespace without modalias: C crashes, the port reads on", Build: del(ns0 + "/modalias"), Root: healthy, CrashBothUsers: true},
	{Name: "a pmem-type namespace without alt_name: C crashes, the port reads on", Build: labelled(false, "706d656d-0000-4000-8000-0000000000ff\n"),
		Root: healthy, CrashBothUsers: true},
	{Name: "a pmem-type namespace with a malformed uuid: C crashes, the port reads on", Build: labelled(true, "not-a-uuid\n"),
		Root: healthy, CrashBothUsers: true},
	{Name: "a blk-type namespace without sector_size: C crashes, the port reads on", Build: func(s *sysfsTree) {
		labelled(true, "\n")(s)
		s.file(ns0+"/nstype", "6\n")
	}, Root: healthy, CrashBothUsers: true},
	{Name: "an nd_dax without modalias: C crashes, the port reads on", Build: del(ndDax0 + "/modalias"), Root: healthy, CrashBothUsers: true},
	{Name: "an nd_dax without uuid: C crashes, the port reads on", Build: del(ndDax0 + "/uuid"), Root: healthy, CrashBothUsers: true},
	{Name: "an nd_dax with a malformed uuid: C crashes, the port reads on", Build: set(ndDax0+"/uuid", "706d656d-0000-4000-8000-00000000000\n"),
		Root: healthy, CrashBothUsers: true},
	{Name: "an nd_dax without mode: C crashes, the port reads on", Build: del(ndDax0 + "/mode"), Root: healthy, CrashBothUsers: true},
	{Name: "an nd_dax of mode \"devdax\": C crashes, the port reads on", Build: set(ndDax0+"/mode", "devdax\n"), Root: healthy, CrashBothUsers: true},
	{Name: "an nd_dax offering two selected alignments: C crashes, the port reads on",
		Build: set(ndDax0+"/supported_alignments", "[4096] [2097152] \n"), Root: healthy, CrashBothUsers: true},
	// … and where libndctl tolerates them, C and the port agree.
	{Name: "a pmem-type region with set_cookie is listed", Build: func(s *sysfsTree) {
		s.busDAX("1:5")
		s.file(region0+"/nstype", "5\n")
		s.file(region0+"/set_cookie", "0x1\n")
	}, Root: healthy},
	{Name: "a pmem-type namespace with alt_name and an empty uuid is listed", Build: labelled(true, "\n"), Root: healthy},
	{Name: "a pmem-type namespace with alt_name and a uuid is listed",
		Build: labelled(true, "706d656d-0000-4000-8000-0000000000ff\n"), Root: healthy},
	{Name: "an nd_dax with an empty uuid is listed", Build: set(ndDax0+"/uuid", "\n"), Root: healthy},
	{Name: "an nd_dax of mode none is listed", Build: set(ndDax0+"/mode", "none\n"), Root: healthy},
	{Name: "an nd_dax of mode ram is listed", Build: set(ndDax0+"/mode", "ram\n"), Root: healthy},
	{Name: "an nd_dax without supported_alignments is listed", Build: del(ndDax0 + "/supported_alignments"), Root: healthy},
	{Name: "an nd_dax with one selected alignment is listed",
		Build: set(ndDax0+"/supported_alignments", "4096 [2097152] 1073741824 \n"), Root: healthy},
	{Name: "supported_alignments are read up to the first field that is no number",
		Build: set(ndDax0+"/supported_alignments", "[4096] x [2097152] \n"), Root: healthy},
	{Name: "the attributes libndctl may miss are not needed", Build: func(s *sysfsTree) {
		s.busDAX("1:5")
		for _, a := range []string{region0 + "/numa_node", region0 + "/align", region0 + "/persistence_domain",
			region0 + "/resource", ns0 + "/resource", ns0 + "/numa_node", ns0 + "/holder_class", ndDax0 + "/resource",
			busDevDir + "/resource", busDevDir + "/align", ndBusDir + "/wait_probe"} {
			s.remove(a)
		}
	}, Root: healthy},

	// Several buses, regions, namespaces and devices: each descriptor
	// gets the values of its own nd_dax.
	{Name: "of two regions, a device in the second gets its nd_dax's values", Build: twoRegions, Open: "/dev/null",
		Root: ok(gib, 4096)},
	{Name: "of two regions, a device in the first gets its nd_dax's values", Build: twoRegions, Root: healthy},
	{Name: "of two namespaces in a region, the second's device gets its nd_dax's values", Build: func(s *sysfsTree) {
		s.busDAX("1:5")
		s.ndDAX(daxDev{region: region0, ns: "namespace0.1", ndDax: "dax0.2", name: "dax0.1", rdev: "1:3", size: gib, align: gib})
	}, Open: "/dev/null", Root: ok(gib, gib)},
	{Name: "a second device of one nd_dax gets that nd_dax's values", Build: func(s *sysfsTree) {
		s.busDAX("1:5")
		s.daxDevice(ndDax0, "dax0.7", "1:3", false, mib, 4096)
	}, Open: "/dev/null", Root: healthy},
	{Name: "idle seed devices (namespace, nd_dax, pfn, btt) change nothing", Build: func(s *sysfsTree) {
		s.busDAX("1:5")
		seeds(s, region0, 0)
	}, Root: healthy},
	{Name: "of two buses, a device on the second gets its nd_dax's values", Build: func(s *sysfsTree) {
		s.busDAX("1:5")
		r := s.ndRegion(s.ndBus(1), 1)
		s.ndDAX(daxDev{region: r, ns: "namespace1.0", ndDax: "dax1.1", name: "dax1.0", rdev: "1:3", size: gib, align: 4096})
	}, Open: "/dev/null", Root: ok(gib, 4096)},
	{Name: "a class-model device beside bus-model ones gets its nd_dax's values", Build: func(s *sysfsTree) {
		twoRegions(s)
		r := s.ndRegion(ndBusDir, 2)
		s.ndDAX(daxDev{region: r, ns: "namespace2.0", ndDax: "dax2.1", name: "dax2.0", rdev: "1:7", class: true, size: 4 * mib, align: 2 * mib})
	}, Open: "/dev/full", Root: ok(4*mib, 2*mib)},
	{Name: "an nd_dax whose namespace attribute is wrong is found through the holder of its namespace",
		Build: set(ndDax0+"/namespace", "namespace0.9\n"), Root: healthy},
	{Name: "an nd_dax without namespace attribute is found through the holder of its namespace",
		Build: del(ndDax0 + "/namespace"), Root: healthy},
	{Name: "an nd_dax held by two namespaces is found", Build: func(s *sysfsTree) {
		s.busDAX("1:5")
		s.file(region0+"/namespace0.3/nstype", "4\n")
		s.file(region0+"/namespace0.3/holder", "dax0.1\n")
	}, Root: healthy},

	// Where the device's own link in sysfs misleads, libdaxctl still
	// lists it in its nd_dax, and so does the port's walk.
	{Name: "a dev/char entry leading to a copy of the device outside the bus: the device is where libdaxctl lists it",
		Build: func(s *sysfsTree) {
			s.busDAX("1:5")
			s.file("devices/virtual/copy/dax0.0/size", "4096\n")
			s.linkTo("devices/virtual/copy/dax0.0/subsystem", "bus/dax")
			s.linkTo("dev/char/1:5", "devices/virtual/copy/dax0.0")
		}, Root: healthy},
	{Name: "a dev/char entry that is a directory of its own: the device is where libdaxctl lists it",
		Build: func(s *sysfsTree) {
			s.busDAX("1:5")
			s.remove("dev/char/1:5")
			s.linkTo("dev/char/1:5/subsystem", "bus/dax")
		}, Root: healthy},
	{Name: "a device named after another region, listed in bus/dax under that number, is found by libdaxctl",
		Build: func(s *sysfsTree) {
			s.ndRegion(s.ndBus(0), 0)
			s.ndDAX(daxDev{region: region0, ns: "namespace0.0", ndDax: "dax0.1", name: "dax5.0", rdev: "1:5", size: gib, align: 2 * mib})
		}, Root: ok(gib, 2*mib)},
	{Name: "a device named after another region, listed in class/dax under that number, is found by libdaxctl",
		Build: func(s *sysfsTree) {
			s.ndRegion(s.ndBus(0), 0)
			s.ndDAX(daxDev{region: region0, ns: "namespace0.0", ndDax: "dax0.1", name: "dax5.0", rdev: "1:5", class: true, size: gib, align: 2 * mib})
		}, Root: ok(gib, 2*mib)},
}

// labelled turns namespace0.0 into a label-backed (pmem-type) namespace,
// with alt_name or not, and a uuid attribute holding uuid ("": none).
func labelled(altName bool, uuid string) func(*sysfsTree) {
	return func(s *sysfsTree) {
		s.busDAX("1:5")
		s.file(ns0+"/nstype", "5\n")
		if altName {
			s.file(ns0+"/alt_name", "\n")
		}
		if uuid != "" {
			s.file(ns0+"/uuid", uuid)
		}
	}
}

// twoRegions is the default dax0.0 (1:5) in region0 and dax1.0 (1:3, 1 GiB,
// 4 KiB aligned) in region1 of the same bus.
func twoRegions(s *sysfsTree) {
	s.busDAX("1:5")
	r := s.ndRegion(ndBusDir, 1)
	s.ndDAX(daxDev{region: r, ns: "namespace1.0", ndDax: "dax1.1", name: "dax1.0", rdev: "1:3", size: gib, align: 4096})
}

// seeds adds the idle devices the kernel keeps in a region for
// configuration: a namespace without size or holder, an unclaimed nd_dax,
// and pfn and btt seeds.
func seeds(s *sysfsTree, region string, id int) {
	n := func(kind string, i int) string { return region + "/" + kind + strconv.Itoa(id) + "." + strconv.Itoa(i) }
	for name, v := range map[string]string{"nstype": "4\n", "size": "0\n", "holder": "\n", "force_raw": "0\n", "modalias": "nd:t4\n"} {
		s.file(n("namespace", 9)+"/"+name, v)
	}
	for name, v := range map[string]string{"modalias": "nd:t7\n", "uuid": "\n", "mode": "none\n", "namespace": "\n",
		"align": "2097152\n", "size": "0\n"} {
		s.file(n("dax", 9)+"/"+name, v)
	}
	s.file(n("pfn", 0)+"/mode", "none\n")
	s.file(n("btt", 0)+"/uuid", "\n")
	for _, seed := range []string{"namespace_seed", "dax_seed", "pfn_seed", "btt_seed"} {
		s.file(region+"/"+seed, strings.TrimSuffix(seed, "_seed")+strconv.Itoa(id)+".9\n")
	}
}

// hmemDAX is a Device DAX that dax_hmem created: under
// platform/hmem.0, no NVDIMM bus anywhere.
func hmemDAX(s *sysfsTree) {
	dev := "devices/platform/hmem.0/dax0.0"
	s.file(dev+"/dev", "1:5\n")
	s.file(dev+"/size", "1073741824\n")
	s.file(dev+"/align", "2097152\n")
	s.file("devices/platform/hmem.0/dax_region/align", "2097152\n")
	s.linkTo(dev+"/subsystem", "bus/dax")
	s.linkTo("bus/dax/devices/dax0.0", dev)
	s.linkTo("dev/char/1:5", dev)
	s.devNode("dax0.0", "/dev/zero")
}

// renameDAX moves a directory of the default layout and fixes the links
// that pointed into it.
func renameDAX(s *sysfsTree, from, to string) {
	s.t.Helper()
	if err := os.Rename(s.path(from), s.path(to)); err != nil {
		s.t.Fatal(err)
	}
	dev := to + strings.TrimPrefix(busDevDir, from)
	s.linkTo("dev/char/1:5", dev)
	s.linkTo("bus/dax/devices/dax0.0", dev)
	s.linkTo(dev+"/subsystem", "bus/dax")
}
