package emulate

import (
	"cmp"
	"fmt"
	"math"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/pmem2emu/pmem2emu/fusefs"
)

// Defaults the spec fills in for zero fields.
const (
	// DefaultDAXMajor is the char major of a Device DAX declared with
	// major 0 (the kernel allocates it dynamically; 252 is common).
	DefaultDAXMajor = 252
	// DefaultPmemMajor is the block major of a pmem device declared with
	// major 0 (blkext, as on real machines).
	DefaultPmemMajor = 259
	// DefaultAlign is the alignment of a Device DAX declared with align 0.
	DefaultAlign = 2 << 20
)

// Kernel limits of device numbers (MINORBITS = 20, majors below 4096).
const (
	maxMajor = 1<<12 - 1
	maxMinor = 1<<20 - 1
)

var (
	daxNameRE  = regexp.MustCompile(`^dax(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$`)
	pmemNameRE = regexp.MustCompile(`^pmem(0|[1-9][0-9]{0,8})$`)
	// A subsystem or device name becomes one sysfs path component.
	subsystemRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.:+-]*$`)
)

// Validate applies every rule of the spec and returns nil or a SpecErrors
// naming each broken rule at its JSON location. The rules:
//
//   - dax_subsystem and each device's subsystem: "", "bus" or "class".
//   - Device names: daxR.N / pmemN in decimal without leading zeros, each
//     name once. Majors below 4096, minors below 2^20.
//   - align: 0 (default) or a power of two; pmem size: a multiple of 512;
//     numa_node: -1 or more; the devices of one region (same R, with the
//     NVDIMM bus) share numa_node and target_node; without the NVDIMM
//     bus a region (hmem.R) holds one device; size_raw and align_raw
//     need an nd_dax (the NVDIMM bus) to live in; all sizes of the
//     fixture fit below the 52-bit physical address limit.
//   - DIMMs (NFIT bus only: nd_bus_provider "nfit" or "", not "e820"):
//     named nmemN, each name once; an id is one line shorter than 1023
//     bytes without NUL; dirty_shutdown at most 2^31-1. A device's dimms
//     name declared DIMMs, each once, need the NVDIMM bus, and agree with
//     the other devices of its region that give dimms; a region
//     interleaved across k > 1 DIMMs holds a multiple of k × 4096 bytes.
//     A DIMM may serve several regions, or none.
//   - Bad blocks: only with the NVDIMM bus; each at least 512 bytes long,
//     offset and length multiples of 512, inside the device, not
//     overlapping another of the device's (touching is fine: the kernel
//     merges them).
//   - hosts_files: one pmem device at most, without major or minor.
//   - major:minor: no two sources of the same sys/dev/char/M:m (Device
//     DAX, char nodes with a subsystem) or sys/dev/block/M:m (pmem, block
//     nodes with a subsystem). Plain device nodes may alias any number.
//   - Paths (nodes and faults): relative, not empty, no ".", "..", empty
//     components or NUL, no component longer than 255 bytes. Fault paths
//     may be globs; one without glob characters must name a node.
//   - Nodes: a known type; mode an octal string up to 07777; content,
//     content_base64 (not both) and size only on files, size not below the
//     content; major, minor and subsystem only on char and block; target
//     only, and always, on symlinks; "sys" and "dev" only as directories.
//   - Clashes: a path declared twice; a node whose parent is a file, link
//     or device (declared, or generated and not replaced by a declared
//     directory); two devices generating the same sysfs path differently;
//     a node replacing the file a size_raw or align_raw fills (or, unless
//     it is a directory, a directory above that file). Declaring a
//     node at a generated path under sys/ or dev/ is not a clash: it
//     replaces the generated node (and, unless it is a directory,
//     everything generated below it).
//   - Faults: a known op and errno; errno, short or delay (something to
//     do); short only on read and write, not with errno; delay a
//     non-negative Go duration; probability in [0, 1].
//   - Expectations: known modes and fields, errno names and codes;
//     as_root and as_user list modes only (no as_root or as_user inside);
//     open_errno alone; nothing but from_fd beside a failing from_fd; no
//     value beside its failing code.
func (s *Spec) Validate() error {
	var p problems
	s.checkFields(&p)
	if len(p.list) == 0 {
		// Tree-level rules need sound fields to generate anything.
		s.build(&p)
	}
	return p.err()
}

// daxInfo is a Device DAX with its name parsed and defaults applied.
type daxInfo struct {
	loc          string
	d            *DAXDevice
	region, inst int
	major, minor uint32
	align        uint64
	class        bool
	ndBus        bool
	daxRegion    bool
	targetNode   int
}

type pmemInfo struct {
	loc          string
	d            *PmemDevice
	index        int
	region       int
	major, minor uint32
}

func (s *Spec) daxInfos() []daxInfo {
	out := make([]daxInfo, 0, len(s.DAXDevices))
	daxMinors, _ := s.minors()
	for i := range s.DAXDevices {
		d := &s.DAXDevices[i]
		in := daxInfo{loc: fmt.Sprintf("dax_devices[%d]", i), d: d, major: daxMajor(d), minor: daxMinors[i], align: d.Align}
		if m := daxNameRE.FindStringSubmatch(d.Name); m != nil {
			in.region, _ = strconv.Atoi(m[1])
			in.inst, _ = strconv.Atoi(m[2])
		}
		if in.align == 0 {
			in.align = DefaultAlign
		}
		model := d.Subsystem
		if model == "" {
			model = s.DAXSubsystem
		}
		in.class = model == "class"
		in.ndBus = d.NDBus == nil || *d.NDBus
		in.daxRegion = in.ndBus
		if d.DAXRegion != nil {
			in.daxRegion = *d.DAXRegion
		}
		in.targetNode = d.NUMANode
		if d.TargetNode != nil {
			in.targetNode = *d.TargetNode
		}
		out = append(out, in)
	}
	return out
}

// pmemInfos places each pmem device in its own region after every region
// a Device DAX uses.
func (s *Spec) pmemInfos() []pmemInfo {
	next := 0
	for _, d := range s.daxInfos() {
		next = max(next, d.region+1)
	}
	out := make([]pmemInfo, 0, len(s.PmemDevices))
	_, pmemMinors := s.minors()
	for i := range s.PmemDevices {
		d := &s.PmemDevices[i]
		in := pmemInfo{loc: fmt.Sprintf("pmem_devices[%d]", i), d: d, major: pmemMajor(d), minor: pmemMinors[i], region: next + i}
		if m := pmemNameRE.FindStringSubmatch(d.Name); m != nil {
			in.index, _ = strconv.Atoi(m[1])
		}
		out = append(out, in)
	}
	return out
}

func daxMajor(d *DAXDevice) uint32   { return cmp.Or(d.Major, DefaultDAXMajor) }
func pmemMajor(d *PmemDevice) uint32 { return cmp.Or(d.Major, DefaultPmemMajor) }

// rdevKind is "char" or "block" for a device node, the directory of
// sys/dev/ that would hold it, and "" for other types.
func rdevKind(t fusefs.NodeType) string {
	return map[fusefs.NodeType]string{fusefs.TypeCharDev: "char", fusefs.TypeBlockDev: "block"}[t]
}

// minors gives each device its minor: the declared one, or for minor 0
// the lowest minor of its major that no other source of sys/dev/{char,
// block}/M:m claims, in declaration order.
func (s *Spec) minors() (dax, pmem []uint32) {
	type rdev struct {
		kind         string
		major, minor uint32
	}
	used := map[rdev]bool{}
	// Minor 0 of a device is no claim (it asks for one); a node's is.
	for _, d := range s.DAXDevices {
		used[rdev{"char", daxMajor(&d), d.Minor}] = d.Minor != 0
	}
	for _, d := range s.PmemDevices {
		used[rdev{"block", pmemMajor(&d), d.Minor}] = d.Minor != 0
	}
	for _, n := range s.Nodes {
		if kind := rdevKind(n.Type); kind != "" && n.Subsystem != "" {
			used[rdev{kind, n.Major, n.Minor}] = true
		}
	}
	pick := func(kind string, major, minor uint32) uint32 {
		if minor == 0 {
			for used[rdev{kind, major, minor}] {
				minor++
			}
			used[rdev{kind, major, minor}] = true
		}
		return minor
	}
	for _, d := range s.DAXDevices {
		dax = append(dax, pick("char", daxMajor(&d), d.Minor))
	}
	for _, d := range s.PmemDevices {
		pmem = append(pmem, pick("block", pmemMajor(&d), d.Minor))
	}
	return dax, pmem
}

func (s *Spec) checkFields(p *problems) {
	checkModel(p, "dax_subsystem", s.DAXSubsystem)
	s.checkDAX(p)
	s.checkPmem(p)
	s.checkNodes(p)
	s.checkRdevs(p)
	s.checkDIMMs(p)
	s.checkDeviceBadBlocks(p)
	s.checkHostsFiles(p)
	for i := range s.Faults {
		checkFault(p, fmt.Sprintf("faults[%d]", i), &s.Faults[i])
	}
}

func checkModel(p *problems, loc, model string) {
	if model != "" && model != "bus" && model != "class" {
		p.add(loc, "unknown-subsystem-model", fmt.Sprintf("%q: want \"bus\" (dax bus, kernel 5.1+) or \"class\" (class/dax, older kernels)", model))
	}
}

func checkRdev(p *problems, loc string, major, minor uint32) {
	if major > maxMajor {
		p.add(loc+".major", "rdev-range", fmt.Sprintf("major %d is above the kernel's limit %d", major, maxMajor))
	}
	if minor > maxMinor {
		p.add(loc+".minor", "rdev-range", fmt.Sprintf("minor %d is above the kernel's limit %d", minor, maxMinor))
	}
}

// nameSet holds the names of one kind of device declared so far, each
// with its JSON location.
type nameSet map[string]string

// check adds rule to p when name does not match re (want says what
// would), duplicate-name when a device of the set has it already, and
// otherwise takes name into the set.
func (s nameSet) check(p *problems, loc, name string, re *regexp.Regexp, rule, want string) {
	switch prev, dup := s[name]; {
	case !re.MatchString(name):
		p.add(loc+".name", rule, fmt.Sprintf("%q: %s", name, want))
	case dup:
		p.add(loc+".name", "duplicate-name", fmt.Sprintf("%q is already declared by %s", name, prev))
	default:
		s[name] = loc
	}
}

func checkNUMA(p *problems, loc string, n int) {
	if n < -1 || n > math.MaxInt32 {
		p.add(loc, "bad-numa-node", fmt.Sprintf("%d: a NUMA node is -1 (none) or a node number", n))
	}
}

func (s *Spec) checkDAX(p *problems) {
	names := nameSet{}
	hmem := map[int]string{}
	regionNUMA := map[int]daxInfo{}
	for _, in := range s.daxInfos() {
		d := in.d
		names.check(p, in.loc, d.Name, daxNameRE, "bad-dax-name", "want daxR.N (region R, instance N, decimal without leading zeros)")
		checkRdev(p, in.loc, d.Major, d.Minor)
		if d.Align != 0 && d.Align&(d.Align-1) != 0 {
			p.add(in.loc+".align", "align-not-power-of-two", fmt.Sprintf("%d is not a power of two; put a malformed alignment in align_raw", d.Align))
		}
		checkNUMA(p, in.loc+".numa_node", d.NUMANode)
		if d.TargetNode != nil && *d.TargetNode > math.MaxInt32 {
			checkNUMA(p, in.loc+".target_node", *d.TargetNode)
		}
		checkModel(p, in.loc+".subsystem", d.Subsystem)
		for _, raw := range []struct {
			key, file string
			set       bool
		}{{"size_raw", "size", d.SizeRaw != nil}, {"align_raw", "align", d.AlignRaw != nil}} {
			if raw.set && !in.ndBus {
				p.add(in.loc+"."+raw.key, "raw-without-file", fmt.Sprintf("%s fills the nd_dax's %s, but without the NVDIMM bus this device has no nd_dax", raw.key, raw.file))
			}
		}
		if !daxNameRE.MatchString(d.Name) {
			continue
		}
		if !in.ndBus {
			if prev, ok := hmem[in.region]; ok {
				p.add(in.loc+".nd_bus", "hmem-region-shared", fmt.Sprintf("without the NVDIMM bus, region %d (hmem.%d) holds one device, and %s is already there", in.region, in.region, prev))
			}
			hmem[in.region] = in.loc
			continue
		}
		if prev, ok := regionNUMA[in.region]; ok {
			if prev.d.NUMANode != d.NUMANode || prev.targetNode != in.targetNode {
				p.add(in.loc+".numa_node", "region-numa-mismatch", fmt.Sprintf("the devices of region%d share one NUMA node, but %s says numa_node %d, target_node %d", in.region, prev.loc, prev.d.NUMANode, prev.targetNode))
			}
		} else {
			regionNUMA[in.region] = in
		}
	}
}

func (s *Spec) checkPmem(p *problems) {
	names := nameSet{}
	for _, in := range s.pmemInfos() {
		d := in.d
		names.check(p, in.loc, d.Name, pmemNameRE, "bad-pmem-name", "want pmemN (decimal without leading zeros)")
		checkRdev(p, in.loc, d.Major, d.Minor)
		if d.Size%512 != 0 {
			p.add(in.loc+".size", "size-not-sector-multiple", fmt.Sprintf("%d is not a multiple of 512 (sysfs reports pmem sizes in 512-byte sectors)", d.Size))
		}
		checkNUMA(p, in.loc+".numa_node", d.NUMANode)
	}
}

// checkRdevs finds two sources of one sys/dev/{char,block}/M:m entry.
func (s *Spec) checkRdevs(p *problems) {
	seen := map[string]string{}
	claim := func(loc, kind string, major, minor uint32) {
		key := fmt.Sprintf("%s %d:%d", kind, major, minor)
		if prev, ok := seen[key]; ok {
			p.add(loc, "rdev-clash", fmt.Sprintf("%s device %d:%d is already declared by %s (both would own sys/dev/%s/%d:%d)", kind, major, minor, prev, kind, major, minor))
			return
		}
		seen[key] = loc
	}
	for _, in := range s.daxInfos() {
		claim(in.loc, "char", in.major, in.minor)
	}
	for _, in := range s.pmemInfos() {
		claim(in.loc, "block", in.major, in.minor)
	}
	for i, n := range s.Nodes {
		if n.Subsystem == "" {
			continue
		}
		if kind := rdevKind(n.Type); kind != "" {
			claim(fmt.Sprintf("nodes[%d]", i), kind, n.Major, n.Minor)
		}
	}
}

func (s *Spec) checkNodes(p *problems) {
	paths := map[string]string{}
	for i := range s.Nodes {
		n := &s.Nodes[i]
		loc := fmt.Sprintf("nodes[%d]", i)
		if checkPath(p, loc+".path", n.Path, false) {
			if prev, ok := paths[n.Path]; ok {
				p.add(loc+".path", "duplicate-path", fmt.Sprintf("%q is already declared by %s", n.Path, prev))
			}
			paths[n.Path] = loc
		}
		before := len(p.list)
		checkText(p, loc+".type", n.Type, true)
		if len(p.list) > before {
			continue
		}
		t := n.Type
		checkText(p, loc+".mode", n.Mode, false)
		if (n.Path == "sys" || n.Path == "dev") && t != fusefs.TypeDir {
			p.add(loc+".type", "root-dir-replaced", fmt.Sprintf("%q holds the fixture's %s tree and can only be declared as a dir", n.Path, n.Path))
		}
		notFor := func(field string, set bool) {
			if set {
				p.add(loc+"."+field, "field-not-for-type", fmt.Sprintf("%s is meaningless on a %s", field, n.Type))
			}
		}
		isFile := t == fusefs.TypeFile
		isDev := t == fusefs.TypeCharDev || t == fusefs.TypeBlockDev
		notFor("content", !isFile && n.Content != "")
		notFor("content_base64", !isFile && n.ContentBase64 != nil)
		notFor("size", !isFile && n.Size != 0)
		if n.Size < 0 {
			p.add(loc+".size", "out-of-range", fmt.Sprintf("size %d is negative", n.Size))
		}
		notFor("major", !isDev && n.Major != 0)
		notFor("minor", !isDev && n.Minor != 0)
		notFor("subsystem", !isDev && n.Subsystem != "")
		notFor("target", t != fusefs.TypeSymlink && n.Target != "")
		if isFile && n.Content != "" && n.ContentBase64 != nil {
			p.add(loc+".content_base64", "content-twice", "give content or content_base64, not both")
		}
		if isFile && n.Size != 0 && n.Size < int64(len(n.Content)+len(n.ContentBase64)) {
			p.add(loc+".size", "size-below-content", fmt.Sprintf("size %d is smaller than the %d bytes of content", n.Size, len(n.Content)+len(n.ContentBase64)))
		}
		if t == fusefs.TypeSymlink {
			if n.Target == "" {
				p.add(loc+".target", "symlink-target-missing", "a symlink needs a non-empty target")
			} else if strings.IndexByte(n.Target, 0) >= 0 {
				p.add(loc+".target", "path-nul", "a symlink target must not contain a NUL byte")
			}
		}
		if isDev {
			checkRdev(p, loc, n.Major, n.Minor)
			if n.Subsystem != "" && (!subsystemRE.MatchString(n.Subsystem) || len(n.Subsystem) > nameMax) {
				p.add(loc+".subsystem", "bad-subsystem-name", fmt.Sprintf("%q: a subsystem is one sysfs name like \"mem\"", n.Subsystem))
			}
			if n.Subsystem != "" && len(path.Base(n.Path)) > 0 && !subsystemRE.MatchString(path.Base(n.Path)) {
				p.add(loc+".path", "bad-device-name", fmt.Sprintf("%q: a device with a subsystem lends its base name to sysfs, so it must be a plain name", path.Base(n.Path)))
			}
		}
		checkExpect(p, loc+".expect", n.Expect)
	}
	for i := range s.DAXDevices {
		checkExpect(p, fmt.Sprintf("dax_devices[%d].expect", i), s.DAXDevices[i].Expect)
	}
	for i := range s.PmemDevices {
		checkExpect(p, fmt.Sprintf("pmem_devices[%d].expect", i), s.PmemDevices[i].Expect)
	}
}

func checkFault(p *problems, loc string, f *Fault) {
	checkPath(p, loc+".path", f.Path, true)
	checkText(p, loc+".op", f.Op, true)
	checkText(p, loc+".errno", f.Errno, false)
	checkText(p, loc+".delay", f.Delay, false)
	if f.Short != 0 {
		if f.Op != fusefs.OpRead && f.Op != fusefs.OpWrite {
			p.add(loc+".short", "short-not-read-write", "short applies to read and write only")
		}
		if f.Errno != 0 {
			p.add(loc+".short", "errno-and-short", "a faulted call either fails (errno) or runs short (short), not both")
		}
	}
	if f.Errno == 0 && f.Short == 0 && f.Delay == 0 {
		p.add(loc, "fault-does-nothing", "give errno, short or delay: a rule must do something")
	}
	if !(f.Probability >= 0 && f.Probability <= 1) {
		p.add(loc+".probability", "bad-probability", fmt.Sprintf("%v: want a probability in [0, 1] (0 means always)", f.Probability))
	}
	for _, c := range []struct {
		key string
		n   int
	}{{"after", f.After}, {"times", f.Times}, {"short", f.Short}} {
		if c.n < 0 {
			p.add(loc+"."+c.key, "out-of-range", fmt.Sprintf("%s %d is negative", c.key, c.n))
		}
	}
}

func checkExpect(p *problems, loc string, e *Expect) {
	if e == nil {
		return
	}
	given := checkModes(p, loc, e)
	for _, v := range []struct {
		key string
		e   *Expect
	}{{"as_root", e.AsRoot}, {"as_user", e.AsUser}} {
		if v.e == nil {
			continue
		}
		if v.e.AsRoot != nil || v.e.AsUser != nil {
			p.add(loc+"."+v.key, "expect-caller-nested", v.key+" lists modes only: as_root and as_user belong to the expectation itself")
		}
		if checkModes(p, loc+"."+v.key, v.e) == 0 {
			p.add(loc+"."+v.key, "expect-empty", "an expectation lists at least one of r, w, rw, path, all")
		}
		given++
	}
	if given == 0 {
		p.add(loc, "expect-empty", "an expectation lists at least one of r, w, rw, path, all")
	}
}

// checkModes checks the outcomes e lists per mode and returns how many it
// lists.
func checkModes(p *problems, loc string, e *Expect) (given int) {
	modes := []struct {
		key string
		o   *Outcome
	}{{"r", e.R}, {"w", e.W}, {"rw", e.RW}, {"path", e.Path}, {"all", e.All}}
	for _, m := range modes {
		if m.o != nil {
			given++
			checkOutcome(p, loc+"."+m.key, m.o)
		}
	}
	if e.All != nil && given == len(modes) {
		p.add(loc+".all", "expect-all-unused", "every mode is listed, so all applies to none")
	}
	return given
}

func checkOutcome(p *problems, loc string, o *Outcome) {
	// calls is whether any call after pmem2_source_from_fd is expected.
	calls := false
	for _, f := range fields {
		v, rc := f.want(o)
		calls = calls || v != nil || rc != nil
		if v != nil && rc != nil && *rc != 0 {
			p.add(loc+"."+f.name, "expect-value-with-error", fmt.Sprintf("%s is only known when %s_rc is 0", f.name, f.name))
		}
	}
	if o.OpenErrno != 0 {
		checkText(p, loc+".open_errno", o.OpenErrno, false)
		if o.FromFD != nil || calls {
			p.add(loc+".open_errno", "expect-open-fails-and-more", "when the open fails nothing else runs: give open_errno alone")
		}
		return
	}
	if o.FromFD != nil && *o.FromFD != 0 && calls {
		p.add(loc+".from_fd", "expect-after-failed-source", "when from_fd fails there is no source: leave out what the calls after it return")
	}
}
