package emulate

// ruleDocs names every rule a spec can break (SpecError.Rule) and says
// what it requires, in the order of the spec reference.
var ruleDocs = []struct{ Name, Doc string }{
	// JSON shape
	{"json-syntax", "the document is one well-formed JSON value"},
	{"too-large", "a spec is at most 64 MiB"},
	{"duplicate-key", "a key appears once per object"},
	{"unknown-field", "every key is a field of the format"},
	{"missing-field", "required fields are present (name; path and type; path and op)"},
	{"wrong-type", "each field has its JSON type; null is never allowed"},
	{"out-of-range", "integers fit their field (sizes non-negative, majors and minors 32-bit, counts non-negative)"},
	{"bad-base64", "content_base64 is standard base64"},
	{"unknown-code", "a code is a number, a PMEM2_E_* name, -EXXX or 0"},
	// devices
	{"unknown-subsystem-model", `dax_subsystem and a device's subsystem are "bus" or "class"`},
	{"bad-dax-name", "a Device DAX is named daxR.N (decimal, no leading zeros)"},
	{"bad-pmem-name", "a pmem device is named pmemN"},
	{"duplicate-name", "a device name is declared once"},
	{"rdev-range", "majors are below 4096, minors below 2^20"},
	{"rdev-clash", "one source per sys/dev/{char,block}/M:m: Device DAX, pmem, and device nodes with a subsystem"},
	{"align-not-power-of-two", "align is 0 (default) or a power of two; malformed values go in align_raw"},
	{"bad-numa-node", "numa_node is -1 or a node number"},
	{"raw-without-file", "size_raw and align_raw need an nd_dax (the NVDIMM bus) to live in"},
	{"hmem-region-shared", "without the NVDIMM bus a region (hmem.R) holds one device"},
	{"region-numa-mismatch", "the devices of one NVDIMM region share numa_node and target_node"},
	{"size-overflow", "all device sizes fit below the 52-bit physical address limit"},
	{"size-not-sector-multiple", "a pmem size is a multiple of 512"},
	// DIMMs, interleave sets, bad blocks, hosted files
	{"unknown-nd-bus-provider", `nd_bus_provider is "nfit" or "e820"`},
	{"dimms-without-nfit", "DIMMs (declared or named by a device) need the NFIT bus"},
	{"bad-dimm-name", "a DIMM is named nmemN"},
	{"bad-dimm-id", "a DIMM id is one line of at most 1022 bytes without NUL"},
	{"bad-dirty-shutdown", "dirty_shutdown is at most 2^31-1 (the kernel prints an int)"},
	{"dimms-without-bus", "a device without the NVDIMM bus names no DIMMs"},
	{"unknown-dimm", "a device names only declared DIMMs"},
	{"duplicate-dimm", "a DIMM is named once per interleave set"},
	{"region-dimms-mismatch", "the devices of one region that name DIMMs name the same ones, in the same order"},
	{"interleave-size", "a region interleaved across k DIMMs holds a multiple of k × 4096 bytes"},
	{"badblocks-without-bus", "a device without the NVDIMM bus has no bad blocks"},
	{"badblock-empty", "a bad block is at least 512 bytes long"},
	{"badblock-not-sector-aligned", "a bad block's offset and length are multiples of 512"},
	{"badblock-outside-device", "a bad block lies inside its device"},
	{"badblock-overlap", "the bad blocks of one device do not overlap"},
	{"hosts-files-twice", "one pmem device at most hosts the fixture's files"},
	{"hosts-files-numbered", "a pmem device that hosts the fixture's files has no major or minor"},
	// paths
	{"path-empty", "a path is not empty"},
	{"path-nul", "a path (or symlink target) holds no NUL byte"},
	{"path-absolute", "a path is relative to the mount root"},
	{"path-empty-component", "a path has no empty component (no // and no trailing /)"},
	{"path-dot", `a path has no "." component`},
	{"path-dot-dot", `a path has no ".." component`},
	{"path-name-too-long", "no component is longer than 255 bytes"},
	{"bad-glob", "a fault path is a valid path.Match pattern"},
	// nodes
	{"duplicate-path", "a node path is declared once"},
	{"unknown-type", "type is file, dir, fifo, socket, char, block or symlink"},
	{"bad-mode", `mode is an octal string up to 07777 ("0644", "644", "0o644")`},
	{"root-dir-replaced", `"sys" and "dev" can only be declared as directories`},
	{"field-not-for-type", "content, content_base64 and size only on files; major, minor and subsystem only on devices; target only on symlinks"},
	{"content-twice", "content and content_base64 exclude each other"},
	{"size-below-content", "a file's size is not below its content's length"},
	{"symlink-target-missing", "a symlink has a non-empty target"},
	{"bad-subsystem-name", "a subsystem is one sysfs name"},
	{"bad-device-name", "a device with a subsystem has a plain base name (it becomes a sysfs name)"},
	// clashes
	{"generated-clash", "no two devices generate the same sysfs path"},
	{"raw-replaced", "no node replaces the file that size_raw or align_raw fills, nor, unless it is a dir, a directory above it"},
	{"parent-not-dir", "a node's parents are directories (declared, generated or implied)"},
	// faults
	{"unknown-op", "op is lookup, getattr, open, read, write, readlink, readdir, fsync, setattr or truncate"},
	{"unknown-errno", "errno and open_errno are errno names like EIO"},
	{"short-not-read-write", "short applies to read and write only"},
	{"errno-and-short", "a faulted call fails (errno) or runs short (short), not both"},
	{"bad-delay", `delay is a non-negative Go duration ("10ms")`},
	{"fault-does-nothing", "a rule has errno, short or delay"},
	{"bad-probability", "probability lies in [0, 1]"},
	{"fault-path-missing", "a fault path without glob characters names a node of the tree"},
	// expectations
	{"expect-empty", "an expectation lists at least one mode"},
	{"expect-all-unused", "all is not given when r, w, rw and path all are"},
	{"expect-open-fails-and-more", "open_errno stands alone"},
	{"expect-after-failed-source", "nothing but from_fd beside a failing from_fd"},
	{"expect-value-with-error", "no value (size, alignment, numa_node, device_id, usc, badblocks) beside its failing _rc"},
	{"expect-caller-nested", "as_root and as_user hold modes, not another as_root or as_user"},
}

// Rules lists the name of every rule a spec can break, as SpecError.Rule
// spells it.
func Rules() []string {
	out := make([]string, len(ruleDocs))
	for i, r := range ruleDocs {
		out[i] = r.Name
	}
	return out
}

// RuleDoc says in one line what the named rule requires ("" for an
// unknown name).
func RuleDoc(name string) string {
	for _, r := range ruleDocs {
		if r.Name == name {
			return r.Doc
		}
	}
	return ""
}
