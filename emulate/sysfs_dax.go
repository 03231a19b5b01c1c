package emulate

import (
	"fmt"
	"path"

	"github.com/pmem2emu/pmem2emu/fusefs"
)

// Device DAX in sysfs. With the NVDIMM bus the device hangs below its
// region's nd_dax (regionR/daxR.(N+1)/daxR.N, as the kernel's dax_pmem
// names them); without it below a platform device hmem.R, as dax_hmem
// does. The bus model links subsystem to bus/dax and binds device_dax;
// the class model nests the device in dax/ and links subsystem to
// class/dax and device to the nd_dax.
//
// The C libpmem2 (PMDK 1.10 and later) returns the nd_dax's size and align,
// as libndctl reads them: size_raw and align_raw fill those two files.
// The device's own size and align, dax_region/size and dax_region/align
// (what PMDK 1.9 read) always hold the declared Size and Align.
const (
	daxBusSys   = "sys/bus/dax"
	daxClassSys = "sys/class/dax"
	// daxSupportedAlignments is what dax_pmem offers on x86-64.
	daxSupportedAlignments = "4096 2097152 1073741824 \n"
)

// ndDaxName is the name of the nd_dax device that holds daxR.N: instance
// N+1 of the region, like the dax0.1 above dax0.0 on real machines.
func ndDaxName(d *daxInfo) string { return fmt.Sprintf("dax%d.%d", d.region, d.inst+1) }

// daxParentDir is the directory that holds the dax device (and its
// dax_region/): the nd_dax, or hmem.R without the NVDIMM bus.
func daxParentDir(d *daxInfo) string {
	if d.ndBus {
		return regionDir(d.region) + "/" + ndDaxName(d)
	}
	return fmt.Sprintf("%s/hmem.%d", platformDir, d.region)
}

// daxDeviceDir is the real directory of the device.
func daxDeviceDir(d *daxInfo) string {
	if d.class {
		return daxParentDir(d) + "/dax/" + d.d.Name
	}
	return daxParentDir(d) + "/" + d.d.Name
}

// daxRegionDir is where dax_region/ lives (when it does).
func daxRegionDir(d *daxInfo) string { return daxParentDir(d) + "/dax_region" }

func (b *builder) daxDevice(d *daxInfo, pl placement) {
	o := d.loc
	parent := daxParentDir(d)
	if d.ndBus {
		b.ndDaxParent(d, pl)
	} else {
		b.hmemParent(d)
	}
	if d.daxRegion {
		rd := daxRegionDir(d)
		b.dir(o, rd)
		b.attr(o, rd+"/id", sdec(d.region), modeRO)
		b.attr(o, rd+"/size", dec(pl.size), modeRO)
		b.attr(o, rd+"/align", dec(d.align), modeRoot)
		// A static region is fully used by its one device.
		b.attr(o, rd+"/available_size", "0\n", modeRO)
	}

	dir := daxDeviceDir(d)
	b.dir(o, dir)
	devno := fmt.Sprintf("%d:%d", d.major, d.minor)
	b.attr(o, dir+"/dev", devno+"\n", modeRO)
	b.attr(o, dir+"/size", dec(d.d.Size), modeRW)
	b.attr(o, dir+"/align", dec(d.align), modeRW)
	b.attr(o, dir+"/resource", hex(pl.start), modeRoot)
	b.attr(o, dir+"/numa_node", sdec(d.d.NUMANode), modeRO)
	if d.targetNode >= 0 {
		b.attr(o, dir+"/target_node", sdec(d.targetNode), modeRO)
	}
	b.attr(o, dir+"/modalias", "dax:t0\n", modeRO)
	uevent := fmt.Sprintf("MAJOR=%d\nMINOR=%d\nDEVNAME=%s\n", d.major, d.minor, d.d.Name)
	if pl.size > 0 {
		b.dir(o, dir+"/mapping0")
		b.attr(o, dir+"/mapping0/start", hex(pl.start), modeRoot)
		b.attr(o, dir+"/mapping0/end", hex(pl.start+pl.size-1), modeRoot)
		b.attr(o, dir+"/mapping0/page_offset", hex(0), modeRoot)
	}
	if d.class {
		b.link(o, dir+"/subsystem", daxClassSys)
		b.link(o, dir+"/device", parent)
		b.link(o, daxClassSys+"/"+d.d.Name, dir)
	} else {
		uevent += "DRIVER=device_dax\nMODALIAS=dax:t0\n"
		b.link(o, dir+"/subsystem", daxBusSys)
		b.link(o, dir+"/driver", daxBusSys+"/drivers/device_dax")
		b.link(o, daxBusSys+"/devices/"+d.d.Name, dir)
		b.link(o, daxBusSys+"/drivers/device_dax/"+d.d.Name, dir)
		b.dir("", daxBusSys+"/drivers/kmem")
		b.once(daxBusSys+"/uevent", &fusefs.Node{Type: fusefs.TypeFile, Mode: 0o200})
	}
	b.attr(o, dir+"/uevent", uevent, modeRW)
	b.link(o, "sys/dev/char/"+devno, dir)
	b.put(o, "dev/"+d.d.Name, &fusefs.Node{Type: fusefs.TypeCharDev, Mode: 0o600, Major: d.major, Minor: d.minor})
}

