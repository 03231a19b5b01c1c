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
	noBus = &reason{label: "no NVDIMM bus: C crashes", goFails: true,
		text: "A Device DAX outside any NVDIMM region (\"nd_bus\": false, the device under platform/hmem.R, as with " +
			"HMAT/soft-reserved memory): libndctl finds no namespace holding the device, libpmem2 1.12 dereferences the " +
			"NULL namespace and the process dies with SIGSEGV, in pmem2_source_size and in pmem2_source_alignment alike. " +
			"Go returns the codes of C's own branch for a namespace without nd_dax: PMEM2_E_DAX_REGION_NOT_FOUND for Size " +
			"and PMEM2_E_INVALID_ALIGNMENT_FORMAT for Alignment."}
	droppedDevice = &reason{label: "device left out by libdaxctl: C crashes", goFails: true,
		text: "A Device DAX whose own size attribute cannot be read (a read failing with EIO, or a directory where the file " +
			"should be): libdaxctl leaves the device out while it lists the nd_dax's devices, libndctl finds no match and " +
			"libpmem2 1.12 crashes (SIGSEGV) in both pmem2_source_size and pmem2_source_alignment. Go reads that file too " +
			"and returns PMEM2_E_DAX_REGION_NOT_FOUND and PMEM2_E_INVALID_ALIGNMENT_FORMAT."}
	noDevNode = &reason{label: "no /dev node: C crashes", goFails: true,
		text: "A Device DAX whose /dev/<name> is missing or is not a character device with the device's number (the " +
			"descriptor reached it through another node): libdaxctl matches devices by their /dev node, finds none, and " +
			"libpmem2 1.12 crashes (SIGSEGV) in pmem2_source_size and pmem2_source_alignment although the NVDIMM bus " +
			"tree is intact. Go stats the same node and returns PMEM2_E_DAX_REGION_NOT_FOUND and " +
			"PMEM2_E_INVALID_ALIGNMENT_FORMAT."}
	noBusDir = &reason{label: "bus directory not found: C crashes", goFails: true,
		text: "sys/dev/char is a link to another directory that holds only the Device DAX's entry: libndctl finds an " +
			"NVDIMM bus's directory through sys/dev/char/<its control device>/device, finds none, drops the bus and " +
			"libpmem2 1.12 crashes (SIGSEGV) in pmem2_source_size and pmem2_source_alignment. Go follows the device's " +
			"own link lexically, which leads nowhere here, walks libndctl's lists as libndctl does, finds no bus either " +
			"and returns PMEM2_E_DAX_REGION_NOT_FOUND and PMEM2_E_INVALID_ALIGNMENT_FORMAT."}
	noHolder = &reason{label: "no namespace holds the nd_dax: C crashes",
		text: "A Device DAX whose nd_dax no namespace names as its holder (the namespace's holder attribute is empty): " +
			"ndctl_namespace_get_dax returns NULL, pmem2_region_namespace takes the namespace for no Device DAX, finds " +
			"nothing, and libpmem2 1.12 crashes (SIGSEGV) in pmem2_source_size and pmem2_source_alignment. The device " +
			"itself matches: Go follows its own link to the nd_dax and returns that nd_dax's size and align, what C " +
			"returns once the holder is back (the only nd_dax C could end at)."}
	intermediatePathMax = &reason{label: "intermediate path beyond PATH_MAX",
		text: "glibc's realpath hands every intermediate path to readlink(2), and the kernel refuses a path argument of " +
			"PATH_MAX bytes or more: a subsystem link whose resolution wanders through a path longer than 4095 bytes and " +
			"back fails with -ENAMETOOLONG in C although the final path is short. The port lets the kernel resolve the " +
			"link (openat O_PATH), which limits only the final path, and classifies the device (its fallback walk, used " +
			"without /proc, behaves as glibc)."}
)

// reasons lists the known differences in the order the table explains
// them.
var reasons = []*reason{noBus, droppedDevice, noDevNode, noBusDir, noHolder, intermediatePathMax}

// Results the differences below are made of.
const (
	cCrash2    = "from_fd 0, size SIGSEGV, alignment SIGSEGV"
	goNotFound = "from_fd 0, size PMEM2_E_DAX_REGION_NOT_FOUND, alignment PMEM2_E_INVALID_ALIGNMENT_FORMAT"
)

// known holds every difference by design, keyed by fixture, path and mode
// as row.key spells them: each is a crash of the C library, where Go
// returns what package pmem2 documents (the PATH_MAX corner is declared
// by its adversarial fixture). The C results were observed with
// Debian's libpmem2 1.12.1 (ndctl 76.1).
var known = map[string]difference{
	"default dev/dax4.0 path": {goNotFound, cCrash2, noBus},
	"default dev/dax5.0 path": {goNotFound, cCrash2, droppedDevice},
	"default dev/dax6.1 path": {goNotFound, cCrash2, droppedDevice},
	"default dev/dax9.0 path": {"from_fd 0, size 1073741824, alignment 2097152", cCrash2, noHolder},

	"no /dev node data/dax path": {goNotFound, cCrash2, noDevNode},

	"device mode dev/dax2.0 r":    {goNotFound, cCrash2, noBus},
	"device mode dev/dax2.0 rw":   {goNotFound, cCrash2, noBus},
	"device mode dev/dax2.0 path": {goNotFound, cCrash2, noBus},
}
