package pmem2

import (
	"bytes"
	"slices"
	"syscall"
)

// The DIMMs of a region as libndctl 76.1 lists them
// (ndctl_dimm_foreach_in_region): the DIMMs of the region's bus, in the
// bus's list order, that one of the region's mappings names.

// busFamily is how libndctl reads a bus's DIMMs, decided in add_bus from
// the bus's control device.
type busFamily int

const (
	// familyNone: no DIMM attributes are read (unique id NULL, dirty
	// shutdown -ENOENT).
	familyNone busFamily = iota
	// familyNFIT: <ctl>/device/nfit/revision is readable. A DIMM needs
	// nfit/handle and nfit/phys_id; nfit/id and nfit/dirty_shutdown are
	// its id and shutdown count.
	familyNFIT
	// familyPAPR: <ctl>/device/of_node/compatible is readable (IBM
	// papr_scm, of_pmem). What a DIMM has depends on its
	// ../of_node/compatible (add_papr_dimm).
	familyPAPR
	// familyCXL: is_subsys_cxl. libndctl tests the unresolved path
	// against "/sys/bus/cxl", so a bus is "CXL" exactly when realpath of
	// <ctl>/device/../subsys fails — an e820 or virtio bus, typically.
	// cxl/id is a DIMM's id.
	familyCXL
)

// family is add_bus's choice, in its order: NFIT, then of_node, then CXL.
func (s *Source) family(ctl string) busFamily {
	switch {
	case readableIn([]byte(ctl), "device/nfit/revision"):
		return familyNFIT
	case readableIn([]byte(ctl), "device/of_node/compatible"):
		return familyPAPR
	}
	if _, ok := s.canonicalString(ctl + "/device/../subsys"); !ok {
		return familyCXL
	}
	return familyNone
}

// dimm is one DIMM of a region: its directory and the prefix of its
// family's attributes ("nfit", "papr", "cxl"; "" for none).
type dimm struct {
	dir    string
	prefix string
	// papr tells, for familyPAPR, which of add_papr_dimm's ways the DIMM
	// was added: by its compatible "ibm,pmemory" (flags and
	// dirty_shutdown in papr/), "nvdimm_test" (as an NFIT DIMM, in
	// papr/), or neither (nothing read).
	papr string
}

// uniqueID is ndctl_dimm_get_unique_id: the content of <prefix>/id, read
// when the DIMM was added; false where libndctl keeps NULL.
func (d dimm) uniqueID() (string, bool) {
	if d.prefix == "" || d.prefix == "papr" && d.papr != "nvdimm_test" {
		return "", false
	}
	var buf attrBuf
	id, ok := readAttrIn(d.dir, d.prefix+"/id", &buf)
	return string(id), ok
}

// dirtyShutdown is ndctl_dimm_get_dirty_shutdown: <prefix>/dirty_shutdown
// as strtoll(buf, NULL, 0) reads it, -ENOENT when it is not read.
func (d dimm) dirtyShutdown() int64 {
	if d.prefix != "nfit" && d.papr == "" {
		return -int64(syscall.ENOENT)
	}
	var buf attrBuf
	v, ok := readAttrIn(d.dir, d.prefix+"/dirty_shutdown", &buf)
	if !ok {
		return -int64(syscall.ENOENT)
	}
	return strtoll(v, 0)
}

// regionDIMMs lists the DIMMs of the region at p, in libndctl's order.
func (s *Source) regionDIMMs(p ndPlace) []dimm {
	ids := mappingDIMMs(p.region)
	if len(ids) == 0 {
		return nil // no interleave set: no DIMM is read at all
	}
	fam := s.family(p.ctl)
	// dimms_init lists "nmem%d" entries in directory order and puts each
	// DIMM it adds at the head of the bus's list; a mapping names the
	// first DIMM of the list with its number (ndctl_dimm_get_by_id).
	var entries []named
	readDir0(p.bus, func(e dirent) bool {
		if e.ino != 0 {
			if id, ok := scanName(e.name, []byte("nmem")); ok {
				entries = append(entries, named{string(e.name), id})
			}
		}
		return true
	})
	var out []dimm
	var claimed []uint32
	for i := len(entries) - 1; i >= 0; i-- {
		id := uint32(entries[i].id)
		if !slices.Contains(ids, id) || slices.Contains(claimed, id) {
			continue
		}
		d, ok := addDIMM(p.bus+"/"+entries[i].name, fam)
		if !ok {
			continue
		}
		claimed = append(claimed, id)
		out = append(out, d)
	}
	return out
}