// ndDaxParent generates namespaceR.N in devdax mode and the nd_dax that
// claims it.
func (b *builder) ndDaxParent(d *daxInfo, pl placement) {
	o := d.loc
	ns := fmt.Sprintf("%s/namespace%d.%d", regionDir(d.region), d.region, d.inst)
	nd := daxParentDir(d)
	b.ndNamespace(o, ns, pl.size, pl.start, d.d.NUMANode, d.targetNode, "dax", path.Base(nd), "dax", "")
	b.ndDevice(o, nd, "nd_dax", "nd:t7", "dax_pmem")
	b.attr(o, nd+"/mode", "pmem\n", modeRW)
	b.attr(o, nd+"/uuid", daxUUID(d), modeRW)
	b.attr(o, nd+"/namespace", path.Base(ns)+"\n", modeRW)
	b.attr(o, nd+"/align", b.rawOr(o, nd+"/align", "align_raw", d.d.AlignRaw, dec(d.align)), modeRW)
	b.attr(o, nd+"/size", b.rawOr(o, nd+"/size", "size_raw", d.d.SizeRaw, dec(pl.size)), modeRO)
	b.attr(o, nd+"/resource", hex(pl.start), modeRoot)
	b.attr(o, nd+"/supported_alignments", daxSupportedAlignments, modeRO)
	b.attr(o, nd+"/numa_node", sdec(d.d.NUMANode), modeRO)
}

// rawOr is the content of the file p: raw when the spec gave it (and p is
// then recorded as the file that the spec field key of owner fills),
// otherwise def.
func (b *builder) rawOr(owner, p, key string, raw *string, def string) string {
	if raw == nil {
		return def
	}
	b.raw[p] = owner + "." + key
	return *raw
}

// hmemParent generates the platform device hmem.R.
func (b *builder) hmemParent(d *daxInfo) {
	o := d.loc
	dir := daxParentDir(d)
	name := path.Base(dir)
	b.dir(o, dir)
	b.link(o, dir+"/subsystem", "sys/bus/platform")
	b.link(o, dir+"/driver", "sys/bus/platform/drivers/hmem")
	b.link(o, "sys/bus/platform/devices/"+name, dir)
	b.link(o, "sys/bus/platform/drivers/hmem/"+name, dir)
	b.attr(o, dir+"/modalias", "platform:hmem\n", modeRO)
	b.attr(o, dir+"/uevent", "DRIVER=hmem\nMODALIAS=platform:hmem\n", modeRW)
	b.attr(o, dir+"/numa_node", sdec(d.d.NUMANode), modeRO)
}

// daxUUID is a fixed, readable uuid per device, so fixtures are
// reproducible.
func daxUUID(d *daxInfo) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x\n", 0x706d656d, uint64(d.region)<<24|uint64(d.inst))
}
