package emulate

import (
	"fmt"
	"path"
)

// The NVDIMM ("nd") bus as the e820 driver (memmap=… pmem) builds it.
// libndctl walks class/nd → ndbus0 → regionR → namespaceR.N → nd_dax, and
// the C libpmem2 reads Device DAX size and alignment from that walk.
const (
	platformDir = "sys/devices/platform"
	e820Dir     = platformDir + "/e820_pmem"
	ndBusDir    = e820Dir + "/ndbus0"
	ndBusSys    = "sys/bus/nd"
	ndCtlMajor  = 250
	ndBusOwner  = "the NVDIMM bus"
)

func regionDir(id int) string { return fmt.Sprintf("%s/region%d", ndBusDir, id) }

// ndDevice adds what every device on the nd bus has: subsystem, uevent,
// bus/nd/devices link and, when bound, driver and the driver's link back.
func (b *builder) ndDevice(owner, dir, devtype, modalias, driver string) {
	name := path.Base(dir)
	b.dir(owner, dir)
	b.link(owner, dir+"/subsystem", ndBusSys)
	b.link(owner, ndBusSys+"/devices/"+name, dir)
	uevent := ""
	if devtype != "" {
		uevent += "DEVTYPE=" + devtype + "\n"
		b.attr(owner, dir+"/devtype", devtype+"\n", modeRO)
	}
	if driver != "" {
		uevent += "DRIVER=" + driver + "\n"
		b.link(owner, dir+"/driver", ndBusSys+"/drivers/"+driver)
		b.link(owner, ndBusSys+"/drivers/"+driver+"/"+name, dir)
	}
	if modalias != "" {
		uevent += "MODALIAS=" + modalias + "\n"
		b.attr(owner, dir+"/modalias", modalias+"\n", modeRO)
	}
	b.attr(owner, dir+"/uevent", uevent, modeRW)
}

// ndBus generates the platform device, ndbus0 and its ndctl0 control
// device, and the bus and driver directories. With nfit the bus is an
// ACPI NFIT bus (see nfitBus); it keeps the e820 bus's place, so paths
// of declared nodes and faults stay valid: no tool reads the name of the
// bus's parent.
func (b *builder) ndBus(nfit bool) {
	o := ndBusOwner
	b.dir(o, e820Dir)
	b.link(o, e820Dir+"/subsystem", "sys/bus/platform")
	b.link(o, e820Dir+"/driver", "sys/bus/platform/drivers/e820_pmem")
	b.link(o, "sys/bus/platform/drivers/e820_pmem/e820_pmem", e820Dir)
	b.link(o, "sys/bus/platform/devices/e820_pmem", e820Dir)
	b.attr(o, e820Dir+"/modalias", "platform:e820_pmem\n", modeRO)
	b.attr(o, e820Dir+"/uevent", "DRIVER=e820_pmem\nMODALIAS=platform:e820_pmem\n", modeRW)
	b.attr(o, e820Dir+"/driver_override", "(null)\n", modeRW)

	for _, drv := range []string{"nd_bus", "nd_region", "nd_pmem", "dax_pmem", "nd_btt", "nd_pfn"} {
		b.dir(o, ndBusSys+"/drivers/"+drv)
	}
	b.attr(o, ndBusSys+"/uevent", "", 0o200)
	b.ndDevice(o, ndBusDir, "", "", "nd_bus")
	if nfit {
		b.nfitBus()
	} else {
		b.attr(o, ndBusDir+"/provider", "e820\n", modeRO)
	}
	b.attr(o, ndBusDir+"/commands", "\n", modeRO)
	b.attr(o, ndBusDir+"/wait_probe", "1\n", modeRO)

	ctl := ndBusDir + "/ndctl0"
	b.dir(o, ctl)
	b.attr(o, ctl+"/dev", fmt.Sprintf("%d:0\n", ndCtlMajor), modeRO)
	b.attr(o, ctl+"/uevent", fmt.Sprintf("MAJOR=%d\nMINOR=0\nDEVNAME=ndctl0\n", ndCtlMajor), modeRW)
	b.link(o, ctl+"/device", ndBusDir)
	b.link(o, ctl+"/subsystem", "sys/class/nd")
	b.link(o, "sys/class/nd/ndctl0", ctl)
	b.link(o, fmt.Sprintf("sys/dev/char/%d:0", ndCtlMajor), ctl)
}

// ndRegion generates regionR with the attributes libndctl reads; bad
// lists the region's bad sectors.
func (b *builder) ndRegion(r *region, bad []sectors) {
	o := r.owner()
	dir := regionDir(r.id)
	b.ndDevice(o, dir, "nd_pmem", "nd:t2", "nd_region")
	b.attr(o, dir+"/size", dec(r.size), modeRO)
	b.mappings(r)
	b.attr(o, dir+"/nstype", "4\n", modeRO)
	b.attr(o, dir+"/read_only", "0\n", modeRW)
	b.attr(o, dir+"/resource", hex(r.start), modeRoot)
	b.attr(o, dir+"/persistence_domain", "memory_controller\n", modeRO)
	b.attr(o, dir+"/numa_node", sdec(r.numa), modeRO)
	if r.target >= 0 {
		b.attr(o, dir+"/target_node", sdec(r.target), modeRO)
	}
	b.attr(o, dir+"/align", dec(r.align), modeRW)
	b.attr(o, dir+"/available_size", "0\n", modeRO)
	b.attr(o, dir+"/max_available_extent", "0\n", modeRO)
	b.attr(o, dir+"/deep_flush", "1\n", modeRW)
	b.attr(o, dir+"/badblocks", badblocksFile(bad), modeRO)
	// The seeds name idle devices the kernel keeps for configuration;
	// libndctl reads them but needs them only to create namespaces.
	b.attr(o, dir+"/namespace_seed", "\n", modeRO)
	b.attr(o, dir+"/dax_seed", "\n", modeRO)
	b.attr(o, dir+"/pfn_seed", "\n", modeRO)
	b.attr(o, dir+"/btt_seed", "\n", modeRO)
}

// ndNamespace generates namespaceR.N, a namespace_io (no labels) as e820
// creates them.
func (b *builder) ndNamespace(owner, dir string, size, start uint64, numa, target int, mode, holder, holderClass, driver string) {
	b.ndDevice(owner, dir, "nd_namespace_io", "nd:t4", driver)
	b.attr(owner, dir+"/nstype", "4\n", modeRO)
	b.attr(owner, dir+"/size", dec(size), modeRO)
	b.attr(owner, dir+"/mode", mode+"\n", modeRO)
	b.attr(owner, dir+"/holder", holder+"\n", modeRO)
	b.attr(owner, dir+"/holder_class", holderClass+"\n", modeRW)
	b.attr(owner, dir+"/force_raw", "0\n", modeRW)
	b.attr(owner, dir+"/resource", hex(start), modeRoot)
	b.attr(owner, dir+"/numa_node", sdec(numa), modeRO)
	if target >= 0 {
		b.attr(owner, dir+"/target_node", sdec(target), modeRO)
	}
}
