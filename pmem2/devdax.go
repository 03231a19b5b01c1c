package pmem2

import (
	"math"
	"strconv"
)

// sizeAlignLookup is how much of libndctl's work Size and Alignment repeat;
// see "Where the C library crashes" in the package documentation.
const sizeAlignLookup = lookupDevice

// devDAXSize is pmem2_device_dax_size: ndctl_dax_get_size of the nd_dax
// libndctl finds, the nd_dax's size attribute as strtoull(buf, NULL, 0)
// reads it, or ULLONG_MAX when libndctl could not read it.
func (s *Source) devDAXSize() (uint64, error) {
	var d ndDevice
	if miss := s.findDevDAX(&d, sizeAlignLookup); miss != "" {
		return 0, s.notFound(fnSize, ErrDAXRegionNotFound, miss)
	}
	var buf attrBuf
	return ndDaxSize(readAttrIn(d.ndDax(), "size", &buf)), nil
}

// ndDaxSize is the nd_dax's size as libndctl keeps it (__add_pfn): the
// attribute's content through strtoull(buf, NULL, 0), or ULLONG_MAX when
// it could not be read.
func ndDaxSize(content []byte, ok bool) uint64 {
	if !ok {
		return math.MaxUint64
	}
	v, _, _ := strtoull(content, 0)
	return v
}

// ndDaxAlign is the nd_dax's align as libndctl keeps it: strtoul(buf,
// NULL, 0), 0 when it could not be read.
func ndDaxAlign(content []byte, ok bool) uint64 {
	if !ok {
		return 0
	}
	v, _, _ := strtoull(content, 0)
	return v
}

// devDAXAlignment is pmem2_device_dax_alignment followed by
// pmem2_source_alignment's check: ndctl_dax_get_align of the nd_dax
// libndctl finds, the nd_dax's align attribute as strtoul(buf, NULL, 0)
// reads it, or 0 when libndctl could not read it; it must be a power of
// two.
func (s *Source) devDAXAlignment() (uint64, error) {
	var d ndDevice
	if miss := s.findDevDAX(&d, sizeAlignLookup); miss != "" {
		return 0, s.notFound(fnAlignment, ErrInvalidAlignmentFormat, miss)
	}
	var buf attrBuf
	v, ok := readAttrIn(d.ndDax(), "align", &buf)
	align := ndDaxAlign(v, ok)
	if !isPow2(align) {
		var pbuf [pathMax + 1]byte
		detail := "alignment " + strconv.FormatUint(align, 10) + " is not a power of two"
		if !ok {
			detail = "libndctl cannot read it, so the alignment is 0"
		}
		return 0, codeErr(fnAlignment, "check alignment", str(attrPath(pbuf[:], d.ndDax(), "align")),
			ErrInvalidAlignmentValue, detail)
	}
	return align, nil
}

// notFound is the error of a Device DAX libndctl does not find: the code
// C's own branch for "no nd_dax" returns (the C library never gets there:
// it dereferences the missing namespace and crashes).
func (s *Source) notFound(fn string, code Code, why string) *Error {
	var pbuf [pathMax + 64]byte
	return codeErr(fn, "find nd_dax", string(charDevPath(pbuf[:0], s.sysfsRoot, s.rdev, "")), code,
		"libndctl finds no namespace holding the device, where the C library crashes: "+why)
}

// isPow2 is util_is_pow2: a power of two, 0 excluded.
func isPow2(v uint64) bool { return v != 0 && v&(v-1) == 0 }
