package emulate

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pmem2emu/pmem2emu/pmem2"
)

// DIMM is one NVDIMM on an NFIT bus, nmemN: the kernel's nmemN device with
// its nfit/ attributes (handle, phys_id, id, dirty_shutdown …), which
// libndctl reads and libpmem2 sums up per region (pmem2_source_device_id
// concatenates the ids of a region's DIMMs, pmem2_source_device_usc adds
// their dirty shutdown counts).
type DIMM struct {
	// Name is "nmemN" (decimal, no leading zeros).
	Name string `json:"name"`
	// ID is the DIMM's unique id, nfit/id, as the kernel writes it from
	// the NFIT ("VVVV-LL-DDDD-SSSSSSSS": vendor, manufacturing location
	// and date, serial number, in hex). Nil generates one
	// ("8089-a2-1837-706dNNNN", NNNN the DIMM's number in hex); "" leaves
	// the file out, as older kernels do, and libndctl then has no id for
	// the DIMM.
	ID *string `json:"id,omitempty"`
	// DirtyShutdown is nfit/dirty_shutdown, the count of shutdowns in
	// which the DIMM may have lost data; negative leaves the file out, as
	// the kernel does for DIMMs that report no such count.
	DirtyShutdown int64 `json:"dirty_shutdown,omitempty"`
}

// nmem devices: the kernel's nvdimm char devices (dev/nmemN is not
// generated: libndctl opens it only to submit commands, and these DIMMs
// support none).
const (
	nmemMajor = 249
	// maxAttr is the longest attribute content libndctl reads whole: its
	// buffer is 1024 bytes, and a read that fills it is a failure.
	maxAttr = 1023
	// interleaveGranule is the unit a region's DIMMs share its capacity
	// in.
	interleaveGranule = 4096
)

var dimmNameRE = regexp.MustCompile(`^nmem(0|[1-9][0-9]{0,8})$`)

// dimmInfo is a DIMM with defaults applied: declared (loc "dimms[i]") or
// generated for a region that names none (loc "").
type dimmInfo struct {
	loc   string
	name  string
	index int
	// id is nfit/id's content without "\n"; hasID false leaves it out.
	id    string
	hasID bool
	dirty int64
	numa  int
	// dpa is the DIMM's next free address: regions take their share of
	// each DIMM in region order.
	dpa uint64
}

// handle is the NFIT device handle of nmemN: socket, memory controller,
// channel and slot as an Intel platform numbers them, two slots a channel,
// three channels a controller, two controllers a socket.
func (d *dimmInfo) handle() uint64 {
	i := uint64(d.index)
	return i/12<<12 | i/6%2<<8 | i/2%3<<4 | i%2
}

// mapping is one DIMM's share of a region (regionR/mappingK).
type mapping struct {
	dimm           *dimmInfo
	offset, length uint64
	position       int
}

// generatedID is the id of a DIMM the spec does not give one: Intel's
// vendor id and a serial number that spells "pm" and the DIMM's number.
func generatedID(index int) string {
	return fmt.Sprintf("8089-a2-1837-%08x", 0x706d0000+index)
}

func (s *Spec) nfit() bool { return s.NDBusProvider != "e820" }

// dimmInfos lists the declared DIMMs with their defaults.
func (s *Spec) dimmInfos() []*dimmInfo {
	out := make([]*dimmInfo, 0, len(s.DIMMs))
	for i, d := range s.DIMMs {
		in := &dimmInfo{loc: fmt.Sprintf("dimms[%d]", i), name: d.Name, dirty: d.DirtyShutdown, numa: -1}
		if m := dimmNameRE.FindStringSubmatch(d.Name); m != nil {
			in.index, _ = strconv.Atoi(m[1])
		}
		in.hasID = d.ID == nil || *d.ID != ""
		in.id = generatedID(in.index)
		if d.ID != nil {
			in.id = *d.ID
		}
		out = append(out, in)
	}
	return out
}

