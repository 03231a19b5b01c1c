package emulate

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"reflect"
	"syscall"
	"time"

	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// Spec describes a fixture in pmem terms. It is written as JSON (see
// Decode) or as a Go literal; the zero value is an empty but valid fixture
// (an empty sys/ and dev/). The json tags are the schema, read by Decode
// and MarshalJSON alike (a key without omitempty is required); a zero or
// nil field means the documented default. What JSON writes as a name is
// typed in Go: a node type is a fusefs.NodeType ("file": fusefs.TypeFile),
// an op a fusefs.Op ("read": fusefs.OpRead), an errno a syscall.Errno
// ("EIO": syscall.EIO), a mode an fs.FileMode ("0644": 0o644) and a delay
// a time.Duration ("10ms": 10*time.Millisecond).
type Spec struct {
	// DAXSubsystem is the sysfs model of every Device DAX that does not
	// choose its own: "bus" (kernel 5.1 and later: subsystem → bus/dax,
	// the default, also for "") or "class" (older kernels: subsystem →
	// class/dax).
	DAXSubsystem string `json:"dax_subsystem,omitempty"`
	// NDBusProvider is the kind of the NVDIMM bus: "nfit" (ACPI NFIT,
	// the default, also for "": the bus has DIMMs, each region an
	// interleave set of them) or "e820" (memmap= pmem: no DIMMs, every
	// region's mappings is 0). See DIMM.
	NDBusProvider string `json:"nd_bus_provider,omitempty"`
	// DIMMs are the NVDIMMs on the bus (nmemN), named by the devices'
	// DIMMs. A region none of whose devices names DIMMs gets one DIMM
	// of its own, generated; a declared DIMM no region names sits on
	// the bus alone.
	DIMMs []DIMM `json:"dimms,omitempty"`
	// DAXDevices are Device DAX character devices, each with its sysfs
	// tree and its node dev/<name>.
	DAXDevices []DAXDevice `json:"dax_devices,omitempty"`
	// PmemDevices are fsdax block devices, each with its sysfs tree and
	// its node dev/<name>.
	PmemDevices []PmemDevice `json:"pmem_devices,omitempty"`
	// Nodes are declared on top of what the devices generate: they add
	// files anywhere and, under sys/ and dev/, may replace generated ones.
	Nodes []Node `json:"nodes,omitempty"`
	// Faults are fault rules active from the moment of mounting.
	Faults []Fault `json:"faults,omitempty"`
}

