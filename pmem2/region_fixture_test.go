package pmem2

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// What the trees of region_cases_test.go add to the default Device DAX of
// fixture_test.go: an NFIT bus and its DIMMs, interleave sets, bad-block
// lists, and the block devices of fsdax and raw namespaces that regular
// files live on.

// nfit turns ndbus0 into the bus the ACPI NFIT driver makes: provider
// ACPI.NFIT and the nfit/ directory whose revision libndctl tests.
func (s *sysfsTree) nfit() {
	s.t.Helper()
	s.file(ndBusDir+"/provider", "ACPI.NFIT\n")
	s.file(ndBusDir+"/nfit/revision", "2\n")
	s.file(ndBusDir+"/nfit/dsm_mask", "0x3fe\n")
}

// nvdimm adds the DIMM nmem<n> to ndbus0 with what add_dimm needs (dev,
// commands, modalias) and what populate_dimm_attributes needs of an NFIT
// DIMM (nfit/handle, nfit/phys_id); id and dirty, unless "", are the
// contents of nfit/id and nfit/dirty_shutdown.
func (s *sysfsTree) nvdimm(n int, id, dirty string) string {
	s.t.Helper()
	d := fmt.Sprintf("%s/nmem%d", ndBusDir, n)
	for name, v := range map[string]string{
		"dev": fmt.Sprintf("251:%d\n", n), "commands": "smart smart_thresh get_size get_data set_data call\n",
		"modalias": "nd:t1\n", "devtype": "nvdimm\n", "flags": "\n", "available_slots": "254\n",
		"nfit/handle": fmt.Sprintf("0x%x\n", n), "nfit/phys_id": fmt.Sprintf("0x%x\n", n+16),
		"nfit/serial": fmt.Sprintf("0x%08x\n", 0xabc+n), "nfit/vendor": "0x8089\n", "nfit/device": "0x979\n",
		"nfit/formats": "1\n", "nfit/format": "0x201\n", "nfit/family": "0\n", "nfit/flags": "\n",
	} {
		s.file(d+"/"+name, v)
	}
	if id != "" {
		s.file(d+"/nfit/id", id)
	}
	if dirty != "" {
		s.file(d+"/nfit/dirty_shutdown", dirty)
	}
	s.linkTo(fmt.Sprintf("dev/char/251:%d", n), d)
	return d
}

// dimmID is the id the kernel's NFIT driver shows for a DIMM of serial
// 0xabc+n: vendor-location-date-serial.
func dimmID(n int) string { return fmt.Sprintf("8089-a2-1837-%08x", 0xabc+n) }

// interleave makes region0 an interleave set of the DIMMs nmem<n>…: its
// mappings count and mapping<K> = "nmemN,OFFSET,LENGTH,POSITION", each DIMM
// giving an equal share of the region's 1 GiB.
func (s *sysfsTree) interleave(dimms ...int) {
	s.t.Helper()
	s.file(region0+"/mappings", fmt.Sprintf("%d\n", len(dimms)))
	for k, n := range dimms {
		s.file(fmt.Sprintf("%s/mapping%d", region0, k), fmt.Sprintf("nmem%d,0,%d,%d\n", n, gib/len(dimms), k))
	}
}

// dimmDAX is the default Device DAX on an NFIT bus whose region0 is an
// interleave set of the DIMMs given, nmem<n> having id dimmID(n) and
// dirty shutdown count n+7.
func dimmDAX(dimms ...int) func(*sysfsTree) {
	return func(s *sysfsTree) {
		s.busDAX("1:5")
		s.nfit()
		for _, n := range dimms {
			s.nvdimm(n, dimmID(n)+"\n", fmt.Sprintf("%d\n", n+7))
		}
		s.interleave(dimms...)
	}
}

// onDIMMs is dimmDAX(0) with change applied.
func onDIMMs(change func(s *sysfsTree)) func(*sysfsTree) {
	return func(s *sysfsTree) {
		dimmDAX(0)(s)
		change(s)
	}
}

