package conformance

// reason is why Go and C differ on purpose, as the suite prints it beside
// the case (the pmem2 package doc states the rules behind it).
type reason struct {
	label string
	text  string
	// goFails is set where C crashes and Go must return an error in every
	// call in which C crashed.
	goFails bool
}

// difference is a known difference of one case: the documented Go result
// and C's observed one, both asserted, so a change on either side fails.
type difference struct {
	goWant, cWant string
	why           *reason
}

var (
	sizeFile = &reason{label: "size file",
		text: "Go reads a Device DAX's size from <sysfs>/dev/char/M:m/size, as PMDK 1.9 did, and parses it like strtoull " +
			"(\"\\n\" required, overflow -ERANGE). libpmem2 1.12 asks libndctl for the size of the nd_dax device above it and " +
			"never reads that file for the value: a malformed or overflowing size file is an error in Go and invisible to C."}
	alignFile = &reason{label: "dax_region/align",
		text: "Go reads the alignment from the first dax_region/align above the device (decimal, then hex, power of two " +
			"required), as PMDK 1.9 did. libpmem2 1.12 reads the nd_dax's align through libndctl: a malformed, " +
			"non-power-of-two or overflowing dax_region/align is an error in Go and invisible to C."}
	noRegion = &reason{label: "no dax_region",
		text: "Without a dax_region/ directory above the device (NVDIMM bus present) Go's walk finds no alignment: Size " +
			"fails with PMEM2_E_DAX_REGION_NOT_FOUND and Alignment with PMEM2_E_INVALID_ALIGNMENT_VALUE, its documented " +
			"choice. C takes both values from the nd_dax through libndctl and succeeds."}
	noBus = &reason{label: "no NVDIMM bus: C crashes", goFails: true,
		text: "A Device DAX outside any NVDIMM region (\"nd_bus\": false, the device under platform/hmem.R, as with " +
			"HMAT/soft-reserved memory): libndctl finds no namespace holding the device, libpmem2 1.12 dereferences the " +
			"NULL namespace and the process dies with SIGSEGV, in pmem2_source_size and in pmem2_source_alignment alike. " +
			"Go returns PMEM2_E_DAX_REGION_NOT_FOUND for Size and PMEM2_E_INVALID_ALIGNMENT_VALUE for Alignment."}
	unreadableSize = &reason{label: "unreadable size: C crashes",
		text: "A Device DAX whose own size attribute cannot be read (a read failing with EIO, or a directory where the file " +
			"should be): libdaxctl leaves the device out while it enumerates the region, libndctl finds no match and " +
			"libpmem2 1.12 crashes (SIGSEGV) in both pmem2_source_size and pmem2_source_alignment. Go reports the " +
			"failing read as Size's error (-EIO, -EISDIR) and still reads the alignment from the intact dax_region/align."}
	noDevNode = &reason{label: "no /dev node: C crashes",
		text: "A Device DAX whose /dev/<name> is missing or is not a character device with the device's number (the " +
			"descriptor reached it through another node): libdaxctl matches devices by their /dev node, finds none, and " +
			"libpmem2 1.12 crashes (SIGSEGV) in pmem2_source_size and pmem2_source_alignment although the NVDIMM bus " +
			"tree is intact. Go reads sysfs only, never /dev, and returns the size and alignment."}
	intermediatePathMax = &reason{label: "intermediate path beyond PATH_MAX",
		text: "glibc's realpath hands every intermediate path to readlink(2), and the kernel refuses a path argument of " +
			"PATH_MAX bytes or more: a subsystem link whose resolution wanders through a path longer than 4095 bytes and " +
			"back fails with -ENAMETOOLONG in C although the final path is short. The port lets the kernel resolve the " +
			"link (openat O_PATH), which limits only the final path, and classifies the device (its fallback walk, used " +
			"without /proc, behaves as glibc)."}
)

// reasons lists the known differences in the order the table explains
// them.
var reasons = []*reason{sizeFile, alignFile, noRegion, noBus, unreadableSize, noDevNode, intermediatePathMax}

// Results the differences below are made of.
const (
	cDAX1G  = "from_fd 0, size 1073741824, alignment 2097152"
	cCrash2 = "from_fd 0, size SIGSEGV, alignment SIGSEGV"
	goNoReg = "from_fd 0, size PMEM2_E_DAX_REGION_NOT_FOUND, alignment PMEM2_E_INVALID_ALIGNMENT_VALUE"
)

// known holds every difference by design, keyed by fixture, path and mode
// as row.key spells them. The Go results are those emulate.Default
// documents; the C results were observed with Debian's libpmem2 1.12.1
// (ndctl 76.1).
var known = map[string]difference{
	"default dev/dax2.0 path": {"from_fd 0, size PMEM2_E_INVALID_SIZE_FORMAT, alignment 2097152", cDAX1G, sizeFile},
	"default dev/dax2.1 path": {"from_fd 0, size PMEM2_E_INVALID_SIZE_FORMAT, alignment 2097152", cDAX1G, sizeFile},
	"default dev/dax2.2 path": {"from_fd 0, size -ERANGE, alignment 2097152", cDAX1G, sizeFile},
	"default dev/dax2.4 path": {"from_fd 0, size 1073741824, alignment PMEM2_E_INVALID_ALIGNMENT_VALUE", cDAX1G, alignFile},
	"default dev/dax2.6 path": {"from_fd 0, size 1073741824, alignment PMEM2_E_INVALID_ALIGNMENT_FORMAT", cDAX1G, alignFile},
	"default dev/dax2.7 path": {"from_fd 0, size 1073741824, alignment -ERANGE", cDAX1G, alignFile},
	"default dev/dax3.0 path": {goNoReg, cDAX1G, noRegion},
	"default dev/dax4.0 path": {goNoReg, cCrash2, noBus},
	"default dev/dax5.0 path": {"from_fd 0, size -EIO, alignment 2097152", cCrash2, unreadableSize},
	"default dev/dax6.1 path": {"from_fd 0, size -EISDIR, alignment 2097152", cCrash2, unreadableSize},

	"no /dev node data/dax path": {cDAX1G, cCrash2, noDevNode},

	"device mode dev/dax2.0 r":    {goNoReg, cCrash2, noBus},
	"device mode dev/dax2.0 rw":   {goNoReg, cCrash2, noBus},
	"device mode dev/dax2.0 path": {goNoReg, cCrash2, noBus},
	"device mode dev/dax3.0 r":    {goNoReg, cDAX1G, noRegion},
	"device mode dev/dax3.0 rw":   {goNoReg, cDAX1G, noRegion},
	"device mode dev/dax3.0 path": {goNoReg, cDAX1G, noRegion},
}