// DAXDevice is one Device DAX, daxR.N: instance N of region R. Devices
// that share R share the region (and, with the NVDIMM bus, region R's
// regionR directory and namespaceR.N namespaces).
type DAXDevice struct {
	// Name is "daxR.N" (decimal, no leading zeros).
	Name string `json:"name"`
	// Major and Minor are the character device numbers of dev/<name> and
	// of sys/dev/char/M:m. Major 0 means DefaultDAXMajor; minor 0 means
	// the lowest minor of that major no other device claims, given in
	// declaration order (so devices declared without minors never clash).
	Major uint32 `json:"major,omitempty"`
	Minor uint32 `json:"minor,omitempty"`
	// Size is the device size in bytes (files size, dax_region/size, the
	// nd_dax and namespace size, mapping0).
	Size uint64 `json:"size,omitempty"`
	// Align is the alignment in bytes (files align, dax_region/align and
	// the nd_dax align); 0 means DefaultAlign. It must be a power of two:
	// malformed values belong in AlignRaw.
	Align uint64 `json:"align,omitempty"`
	// NUMANode is the numa_node of the device, its region and namespace;
	// -1 means none, as the kernel writes it.
	NUMANode int `json:"numa_node,omitempty"`
	// TargetNode is the target_node file; nil means NUMANode, a negative
	// value leaves the file out (as the kernel does).
	TargetNode *int `json:"target_node,omitempty"`
	// SizeRaw, when set, is the exact content of the nd_dax's size
	// attribute, regionR/daxR.(N+1)/size: the file libndctl reads and
	// the C libpmem2 (and pmem2) return as the size. It replaces the
	// decimal Size and "\n" there only: the device's own size
	// (daxR.N/size, which libdaxctl needs readable), dax_region/size and
	// the namespace's size keep Size. It needs the NVDIMM bus.
	SizeRaw *string `json:"size_raw,omitempty"`
	// AlignRaw, when set, is the exact content of the nd_dax's align
	// attribute, regionR/daxR.(N+1)/align: the file libndctl reads and
	// the C libpmem2 (and pmem2) return as the alignment. The device's
	// own align and dax_region/align keep Align. It needs the NVDIMM bus.
	//
	// To break one of the files PMDK 1.9 read instead (the device's own
	// size, dax_region/align), declare a node at its path.
	AlignRaw *string `json:"align_raw,omitempty"`
	// NDBus is whether the NVDIMM bus (ndbus0, regionR, namespaceR.N,
	// the nd_dax) sits above the device; nil means true. Without it the
	// device lives under sys/devices/platform/hmem.R, which crashes the
	// C libpmem2 in libndctl.
	NDBus *bool `json:"nd_bus,omitempty"`
	// DAXRegion is whether the dax_region/ directory exists; nil means
	// true with the NVDIMM bus and false without it (hmem.R then has no
	// dax_region/ unless it is asked for). Neither the C libpmem2 nor
	// pmem2 needs it: only PMDK 1.9 read dax_region/align.
	DAXRegion *bool `json:"dax_region,omitempty"`
	// Subsystem overrides Spec.DAXSubsystem for this device ("bus" or
	// "class"), so one fixture can hold both models.
	Subsystem string `json:"subsystem,omitempty"`
	// DIMMs names the DIMMs of the device's region's interleave set
	// (declared in Spec.DIMMs), in interleave position order. The devices
	// of one region that give it give the same list; nil takes the
	// region's (one generated DIMM when no device names any).
	DIMMs []string `json:"dimms,omitempty"`
	// BadBlocks are the device's poisoned ranges, in bytes from its
	// start: they become lines of the region's badblocks file (see
	// BadBlock).
	BadBlocks []BadBlock `json:"badblocks,omitempty"`
	// Expect is what pmem2 must return for dev/<name>; nil derives it
	// from the declaration where that is safe (see Spec.Checks).
	Expect *Expect `json:"expect,omitempty"`
}

// PmemDevice is one fsdax block device, pmemN. Each sits alone in its own
// NVDIMM region, numbered after the regions of the Device DAX devices.
type PmemDevice struct {
	// Name is "pmemN".
	Name string `json:"name"`
	// Major and Minor are the block device numbers; Major 0 means
	// DefaultPmemMajor, minor 0 the lowest free minor (as for Device DAX).
	Major uint32 `json:"major,omitempty"`
	Minor uint32 `json:"minor,omitempty"`
	// Size in bytes, a multiple of 512 (sysfs shows it in sectors).
	Size uint64 `json:"size,omitempty"`
	// NUMANode of the device, its region and namespace; -1 means none.
	NUMANode int `json:"numa_node,omitempty"`
	// DIMMs and BadBlocks are as for a Device DAX; a pmem device's bad
	// blocks are also in its block device's badblocks file.
	DIMMs     []string   `json:"dimms,omitempty"`
	BadBlocks []BadBlock `json:"badblocks,omitempty"`
	// HostsFiles puts the fixture's own files on this device, as files
	// of a file system mounted on an fsdax namespace: once mounted, the
	// device takes the mount's device number (the st_dev of every file
	// of the fixture) in sys/block/<name>/dev, sys/dev/block/M:m and
	// dev/<name>, which is how libpmem2 finds the namespace, region and
	// DIMMs of a regular file. One device at most; it takes no major or
	// minor. Fixture.DevNum tells the number once mounted.
	HostsFiles bool    `json:"hosts_files,omitempty"`
	Expect     *Expect `json:"expect,omitempty"`
}

