package emulate

import (
	"slices"

	"github.com/pmem2emu/pmem2emu/fusefs"
)

// Healthy is Default without what is broken on purpose: only the Device
// DAX devices whose sysfs is whole (no size_raw or align_raw, the NVDIMM
// bus and dax_region/ in place, no declared node or fault on what they
// generate, DIMMs with an id and a dirty shutdown count and no node or
// fault on them) with their DIMMs, the pmem device, and the data and device nodes that no fault
// touches, each with its expectation; no fault rules. A C program using
// libpmem2 on it runs quietly: on Default, every call prints libdaxctl's
// complaints about the broken devices ("dax6.1: add_dev() failed") to
// standard error. `pmem2emu exec` without --spec runs programs on it;
// `pmem2emu check` keeps every broken device of Default.
func Healthy() *Spec {
	d := Default()
	var p problems
	b := d.build(&p)
	s := &Spec{DAXSubsystem: d.DAXSubsystem, NDBusProvider: d.NDBusProvider, PmemDevices: d.PmemDevices}
	for _, in := range d.daxInfos() {
		if in.d.SizeRaw == nil && in.d.AlignRaw == nil && in.ndBus && in.daxRegion && !d.touchesAny(b.generatedBy(in.loc)) &&
			d.wholeDIMMs(b, in.d.DIMMs) {
			s.DAXDevices = append(s.DAXDevices, *in.d)
		}
	}
	for _, dimm := range d.DIMMs {
		if slices.ContainsFunc(s.DAXDevices, func(x DAXDevice) bool { return slices.Contains(x.DIMMs, dimm.Name) }) {
			s.DIMMs = append(s.DIMMs, dimm)
		}
	}
	for _, n := range d.Nodes {
		if !under(n.Path, "sys") && !slices.ContainsFunc(d.Faults, func(f Fault) bool { return fusefs.MatchPath(f.Path, n.Path) }) {
			s.Nodes = append(s.Nodes, n)
		}
	}
	return s
}