// checkDIMMs applies the rules of the DIMMs and of the devices' dimms
// lists that need no layout.
func (s *Spec) checkDIMMs(p *problems) {
	if v := s.NDBusProvider; v != "" && v != "nfit" && v != "e820" {
		p.add("nd_bus_provider", "unknown-nd-bus-provider", fmt.Sprintf("%q: want \"nfit\" (ACPI NFIT, DIMMs) or \"e820\" (memmap= pmem, no DIMMs)", v))
	}
	names := nameSet{}
	for _, in := range s.dimmInfos() {
		if !s.nfit() {
			p.add(in.loc, "dimms-without-nfit", "an e820 bus has no DIMMs; leave out nd_bus_provider (nfit) to declare them")
		}
		names.check(p, in.loc, in.name, dimmNameRE, "bad-dimm-name", "want nmemN (decimal without leading zeros)")
		if strings.ContainsAny(in.id, "\n\x00") || len(in.id) >= maxAttr {
			p.add(in.loc+".id", "bad-dimm-id", fmt.Sprintf("%q: an id is one line of at most %d bytes without NUL (libndctl reads 1024 bytes, newline included)", in.id, maxAttr-1))
		}
		if in.dirty > math.MaxInt32 {
			p.add(in.loc+".dirty_shutdown", "bad-dirty-shutdown", fmt.Sprintf("%d: the kernel prints the count as an int (at most %d; negative leaves the file out)", in.dirty, math.MaxInt32))
		}
	}
	type set struct {
		loc   string
		dimms []string
	}
	regions := map[int]set{}
	check := func(loc string, list []string, ndBus bool, region int) {
		if list == nil {
			return
		}
		if !ndBus {
			p.add(loc+".dimms", "dimms-without-bus", "without the NVDIMM bus the device has no region, so no interleave set")
			return
		}
		if !s.nfit() {
			p.add(loc+".dimms", "dimms-without-nfit", "an e820 bus has no DIMMs; leave out nd_bus_provider (nfit) to name them")
			return
		}
		for j, name := range list {
			if _, ok := names[name]; !ok {
				p.add(fmt.Sprintf("%s.dimms[%d]", loc, j), "unknown-dimm", fmt.Sprintf("%q is not among the spec's dimms", name))
			}
			if slices.Contains(list[:j], name) {
				p.add(fmt.Sprintf("%s.dimms[%d]", loc, j), "duplicate-dimm", fmt.Sprintf("%q is named twice: a DIMM holds one position of an interleave set", name))
			}
		}
		if prev, ok := regions[region]; ok && !slices.Equal(prev.dimms, list) {
			p.add(loc+".dimms", "region-dimms-mismatch", fmt.Sprintf("the devices of region%d share one interleave set, but %s names %q", region, prev.loc, prev.dimms))
		} else if !ok {
			regions[region] = set{loc, list}
		}
	}
	for _, in := range s.daxInfos() {
		check(in.loc, in.d.DIMMs, in.ndBus, in.region)
	}
	for _, in := range s.pmemInfos() {
		check(in.loc, in.d.DIMMs, true, in.region)
	}
}

// interleave gives every region of the layout its DIMMs and mappings: the
// DIMMs its devices name, or one generated DIMM (numbered with the lowest
// number no declared DIMM has, in region order) on an NFIT bus. Each DIMM
// gives each of its regions an equal share of the region, at the DIMM's
// next free address. It returns every DIMM on the bus, sorted by number.
func (s *Spec) interleave(lay *layout, p *problems) []*dimmInfo {
	if !s.nfit() {
		return nil
	}
	dimms := s.dimmInfos()
	byName := map[string]*dimmInfo{}
	used := map[int]bool{}
	for _, d := range dimms {
		byName[d.name] = d
		used[d.index] = true
	}
	next := 0
	for _, r := range lay.regions {
		names, loc := r.dimmNames()
		var set []*dimmInfo
		for _, n := range names {
			set = append(set, byName[n])
		}
		if names == nil {
			for used[next] {
				next++
			}
			used[next] = true
			d := &dimmInfo{loc: loc, name: fmt.Sprintf("nmem%d", next), index: next, id: generatedID(next), hasID: true, numa: r.numa}
			dimms = append(dimms, d)
			set = []*dimmInfo{d}
		}
		k := uint64(len(set))
		if k > 1 && r.size%(k*interleaveGranule) != 0 {
			p.add(loc+".dimms", "interleave-size", fmt.Sprintf("region%d holds %d bytes, not a multiple of %d × %d: each of its %d DIMMs holds an equal share in %d-byte granules", r.id, r.size, k, interleaveGranule, k, interleaveGranule))
		}
		for pos, d := range set {
			if d.numa < 0 {
				d.numa = r.numa
			}
			r.mappings = append(r.mappings, mapping{dimm: d, offset: d.dpa, length: r.size / k, position: pos})
			d.dpa += r.size / k
		}
	}
	slices.SortFunc(dimms, func(a, b *dimmInfo) int { return a.index - b.index })
	return dimms
}