// Node is one declared file system object. Paths are relative to the mount
// root; under sys/ and dev/ a node may add to or replace what the devices
// generate (see Spec.Validate for the precise rules).
type Node struct {
	Path string `json:"path"`
	// Type is file, dir, fifo, socket, char, block or symlink; required.
	Type fusefs.NodeType `json:"type"`
	// Mode is the permission bits, with fs.ModeSetuid, ModeSetgid and
	// ModeSticky for 04000, 02000 and 01000; JSON writes it as an octal
	// string ("0644", "644", "0o644", up to 07777). Zero means the type's
	// default (0644 for files and FIFOs, 0755 for directories and sockets,
	// 0660 for devices, 0777 for symlinks); NoPerm ("0" in JSON) is 0000.
	Mode fs.FileMode `json:"mode,omitempty"`
	// UID and GID own the node. Nil means the owner the kernel would
	// give it: root (0) under sys/ and dev/, which the kernel owns;
	// elsewhere, the fixture's own data, the user who mounts the fixture
	// (the effective uid and gid of the process calling Mount or Tree).
	// new(uint32(0)) makes a data file root's.
	UID *uint32 `json:"uid,omitempty"`
	GID *uint32 `json:"gid,omitempty"`
	// Content is a file's bytes as text; ContentBase64 holds bytes that
	// are not UTF-8 (base64 in JSON). At most one of them.
	Content       string `json:"content,omitempty"`
	ContentBase64 []byte `json:"content_base64,omitempty"`
	// Size, when larger than the content, pads a file with zeros up to
	// Size bytes without storing them (a sparse 1 TiB file costs nothing).
	Size int64 `json:"size,omitempty"`
	// Major and Minor are a char or block device's numbers.
	Major uint32 `json:"major,omitempty"`
	Minor uint32 `json:"minor,omitempty"`
	// Subsystem, on a char or block device, gives it a sysfs entry:
	// sys/dev/{char,block}/M:m → sys/devices/virtual/<subsystem>/<base
	// name of Path>, whose subsystem link points at class/<subsystem>.
	// Without it the device is unknown to sysfs.
	Subsystem string `json:"subsystem,omitempty"`
	// Target is a symlink's target text, served verbatim (it may dangle).
	Target string  `json:"target,omitempty"`
	Expect *Expect `json:"expect,omitempty"`
}

// Fault is a fault rule in spec terms: a fusefs.Fault (fusefs.Fault(f)
// converts it; see there for the semantics of each field) whose path may
// lead through the fixture's symlinks.
type Fault struct {
	// Path is relative to the mount root, or a path.Match glob in which a
	// "**" component matches any number of components. A path without
	// glob characters must name a node of the tree; symlinks among its
	// parents are followed ("sys/dev/char/252:0/size" names the size
	// file of that device).
	Path string `json:"path"`
	// Op is lookup, getattr, open, read, write, readlink, readdir, fsync,
	// setattr or truncate (fusefs.OpSetattr, written as setattr).
	Op fusefs.Op `json:"op"`
	// Errno is the error ("EIO" in JSON) a faulted call returns; required
	// unless Short or Delay is given.
	Errno syscall.Errno `json:"errno,omitempty"`
	// Short makes a faulted read or write transfer at most Short bytes.
	Short int `json:"short,omitempty"`
	// Delay ("10ms" in JSON) is slept before a faulted call is answered;
	// alone it makes a slow call.
	Delay time.Duration `json:"delay,omitempty"`
	// After calls pass before the rule bites; then Times calls fail
	// (0: every call from then on).
	After int `json:"after,omitempty"`
	Times int `json:"times,omitempty"`
	// Probability in (0,1) faults each matching call with that chance,
	// drawn from a generator seeded with Seed; 0 means always.
	Probability float64 `json:"probability,omitempty"`
	Seed        int64   `json:"seed,omitempty"`
}

