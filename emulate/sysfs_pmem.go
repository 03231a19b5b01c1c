package emulate

import (
	"fmt"

	"github.com/pmem2emu/pmem2emu/fusefs"
)

// fsdax pmem: the namespace of the device's own region is bound to nd_pmem,
// which registers the block device below it (namespaceP.0/block/pmemN),
// reachable from sys/block, sys/class/block and sys/dev/block. bad are
// its bad blocks, which the block device lists relative to itself.
func (b *builder) pmemDevice(d *pmemInfo, pl placement, bad BadBlocks) {
	o := d.loc
	ns := pmemNamespaceDir(d)
	// "memory" without a pfn device is what memmap= pmem shows: ndctl
	// lists it as fsdax, map mem.
	b.ndNamespace(o, ns, pl.size, pl.start, d.d.NUMANode, d.d.NUMANode, "memory", "", "", "nd_pmem")
	b.attr(o, ns+"/sector_size", "\n", modeRO)
	dir := pmemBlockDir(d)
	b.dir(o, dir)
	devno := fmt.Sprintf("%d:%d", d.major, d.minor)
	b.attr(o, dir+"/dev", devno+"\n", modeRO)
	b.attr(o, dir+"/size", dec(d.d.Size/512), modeRO)
	b.attr(o, dir+"/ro", "0\n", modeRO)
	b.attr(o, dir+"/removable", "0\n", modeRO)
	b.attr(o, dir+"/badblocks", badblocksFile(asSectors(bad)), modeRW)
	b.attr(o, dir+"/uevent", blockUevent(d.d.Name, DevNum{d.major, d.minor}), modeRW)
	b.link(o, dir+"/subsystem", "sys/class/block")
	b.link(o, dir+"/device", ns)
	b.link(o, "sys/block/"+d.d.Name, dir)
	b.link(o, "sys/class/block/"+d.d.Name, dir)
	b.link(o, "sys/dev/block/"+devno, dir)
	b.put(o, "dev/"+d.d.Name, &fusefs.Node{Type: fusefs.TypeBlockDev, Mode: 0o660, GID: 6, Major: d.major, Minor: d.minor})
}

// pmemNamespaceDir is the namespace of the pmem device's own region.
func pmemNamespaceDir(d *pmemInfo) string {
	return fmt.Sprintf("%s/namespace%d.0", regionDir(d.region), d.region)
}

// pmemBlockDir is the block device's directory, where sys/block/<name>
// leads.
func pmemBlockDir(d *pmemInfo) string { return pmemNamespaceDir(d) + "/block/" + d.d.Name }

func blockUevent(name string, n DevNum) string {
	return fmt.Sprintf("MAJOR=%d\nMINOR=%d\nDEVNAME=%s\nDEVTYPE=disk\n", n.Major, n.Minor, name)
}