// dimmNames is the interleave set the region's devices name (nil when
// none does) and the location of the device that names it, or of the
// region's first device.
func (r *region) dimmNames() ([]string, string) {
	for _, d := range r.daxs {
		if d.d.DIMMs != nil {
			return d.d.DIMMs, d.loc
		}
	}
	if r.pmem != nil {
		return r.pmem.d.DIMMs, r.pmem.loc
	}
	return nil, r.owner()
}

// dimmIDs is what libpmem2's pmem2_source_device_id makes of the region's
// DIMMs: libndctl lists a bus's DIMMs in the reverse of the order it read
// them from the bus directory (each is added at the head of the list),
// fusefs lists a directory sorted by name, and the ids of the DIMMs that
// map the region are concatenated in that list's order. ok is false when
// one of them has no id (PMEM2_E_NOSUPP).
func (r *region) dimmIDs() (id string, ok bool) {
	set := make([]*dimmInfo, 0, len(r.mappings))
	for _, m := range r.mappings {
		set = append(set, m.dimm)
	}
	slices.SortFunc(set, func(a, b *dimmInfo) int { return strings.Compare(b.name, a.name) })
	for _, d := range set {
		if !d.hasID {
			return "", false
		}
		id += d.id
	}
	return id, true
}

// usc is what pmem2_source_device_usc makes of the region's DIMMs: the sum
// of their dirty shutdown counts; ok is false when one has none
// (PMEM2_E_NOSUPP).
func (r *region) usc() (sum uint64, ok bool) {
	for _, m := range r.mappings {
		if m.dimm.dirty < 0 {
			return 0, false
		}
		sum += uint64(m.dimm.dirty)
	}
	return sum, true
}

// wholeDIMMs reports whether the declared DIMMs names are all whole: each
// with an id and a dirty shutdown count, and no declared node or fault on
// what it generates.
func (s *Spec) wholeDIMMs(b *builder, names []string) bool {
	for i, d := range s.DIMMs {
		if !slices.Contains(names, d.Name) {
			continue
		}
		if d.ID != nil && *d.ID == "" || d.DirtyShutdown < 0 || s.touchesAny(b.generatedBy(fmt.Sprintf("dimms[%d]", i))) {
			return false
		}
	}
	return true
}

// deriveRAS adds to o, the derived outcome of the Device DAX in, what
// NumaNode, DeviceID, DeviceUSC and BadBlocks return for caller c (see
// Spec.Checks), unless a declared node or fault touches what they read:
// the files of the device's region and of its DIMMs. It reports whether
// what it added holds only for c.
func (s *Spec) deriveRAS(b *builder, in *daxInfo, c Caller, o *Outcome) (byCaller bool) {
	if !in.ndBus {
		// No region holds the device: no NUMA node, no DIMMs, and an
		// empty bad block context.
		o.NUMANodeRC = new(pmem2.ErrDAXRegionNotFound)
		o.DeviceIDRC, o.USCRC = new(pmem2.ErrNoSupp), new(pmem2.ErrNoSupp)
		o.BadBlocks = new(BadBlocks(nil))
		return false
	}
	if b.lay == nil {
		return false
	}
	pl := b.lay.place[in.loc]
	r := pl.region
	deps := b.generatedBy(r.owner())
	for _, m := range r.mappings {
		deps = append(deps, b.generatedBy(m.dimm.loc)...)
	}
	if s.touchesAny(deps) {
		return false
	}
	o.NUMANode = new(r.numa)
	if id, ok := r.dimmIDs(); ok {
		o.DeviceID = new(id)
	} else {
		o.DeviceIDRC = new(pmem2.ErrNoSupp)
	}
	if usc, ok := r.usc(); ok {
		o.USC = new(usc)
	} else {
		o.USCRC = new(pmem2.ErrNoSupp)
	}
	if c == CallerRoot {
		o.BadBlocks = new(clip(b.lay.regionSectors(r), pl.start-r.start, pl.size))
	} else {
		// The nd_dax's resource, which places the device in its region,
		// is root's (0400).
		o.BadBlocksRC = new(pmem2.ErrCannotReadBounds)
	}
	return true
}
