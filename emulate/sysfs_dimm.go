package emulate

import (
	"fmt"
)

// An NFIT bus as the ACPI NFIT driver builds it for label-less NVDIMMs
// (as QEMU's -device nvdimm without label-size, or NVDIMM-N modules): the
// bus's nfit/ attributes, one nmemN device per DIMM with its nfit/
// attributes, and in each region the mappings that name the DIMMs of its
// interleave set. The regions stay namespace_io regions (nstype 4, no
// labels, no interleave set cookie), as the kernel makes them when a DIMM
// has no label area. libndctl reads all of it (add_bus, add_dimm,
// populate_dimm_attributes, mappings_init); libpmem2 sums up the DIMMs of
// a region for pmem2_source_device_id and _device_usc.

// Attributes of the DIMMs that no spec field sets: those of an Intel
// Optane DC persistent memory module.
const (
	dimmVendor   = 0x8089
	dimmDevice   = 0x097a
	dimmRevision = 0x0018
	dimmFormat   = 0x0301
)

// nfitBus generates the NFIT attributes of ndbus0.
func (b *builder) nfitBus() {
	o := ndBusOwner
	b.attr(o, ndBusDir+"/provider", "ACPI.NFIT\n", modeRO)
	b.attr(o, ndBusDir+"/nfit/revision", "1\n", modeRO)
	b.attr(o, ndBusDir+"/nfit/scrub", "0\n", modeRW)
	b.attr(o, ndBusDir+"/nfit/hw_error_scrub", "1\n", modeRW)
	b.dir(o, ndBusSys+"/drivers/nvdimm")
}

// dimm generates nmemN, owned by the DIMM's declaration or, for a DIMM
// generated for a region, by the region's owner.
func (b *builder) dimm(d *dimmInfo, active bool) {
	o := d.loc
	dir := fmt.Sprintf("%s/%s", ndBusDir, d.name)
	b.ndDevice(o, dir, "nvdimm", "nd:t1", "nvdimm")
	devno := fmt.Sprintf("%d:%d", nmemMajor, d.index)
	b.attr(o, dir+"/dev", devno+"\n", modeRO)
	b.link(o, "sys/dev/char/"+devno, dir)
	// The DIMMs support no commands: nothing is ever submitted to them.
	b.attr(o, dir+"/commands", "\n", modeRO)
	// Not "label": the DIMMs have no label area.
	b.attr(o, dir+"/flags", "\n", modeRO)
	b.attr(o, dir+"/state", map[bool]string{true: "active\n", false: "idle\n"}[active], modeRO)
	b.attr(o, dir+"/numa_node", sdec(d.numa), modeRO)

	vendor, serial := uint64(dimmVendor), uint64(0x706d0000+d.index)
	var loc, date uint64
	if _, err := fmt.Sscanf(d.id, "%04x-%02x-%04x-%08x", &vendor, &loc, &date, &serial); err != nil {
		vendor, serial = dimmVendor, uint64(0x706d0000+d.index)
	}
	nfit := dir + "/nfit"
	b.attr(o, nfit+"/handle", cHex(d.handle()), modeRO)
	b.attr(o, nfit+"/phys_id", cHex(0x20+uint64(d.index)), modeRO)
	b.attr(o, nfit+"/vendor", fmt.Sprintf("0x%04x\n", vendor), modeRO)
	b.attr(o, nfit+"/device", fmt.Sprintf("0x%04x\n", dimmDevice), modeRO)
	b.attr(o, nfit+"/rev_id", fmt.Sprintf("0x%04x\n", dimmRevision), modeRO)
	b.attr(o, nfit+"/subsystem_vendor", fmt.Sprintf("0x%04x\n", dimmVendor), modeRO)
	b.attr(o, nfit+"/subsystem_device", fmt.Sprintf("0x%04x\n", dimmDevice), modeRO)
	b.attr(o, nfit+"/subsystem_rev_id", fmt.Sprintf("0x%04x\n", dimmRevision), modeRO)
	b.attr(o, nfit+"/format", fmt.Sprintf("0x%04x\n", dimmFormat), modeRO)
	b.attr(o, nfit+"/formats", "1\n", modeRO)
	b.attr(o, nfit+"/serial", fmt.Sprintf("0x%08x\n", serial), modeRO)
	b.attr(o, nfit+"/flags", "\n", modeRO)
	if d.hasID {
		b.attr(o, nfit+"/id", d.id+"\n", modeRO)
	}
	if d.dirty >= 0 {
		b.attr(o, nfit+"/dirty_shutdown", sdec(int(d.dirty)), modeRO)
	}
}

// mappings generates the region's mappings count and a mappingK file for
// each DIMM of its interleave set: "nmemN,OFFSET,LENGTH,POSITION".
func (b *builder) mappings(r *region) {
	o := r.owner()
	dir := regionDir(r.id)
	b.attr(o, dir+"/mappings", sdec(len(r.mappings)), modeRO)
	for k, m := range r.mappings {
		b.attr(o, fmt.Sprintf("%s/mapping%d", dir, k), fmt.Sprintf("%s,%d,%d,%d\n", m.dimm.name, m.offset, m.length, m.position), modeRO)
	}
	if len(r.mappings) > 0 {
		b.attr(o, dir+"/nfit/range_index", sdec(r.id+1), modeRO)
	}
}

// cHex is printf's "%#x\n": "0" for 0, as the kernel writes a handle.
func cHex(v uint64) string {
	if v == 0 {
		return "0\n"
	}
	return fmt.Sprintf("%#x\n", v)
}