// addDIMM is add_dimm: whether libndctl lists the DIMM at dir, and how it
// reads it. Every DIMM needs dev ("%d:%d"), commands and modalias; an NFIT
// DIMM also nfit/handle and nfit/phys_id.
func addDIMM(dir string, fam busFamily) (dimm, bool) {
	d := dimm{dir: dir}
	var buf attrBuf
	dev, ok := readAttrIn(dir, "dev", &buf)
	if !ok {
		return d, false
	}
	if _, _, ok := scanPair(dev, "", ':'); !ok || !readableIn([]byte(dir), "commands") ||
		!readableIn([]byte(dir), "modalias") {
		return d, false
	}
	switch fam {
	case familyNFIT:
		d.prefix = "nfit"
		return d, populated(dir, d.prefix)
	case familyPAPR:
		d.prefix = "papr"
		compatible, ok := readAttrIn(dir, "../of_node/compatible", &buf)
		if !ok {
			return d, true // "unprobed dimm with no family": listed, nothing read
		}
		switch string(compatible) {
		case "ibm,pmemory":
			d.papr = "ibm,pmemory"
			var pbuf [pathMax + 1]byte
			p := attrPath(pbuf[:], dir, "papr/flags")
			if p == nil {
				return d, false
			}
			// A failed read is rc = -errno: the DIMM is left out unless
			// that happens to be -ENODEV, the "unprobed" code.
			_, errno := readAttrErrno(p, &buf)
			return d, errno == 0 || errno == syscall.ENODEV
		case "nvdimm_test":
			d.papr = "nvdimm_test"
			return d, populated(dir, d.prefix)
		}
		return d, true
	case familyCXL:
		d.prefix = "cxl"
	}
	return d, true
}

// populated is populate_dimm_attributes' verdict: <prefix>/handle and
// <prefix>/phys_id must be readable.
func populated(dir, prefix string) bool {
	return readableIn([]byte(dir), prefix+"/handle") && readableIn([]byte(dir), prefix+"/phys_id")
}

// mappingsDirect is how many mappingN attributes are opened one by one;
// above it the region's directory is listed once instead (the number comes
// from the mappings attribute, which can say anything).
const mappingsDirect = 64

// mappingDIMMs is mappings_init's harvest: the DIMM numbers named by the
// region's attributes mapping0 … mapping<mappings-1> that parse as
// "nmem%u,%llu,%llu". mappings is strtoul(buf, NULL, 0) kept in an int, so
// a count that does not fit is negative, and none is read.
func mappingDIMMs(region string) []uint32 {
	var buf attrBuf
	v, ok := readAttrIn(region, "mappings", &buf)
	if !ok {
		return nil
	}
	m, _, _ := strtoull(v, 0)
	n := int32(m)
	if n <= 0 {
		return nil
	}
	var ids []uint32
	add := func(name []byte) {
		var buf attrBuf
		if v, ok := readAttrIn(region, name, &buf); ok {
			if id, ok := scanMapping(v); ok && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	if n <= mappingsDirect {
		var name [32]byte
		for i := int32(0); i < n; i++ {
			add(appendUint(append(name[:0], "mapping"...), uint64(i)))
		}
		return ids
	}
	// Only the names C builds with "mapping%d" count: no sign, no leading
	// zero.
	var names [][]byte
	readDir0(region, func(e dirent) bool {
		if i, ok := mappingIndex(e.name); ok && i < int64(n) {
			names = append(names, bytes.Clone(e.name))
		}
		return true
	})
	for _, name := range names {
		add(name)
	}
	return ids
}

// mappingIndex reads the N of a directory entry named exactly as
// sprintf("mapping%d", N) names it, N >= 0.
func mappingIndex(name []byte) (int64, bool) {
	digits, ok := bytes.CutPrefix(name, []byte("mapping"))
	if !ok || len(digits) == 0 || len(digits) > 10 || digits[0] == '0' && len(digits) > 1 {
		return 0, false
	}
	var v int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}
