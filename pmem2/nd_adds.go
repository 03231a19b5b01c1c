package pmem2

import "bytes"

// What libndctl and libdaxctl (ndctl 76.1) read when they add a device to
// their lists, and which failures leave the device out. The attributes
// below say nothing about size or alignment: a missing one only makes the
// library skip the device (and everything below it). Attributes the
// library reads but whose failure it tolerates (resource, numa_node,
// target_node, align of a region, holder_class …) are not listed.

// Namespace types of the kernel's nd device model (ndctl.h).
const (
	ndNamespacePMEM = 5 // ND_DEVICE_NAMESPACE_PMEM
	ndNamespaceBLK  = 6 // ND_DEVICE_NAMESPACE_BLK
)

// busAttrsOK is add_bus's reading of the control device ctl (a
// /sys/class/nd entry), besides dev: device/commands and device/provider
// must be readable.
func busAttrsOK(ctl []byte) bool {
	return readableIn(ctl, "device/commands") && readableIn(ctl, "device/provider")
}

// regionAttrsOK is add_region: size, mappings, read_only, modalias and
// nstype must be readable, and set_cookie too when nstype says
// ND_DEVICE_NAMESPACE_PMEM.
func regionAttrsOK(region []byte) bool {
	for _, a := range [...]string{"size", "mappings", "read_only", "modalias"} {
		if !readableIn(region, a) {
			return false
		}
	}
	var buf attrBuf
	nstype, ok := readAttrIn(region, "nstype", &buf)
	if !ok {
		return false
	}
	if cInt(nstype) == ndNamespacePMEM {
		return readableIn(region, "set_cookie")
	}
	return true
}

// namespaceAttrsOK is add_namespace: nstype, size, force_raw and modalias
// must be readable; a label-backed namespace (pmem or blk type) also needs
// alt_name, a uuid that is empty or parses, and, for blk, sector_size.
func namespaceAttrsOK(ns []byte) bool {
	var buf attrBuf
	nstype, ok := readAttrIn(ns, "nstype", &buf)
	if !ok {
		return false
	}
	typ := cInt(nstype)
	for _, a := range [...]string{"size", "force_raw"} {
		if !readableIn(ns, a) {
			return false
		}
	}
	if typ == ndNamespacePMEM || typ == ndNamespaceBLK {
		if typ == ndNamespaceBLK && !readableIn(ns, "sector_size") {
			return false
		}
		if !readableIn(ns, "alt_name") {
			return false
		}
		uuid, ok := readAttrIn(ns, "uuid", &buf)
		if !ok || (len(uuid) > 0 && !uuidParses(uuid)) {
			return false
		}
	}
	return readableIn(ns, "modalias")
}

// ndDaxAttrsOK is add_dax (__add_pfn): modalias readable, a uuid that is
// empty or parses, a mode of none, ram or pmem, and supported_alignments,
// when readable, with at most one selected ("[N]") entry.
func ndDaxAttrsOK(ndDax []byte) bool {
	if !claimAttrsOK(ndDax) {
		return false
	}
	var buf attrBuf
	mode, ok := readAttrIn(ndDax, "mode", &buf)
	if !ok || !(string(mode) == "none" || string(mode) == "ram" || string(mode) == "pmem") {
		return false
	}
	if al, ok := readAttrIn(ndDax, "supported_alignments", &buf); ok && !lbasizeParses(al) {
		return false
	}
	return true
}

// bttAttrsOK is add_btt: modalias readable, a uuid that is empty or
// parses, and a sector_size that parse_lbasize_supported accepts.
func bttAttrsOK(btt []byte) bool {
	if !claimAttrsOK(btt) {
		return false
	}
	var buf attrBuf
	sizes, ok := readAttrIn(btt, "sector_size", &buf)
	return ok && lbasizeParses(sizes)
}

// claimAttrsOK is what add_btt and __add_pfn first need of a device that
// claims namespaces: modalias readable, and a uuid that is empty or
// parses.
func claimAttrsOK(dir []byte) bool {
	if !readableIn(dir, "modalias") {
		return false
	}
	var buf attrBuf
	uuid, ok := readAttrIn(dir, "uuid", &buf)
	return ok && (len(uuid) == 0 || uuidParses(uuid))
}

// cInt is strtoul(s, NULL, 0) stored in an int, as libndctl keeps nstype.
func cInt(s []byte) int32 {
	v, _, _ := strtoull(s, 0)
	return int32(v)
}

// uuidParses is libuuid's uuid_parse: exactly 36 characters, '-' at 8, 13,
// 18 and 23, hex digits elsewhere.
func uuidParses(s []byte) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if _, ok := digit(c); !ok || (c > 'f' && c <= 'z') || (c > 'F' && c <= 'Z') {
				return false
			}
		}
	}
	return true
}

// lbasizeParses is parse_lbasize_supported: fields ending in a space are
// read one by one, up to the first that is neither "[N]" (the selected
// one) nor "N"; it fails only when a second field is selected.
func lbasizeParses(s []byte) bool {
	selected := false
	for {
		end := bytes.IndexByte(s, ' ')
		if end < 0 {
			return true
		}
		field := s[:end]
		if len(field) > 0 && field[0] == '[' {
			if _, _, ok := scanInt(field[1:]); ok {
				if selected {
					return false
				}
				selected = true
				s = s[end+1:]
				continue
			}
		}
		if _, _, ok := scanInt(field); !ok {
			return true
		}
		s = s[end+1:]
	}
}