// badblocks writes region0's bad-block list, as the kernel shows it:
// "SECTOR COUNT" lines, 512-byte sectors from the region's start.
func (s *sysfsTree) badblocks(lines string) { s.t.Helper(); s.file(region0+"/badblocks", lines) }

// placeNS puts namespace0.0's nd_dax at offset off of region0 (both
// resources are 0400, as in the kernel).
func (s *sysfsTree) placeNS(off uint64) {
	s.t.Helper()
	s.fileMode(ndDax0+"/resource", fmt.Sprintf("0x%x\n", 0x240000000+off), 0o400)
}

// pmemNamespace is a namespace of region0 whose block device a regular
// file sits on: namespace0.<n> of mode mode ("memory" for fsdax, "raw"),
// claimed by the device holder ("" for none, "pfn0.N" or "btt0.N", which
// then holds the block device), block device bdev numbered devno
// ("major:minor", a file's st_dev), 1 PiB from 16 MiB into the region
// (offsets in the namespace are those of the file system's extents, which
// can lie anywhere on the host's disk).
type pmemNamespace struct {
	n                         int
	mode, holder, bdev, devno string
}

// add lays the namespace out as nd_pmem (or nd_pfn, nd_btt) registers it:
// <claimer>/block/<bdev> with dev, size and badblocks, reachable as
// sys/block/<bdev> and sys/dev/block/<devno>.
func (s *sysfsTree) pmemNS(p pmemNamespace) string {
	s.t.Helper()
	ns := fmt.Sprintf("%s/namespace0.%d", region0, p.n)
	for name, v := range map[string]string{
		"nstype": "4\n", "size": "1125899906842624\n", "mode": p.mode + "\n", "holder": p.holder + "\n",
		"force_raw": "0\n", "modalias": "nd:t4\n", "devtype": "nd_namespace_io\n", "numa_node": "0\n",
	} {
		s.file(ns+"/"+name, v)
	}
	s.fileMode(ns+"/resource", "0x241000000\n", 0o400)
	claimer := ns
	if p.holder != "" {
		claimer = region0 + "/" + p.holder
		attrs := map[string]string{"modalias": "nd:t5\n", "uuid": "706d656d-0000-4000-8000-0000000000aa\n",
			"namespace": fmt.Sprintf("namespace0.%d\n", p.n), "size": "1071644672\n"}
		if strings.HasPrefix(p.holder, "pfn") {
			attrs["mode"] = "pmem\n"
			attrs["align"] = "2097152\n"
			attrs["supported_alignments"] = "4096 2097152 1073741824 \n"
		} else {
			attrs["modalias"] = "nd:t4\n"
			attrs["sector_size"] = "512 520 528 4096 4104 4160 4224 \n"
		}
		for name, v := range attrs {
			s.file(claimer+"/"+name, v)
		}
		s.fileMode(claimer+"/resource", "0x241200000\n", 0o400)
	}
	dir := claimer + "/block/" + p.bdev
	s.file(dir+"/dev", p.devno+"\n")
	s.file(dir+"/size", "2097152\n")
	s.file(dir+"/badblocks", "")
	s.linkTo("block/"+p.bdev, dir)
	s.linkTo("dev/block/"+p.devno, dir)
	return dir
}

// stDev is "major:minor" of st_dev of the file at p.
func stDev(p string) string {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		panic(err)
	}
	return fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
}

// dataFile writes a regular file of the tree, beside sys and dev, that any
// user can read: content at each offset of at, fsync'ed so that its
// extents are allocated (FIEMAP reports a delayed allocation at physical
// offset 0).
func (s *sysfsTree) dataFile(name string, at map[int64]string) string {
	s.t.Helper()
	p := filepath.Join(s.base, name)
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	for off, content := range at {
		if _, err := f.WriteAt([]byte(content), off); err != nil {
			s.t.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil {
		s.t.Fatal(err)
	}
	return p
}
