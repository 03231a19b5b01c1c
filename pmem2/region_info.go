package pmem2

import (
	"strconv"
	"syscall"
)

const (
	fnNumaNode  = "pmem2_source_numa_node"
	fnDeviceID  = "pmem2_source_device_id"
	fnDeviceUSC = "pmem2_source_device_usc"
	fnBadBlocks = "pmem2_badblock_context_new"
)

// NUMA_NO_ATTR and NUMA_NO_NODE of libndctl: a region without numa_node
// attribute, and one whose attribute cannot be read.
const (
	numaNoAttr = -2
	numaNoNode = -1
)

// NumaNode is pmem2_source_numa_node: the NUMA node of the region libndctl
// finds the source in, its numa_node attribute as strtol(buf, NULL, 0)
// reads it, kept in an int; -2 (NUMA_NO_ATTR) when the attribute does not
// exist and -1 (NUMA_NO_NODE) when it cannot be read otherwise. No region:
// PMEM2_E_DAX_REGION_NOT_FOUND. An anonymous source: PMEM2_E_NOSUPP.
// The package documentation says what is read on the way.
func (s *Source) NumaNode() (int, error) {
	return placed(s, fnNumaNode, "is not bound to a NUMA node", func(p ndPlace) (int, error) {
		if !p.found {
			return 0, codeErr(fnNumaNode, "find region", "", ErrDAXRegionNotFound, "unknown region: "+p.why)
		}
		return regionNumaNode(p.region), nil
	})
}

// regionNumaNode is ndctl_region_get_numa_node: the region's numa_node as
// add_region read it.
func regionNumaNode(region string) int {
	var buf attrBuf
	var pbuf [pathMax + 1]byte
	cp := attrPath(pbuf[:], region, "numa_node")
	if cp == nil {
		return numaNoNode
	}
	v, errno := readAttrErrno(cp, &buf)
	switch {
	case errno == syscall.ENOENT || errno == errAttrFull: // see staleErrno
		return numaNoAttr
	case errno != 0:
		return numaNoNode
	}
	return int(int32(strtoll(v, 0)))
}

// DeviceID is pmem2_source_device_id: the unique ids of the DIMMs of the
// region libndctl finds the source in, in libndctl's order, concatenated;
// "" for a region without DIMMs. PMEM2_E_NOSUPP when a DIMM has no id, when
// there is no region, and for an anonymous source.
func (s *Source) DeviceID() (string, error) {
	return placed(s, fnDeviceID, "has no device id", func(p ndPlace) (string, error) {
		if !p.found {
			return "", codeErr(fnDeviceID, "find region", "", ErrNoSupp, "unknown region: "+p.why)
		}
		var id []byte
		for _, d := range s.regionDIMMs(p) {
			uid, ok := d.uniqueID()
			if !ok {
				return "", codeErr(fnDeviceID, "read unique id", d.dir, ErrNoSupp,
					"libndctl has no unique id for the DIMM"+d.idSource())
			}
			id = append(id, uid...)
		}
		return string(id), nil
	})
}

// idSource says where the DIMM's id would have come from, for messages.
func (d dimm) idSource() string {
	if d.prefix == "" || d.prefix == "papr" && d.papr != "nvdimm_test" {
		return " (its bus family has none)"
	}
	return " (" + d.prefix + "/id cannot be read)"
}

// DeviceUSC is pmem2_source_device_usc: the unsafe shutdown count, the sum
// of the dirty_shutdown counts of the DIMMs of the region libndctl finds
// the source in (0 for a region without DIMMs), added as unsigned 64-bit
// numbers. PMEM2_E_NOSUPP when a DIMM's count is negative (-ENOENT when
// libndctl did not read one), when there is no region, and for an
// anonymous source.
func (s *Source) DeviceUSC() (uint64, error) {
	return placed(s, fnDeviceUSC, "has no unsafe shutdown count", func(p ndPlace) (uint64, error) {
		if !p.found {
			return 0, codeErr(fnDeviceUSC, "find region", "", ErrNoSupp, "unknown region: "+p.why)
		}
		var usc uint64
		for _, d := range s.regionDIMMs(p) {
			n := d.dirtyShutdown()
			if n < 0 {
				return 0, codeErr(fnDeviceUSC, "read dirty shutdown count", d.dir, ErrNoSupp,
					"the DIMM's count is "+strconv.FormatInt(n, 10))
			}
			usc += uint64(n)
		}
		return usc, nil
	})
}

// placed runs f, with the read lock held, on where libndctl finds s, after
// the checks every region function makes first: a nil or deleted source
// (ErrDeleted), an anonymous one (PMEM2_E_NOSUPP: the source anon says
// what it lacks), and the lookup's own failure.
func placed[T any](s *Source, fn, anon string, f func(p ndPlace) (T, error)) (T, error) {
	var zero T
	if s == nil {
		return zero, deletedErr(fn)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch s.typ {
	case FileTypeUnknown:
		return zero, deletedErr(fn)
	case FileTypeAnon:
		return zero, codeErr(fn, "check source type", "", ErrNoSupp, "an anonymous source "+anon)
	}
	p, err := s.locate(fn)
	if err != nil {
		return zero, err
	}
	return f(p)
}