// Expect is what pmem2 must return for a node, per open mode. A mode that
// is not listed takes All; a mode with neither is not checked.
//
// Where the right answer depends on who runs the check — a file only its
// owner may open, an attribute only root may read — AsRoot and AsUser
// hold what differs for that caller (see Caller): a mode they give (or
// their All) replaces the outcome above for that caller only. JSON:
//
//	"expect": {"all": {"from_fd": 0, "size": 10, "alignment": 4096},
//	           "w": {"from_fd": "PMEM2_E_INVALID_FILE_HANDLE"},
//	           "as_user": {"r": {"open_errno": "EACCES"}, "w": {"open_errno": "EACCES"},
//	                       "rw": {"open_errno": "EACCES"}}}
//
// is a root-owned 0600 file: root opens it in every mode, a normal user
// only with O_PATH.
type Expect struct {
	R    *Outcome `json:"r,omitempty"`
	W    *Outcome `json:"w,omitempty"`
	RW   *Outcome `json:"rw,omitempty"`
	Path *Outcome `json:"path,omitempty"`
	All  *Outcome `json:"all,omitempty"`
	// AsRoot and AsUser are the outcomes that differ for a check run
	// as root (effective uid 0) or as any other user; they list modes
	// as above and hold no AsRoot or AsUser of their own.
	AsRoot *Expect `json:"as_root,omitempty"`
	AsUser *Expect `json:"as_user,omitempty"`
}

// For returns the outcome expected for mode, whoever checks (AsRoot and
// AsUser not looked at), or nil.
func (e *Expect) For(m OpenMode) *Outcome {
	if e == nil {
		return nil
	}
	var o *Outcome
	switch m {
	case ModeR:
		o = e.R
	case ModeW:
		o = e.W
	case ModeRW:
		o = e.RW
	case ModePath:
		o = e.Path
	}
	if o == nil {
		o = e.All
	}
	return o
}

// Outcome is the expected result of opening a node in one mode and running
// pmem2 on the descriptor. OpenErrno set means the open must fail with that
// errno (and nothing else may be set); otherwise the open must succeed and
// each non-nil field is compared: FromFD with the code of SourceFromFD,
// SizeRC and AlignmentRC with the codes of Size and Alignment, Size and
// Alignment with their values (which imply a code of 0).
type Outcome struct {
	OpenErrno   syscall.Errno `json:"open_errno,omitempty"`
	FromFD      *pmem2.Code   `json:"from_fd,omitempty"`
	Size        *uint64       `json:"size,omitempty"`
	SizeRC      *pmem2.Code   `json:"size_rc,omitempty"`
	Alignment   *uint64       `json:"alignment,omitempty"`
	AlignmentRC *pmem2.Code   `json:"alignment_rc,omitempty"`
	// NUMANode, DeviceID, USC and BadBlocks are what NumaNode, DeviceID,
	// DeviceUSC and BadBlocks return (pmem2_source_numa_node, _device_id,
	// _device_usc, and the bad block iterator run to its end); each
	// _rc field is that call's code. An empty BadBlocks ("badblocks": [])
	// expects none.
	NUMANode    *int        `json:"numa_node,omitempty"`
	NUMANodeRC  *pmem2.Code `json:"numa_node_rc,omitempty"`
	DeviceID    *string     `json:"device_id,omitempty"`
	DeviceIDRC  *pmem2.Code `json:"device_id_rc,omitempty"`
	USC         *uint64     `json:"usc,omitempty"`
	USCRC       *pmem2.Code `json:"usc_rc,omitempty"`
	BadBlocks   *BadBlocks  `json:"badblocks,omitempty"`
	BadBlocksRC *pmem2.Code `json:"badblocks_rc,omitempty"`
}

// MarshalJSON writes success as 0 and other codes by name
// ("PMEM2_E_INVALID_FILE_TYPE", "-EIO"), as Decode reads them.
func (o Outcome) MarshalJSON() ([]byte, error) { return encode(reflect.ValueOf(o)) }

// MarshalJSON writes the spec as Decode reads it; Decode(MarshalJSON(s))
// gives back s.
func (s *Spec) MarshalJSON() ([]byte, error) { return encode(reflect.ValueOf(*s)) }

// UnmarshalJSON decodes strictly, like Decode, so json.Unmarshal into a Spec
// applies every rule too.
func (s *Spec) UnmarshalJSON(data []byte) error {
	d, err := Parse(data)
	if err != nil {
		return err
	}
	*s = *d
	return nil
}

// Indent renders the spec as indented JSON, as `pmem2emu spec --default`
// prints it.
func (s *Spec) Indent() ([]byte, error) {
	b, err := s.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}
