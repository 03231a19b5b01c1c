package emulate

import (
	"fmt"
	"math/bits"
	"sort"
)

// Physical address layout: the fixture's pmem sits above 9 GiB, like e820
// pmem above RAM, each region starting on a 1 GiB boundary, its devices
// back to back in instance order. Nothing overlaps.
const (
	physBase    = 0x240000000
	maxPhys     = 1 << 52 // x86-64's largest physical address space
	regionAlign = 1 << 30
)

// region is one NVDIMM region (regionR) with the devices it holds.
type region struct {
	id          int
	numa        int
	target      int
	start, size uint64
	align       uint64
	daxs        []*daxInfo // sorted by instance
	pmem        *pmemInfo
	// mappings are the region's share of each DIMM of its interleave
	// set, in position order (see Spec.interleave).
	mappings []mapping
}

// owner is the JSON location of the device that generates the region's
// own files: its first device.
func (r *region) owner() string {
	if len(r.daxs) > 0 {
		return r.daxs[0].loc
	}
	if r.pmem != nil {
		return r.pmem.loc
	}
	return fmt.Sprintf("region%d", r.id)
}

// placement is where one device's memory lies.
type placement struct {
	start, size uint64
	region      *region
}

type layout struct {
	ndBus   bool // some device sits on the NVDIMM bus
	regions []*region
	place   map[string]placement // by device location
}

func (s *Spec) layout(p *problems) *layout {
	lay := &layout{place: map[string]placement{}}
	byID := map[int]*region{}
	daxs := s.daxInfos()
	pmems := s.pmemInfos()
	for i := range daxs {
		d := &daxs[i]
		if !d.ndBus {
			continue
		}
		r := byID[d.region]
		if r == nil {
			r = &region{id: d.region, numa: d.d.NUMANode, target: d.targetNode}
			byID[d.region] = r
		}
		r.daxs = append(r.daxs, d)
		r.align = max(r.align, d.align)
	}
	for i := range pmems {
		d := &pmems[i]
		byID[d.region] = &region{id: d.region, numa: d.d.NUMANode, target: d.d.NUMANode, pmem: d, align: DefaultAlign}
	}
	for _, r := range byID {
		sort.Slice(r.daxs, func(i, j int) bool { return r.daxs[i].inst < r.daxs[j].inst })
		lay.regions = append(lay.regions, r)
	}
	sort.Slice(lay.regions, func(i, j int) bool { return lay.regions[i].id < lay.regions[j].id })
	lay.ndBus = len(lay.regions) > 0

	cursor := uint64(physBase)
	ok := true
	// advance reserves size bytes at the cursor for the device at loc.
	advance := func(loc string, size uint64) uint64 {
		start := cursor
		end, carry := bits.Add64(cursor, size, 0)
		if carry != 0 || end > maxPhys {
			if ok {
				p.add(loc+".size", "size-overflow", fmt.Sprintf("the devices' sizes do not fit below the %d-bit physical address limit", bits.Len64(maxPhys)-1))
			}
			ok = false
			return 0
		}
		cursor = end
		return start
	}
	alignUp := func() {
		if cursor%regionAlign != 0 && cursor <= maxPhys {
			cursor += regionAlign - cursor%regionAlign
		}
	}
	for _, r := range lay.regions {
		alignUp()
		r.start = cursor
		for _, d := range r.daxs {
			start := advance(d.loc, d.d.Size)
			lay.place[d.loc] = placement{start: start, size: d.d.Size, region: r}
		}
		if r.pmem != nil {
			start := advance(r.pmem.loc, r.pmem.d.Size)
			lay.place[r.pmem.loc] = placement{start: start, size: r.pmem.d.Size, region: r}
		}
		r.size = cursor - r.start
	}
	for i := range daxs {
		d := &daxs[i]
		if d.ndBus {
			continue
		}
		alignUp()
		start := advance(d.loc, d.d.Size)
		lay.place[d.loc] = placement{start: start, size: d.d.Size}
	}
	return lay
}
