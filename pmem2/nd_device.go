package pmem2

import (
	"bytes"

	"golang.org/x/sys/unix"
)

// ndDevice is a Device DAX where libndctl and libdaxctl find it: the
// NVDIMM bus libndctl lists regions from, the region, the namespace whose
// holder names the nd_dax, the nd_dax (whose size and align libpmem2
// returns) and the dax device whose /dev node carries the descriptor's
// device number. The directories nest, so one path holds them all:
//
//	<bus>/regionR/<nd_dax>[/dax]/<device>
//	      └ regionEnd └ ndDaxEnd      └ n
//
// An ndDevice is large (a PATH_MAX buffer) and meant to live on the stack
// of the call that looks the device up.
type ndDevice struct {
	path                        [pathMax + 1]byte
	n                           int
	busEnd, regionEnd, ndDaxEnd int
	regionID                    int32
	// ns is the namespace's entry name in the region directory.
	ns  [nameMax]byte
	nsN int
	// ctl is the bus's control device, <sysfs>/class/nd/ndctlK, which
	// libndctl reads the bus's attributes through; "" until a
	// lookupExact lookup found it.
	ctl string
}

// nameMax is NAME_MAX: the longest name of a directory entry.
const nameMax = 255

func (d *ndDevice) bus() []byte    { return d.path[:d.busEnd] }
func (d *ndDevice) region() []byte { return d.path[:d.regionEnd] }
func (d *ndDevice) ndDax() []byte  { return d.path[:d.ndDaxEnd] }
func (d *ndDevice) dev() []byte    { return d.path[:d.n] }

// namespaceName is the namespace's name, "namespace0.0"; "" until a
// lookupExact lookup found it.
func (d *ndDevice) namespaceName() []byte { return d.ns[:d.nsN] }

// ndDaxName and devName are the last components: "dax0.1", "dax0.0".
func (d *ndDevice) ndDaxName() []byte { return base(d.ndDax()) }
func (d *ndDevice) devName() []byte   { return base(d.dev()) }

// namespace appends the namespace's directory to dst.
func (d *ndDevice) namespace(dst []byte) []byte {
	dst = append(dst, d.region()...)
	dst = append(dst, '/')
	return append(dst, d.namespaceName()...)
}

func (d *ndDevice) setNamespace(name []byte) { d.nsN = copy(d.ns[:], name) }

// attrPath builds "<dir>/<name>" NUL-terminated in buf (at least
// pathMax+1 bytes); nil when it would not fit PATH_MAX, where the kernel
// fails every path with ENAMETOOLONG.
func attrPath[D, N string | []byte](buf []byte, dir D, name N) []byte {
	if len(dir)+1+len(name)+1 > pathMax {
		return nil
	}
	p := append(buf[:0], dir...)
	p = append(p, '/')
	p = append(p, name...)
	return append(p, 0)
}

// readAttrIn is readAttr of "<dir>/<name>".
func readAttrIn[D, N string | []byte](dir D, name N, buf *attrBuf) ([]byte, bool) {
	var pbuf [pathMax + 1]byte
	p := attrPath(pbuf[:], dir, name)
	if p == nil {
		return nil, false
	}
	return readAttr(p, buf)
}

// readableIn is whether libndctl's read of "<dir>/<name>" succeeds.
func readableIn(dir []byte, name string) bool {
	var buf attrBuf
	_, ok := readAttrIn(dir, name, &buf)
	return ok
}

// base is the last component of a path without trailing slash.
func base(p []byte) []byte { return p[bytes.LastIndexByte(p, '/')+1:] }

// isName reports whether b can be a directory entry's name: what libndctl
// reads from an attribute is joined to a directory as one component.
func isName(b []byte) bool {
	return len(b) > 0 && len(b) <= nameMax && bytes.IndexByte(b, '/') < 0 &&
		!(len(b) == 1 && b[0] == '.') && !(len(b) == 2 && b[0] == '.' && b[1] == '.')
}

// devNode stats "<dev>/<name>", as libdaxctl stats /dev/<name>, and
// reports whether it exists and carries the device number rdev.
func (s *Source) devNode(name []byte) (exists, matches bool) {
	var pbuf [pathMax + 64]byte
	p, ok := cstr(devPath(pbuf[:0], s.sysfsRoot, name))
	if !ok {
		return false, false
	}
	var st unix.Stat_t
	if !statPath(p, &st) {
		return false, false
	}
	return true, st.Rdev == s.rdev
}
