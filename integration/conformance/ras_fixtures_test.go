package conformance

import (
	"fmt"
	"syscall"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
)

// The fixtures of the calls on DIMMs and bad blocks (NumaNode, DeviceID,
// DeviceUSC, BadBlocks): healthy NFIT trees, each attribute those calls
// read broken one way, an e820 bus without DIMMs, and the fixture's own
// files on a pmem device.

// ndBus is the NVDIMM bus of every fixture.
const ndBus = "sys/devices/platform/e820_pmem/ndbus0"

func regionPath(id int) string { return fmt.Sprintf("%s/region%d", ndBus, id) }

// rasSpec holds one Device DAX a region (two in region1), each reading
// its DIMMs, NUMA node or bad blocks from something healthy or broken,
// and a pmem device that hosts the fixture's files.
func rasSpec() *emulate.Spec {
	const gib = 1 << 30
	dev := func(name string, numa int, dimms []string, bad ...emulate.BadBlock) emulate.DAXDevice {
		return emulate.DAXDevice{Name: name, Size: gib, NUMANode: numa, DIMMs: dimms, BadBlocks: bad}
	}
	dimms := func(names ...string) []string { return names }
	text := func(p, content string) emulate.Node {
		return emulate.Node{Path: p, Type: fusefs.TypeFile, Mode: 0o444, Content: content}
	}
	s := &emulate.Spec{
		DAXDevices: []emulate.DAXDevice{
			// Healthy: one DIMM; two devices on two interleaved DIMMs, a
			// bad range across them and one longer than a badblocks line;
			// a DIMM shared by two regions.
			dev("dax0.0", 0, dimms("nmem0"), emulate.BadBlock{Offset: 4096, Length: 4096}, emulate.BadBlock{Offset: gib - 512, Length: 512}),
			dev("dax1.0", 1, dimms("nmem1", "nmem2"), emulate.BadBlock{Offset: gib - 4096, Length: 4096}),
			dev("dax1.1", 1, dimms("nmem1", "nmem2"), emulate.BadBlock{Offset: 0, Length: 4096}, emulate.BadBlock{Offset: 1 << 20, Length: 1 << 20}),
			dev("dax2.0", 1, dimms("nmem2", "nmem3")),
			// DIMM attributes: an id that cannot be read, a count in hex,
			// a negative count, counts beyond LLONG_MAX, a DIMM libndctl
			// drops (its handle cannot be read), an id with blanks.
			dev("dax3.0", 0, dimms("nmem4")),
			dev("dax4.0", 0, dimms("nmem5")),
			dev("dax5.0", 0, dimms("nmem6")),
			dev("dax6.0", 0, dimms("nmem7", "nmem8")),
			dev("dax16.0", 0, dimms("nmem11")),
			dev("dax17.0", 0, dimms("nmem12")),
			// Mappings: a count that is junk, a mapping that does not
			// parse, one without a position.
			dev("dax7.0", 0, nil),
			dev("dax8.0", 0, nil),
			dev("dax9.0", 0, dimms("nmem10")),
			// The region's NUMA node: junk, unreadable, missing.
			dev("dax10.0", 1, nil),
			dev("dax11.0", 1, nil),
			dev("dax12.0", 1, nil),
			// Bad blocks: an unreadable list; lines whose numbers overflow;
			// an unreadable region resource.
			dev("dax13.0", 0, nil, emulate.BadBlock{Offset: 0, Length: 512}),
			dev("dax14.0", 0, nil),
			dev("dax15.0", 0, nil, emulate.BadBlock{Offset: 0, Length: 512}),
		},
		PmemDevices: []emulate.PmemDevice{{Name: "pmem0", Size: gib, NUMANode: 1, HostsFiles: true,
			BadBlocks: []emulate.BadBlock{{Offset: 8192, Length: 1024}}}},
		Nodes: []emulate.Node{
			{Path: "data", Type: fusefs.TypeDir, Mode: 0o755},
			{Path: "data/file", Type: fusefs.TypeFile, Mode: 0o644, Content: "on pmem0\n"},
			{Path: "data/empty", Type: fusefs.TypeFile, Mode: 0o644},
			{Path: "data/sparse", Type: fusefs.TypeFile, Mode: 0o644, Size: 1 << 30},
			{Path: ndBus + "/nmem4/nfit/id", Type: fusefs.TypeDir},
			text(ndBus+"/nmem5/nfit/dirty_shutdown", "0x10\n"),
			text(ndBus+"/nmem6/nfit/dirty_shutdown", "-5\n"),
			text(ndBus+"/nmem7/nfit/dirty_shutdown", "99999999999999999999\n"),
			text(ndBus+"/nmem8/nfit/dirty_shutdown", "9223372036854775807\n"),
			{Path: ndBus + "/nmem11/nfit/handle", Type: fusefs.TypeDir},
			text(regionPath(7)+"/mappings", "junk\n"),
			text(regionPath(8)+"/mapping0", "nmem9,abc\n"),
			text(regionPath(9)+"/mapping0", "nmem10,0,1073741824\n"),
			text(regionPath(10)+"/numa_node", "junk\n"),
			{Path: regionPath(11) + "/numa_node", Type: fusefs.TypeDir},
			text(regionPath(14)+"/badblocks", "18446744073709551615 1\n-8 8\n16 4294967296\n"),
		},
		Faults: []emulate.Fault{
			{Path: regionPath(12) + "/numa_node", Op: fusefs.OpOpen, Errno: syscall.ENOENT},
			{Path: regionPath(13) + "/badblocks", Op: fusefs.OpOpen, Errno: syscall.EACCES},
			{Path: regionPath(15) + "/resource", Op: fusefs.OpOpen, Errno: syscall.EACCES},
		},
	}
	for i := range 14 {
		d := emulate.DIMM{Name: fmt.Sprintf("nmem%d", i), ID: new(fmt.Sprintf("8089-a2-1837-%08x", 0xc000+i)), DirtyShutdown: int64(i)}
		if i == 12 {
			d.ID = new("  an id with blanks  ")
		}
		s.DIMMs = append(s.DIMMs, d)
	}
	for i := range s.DAXDevices {
		s.DAXDevices[i].Minor = uint32(i)
	}
	return s
}

// e820Spec is memmap= pmem: no DIMMs, so every device's id is "" and its
// count 0; the fixture's files lie on its pmem device.
func e820Spec() *emulate.Spec {
	return &emulate.Spec{
		NDBusProvider: "e820",
		DAXDevices:    []emulate.DAXDevice{{Name: "dax0.0", Size: 1 << 30, BadBlocks: []emulate.BadBlock{{Offset: 0, Length: 4096}}}},
		PmemDevices:   []emulate.PmemDevice{{Name: "pmem0", Size: 1 << 30, HostsFiles: true}},
		Nodes:         []emulate.Node{{Path: "data/file", Type: fusefs.TypeFile, Mode: 0o644, Content: "on pmem0\n"}},
	}
}
