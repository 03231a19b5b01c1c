package pmem2

import (
	"bytes"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// lookupMode says how much of libndctl's work a lookup repeats.
type lookupMode int

const (
	// lookupDevice checks what C needs of the device itself (its names,
	// its /dev node, its size) and finds the nd_dax above it: enough for
	// Size and Alignment, where every other failure of libndctl is a C
	// crash (see the package documentation). The namespace is not looked
	// for.
	lookupDevice lookupMode = iota
	// lookupExact also finds the namespace holding the nd_dax, checks that
	// /sys/class/nd lists the bus, and reads every attribute libndctl needs
	// to add the bus, region, namespace and nd_dax (nd_adds.go): a device
	// is found exactly when libndctl finds it. It is for the functions
	// whose C counterparts return PMEM2_E_DAX_REGION_NOT_FOUND or
	// PMEM2_E_NOSUPP, rather than crash, when pmem2_region_namespace finds
	// nothing (the source's NUMA node, device ID, unsafe shutdown count and
	// bad blocks read the region, its DIMMs and the namespace that
	// ndDevice names).
	lookupExact
)

// findDevDAX locates s's Device DAX as pmem2_region_namespace does (see
// the package documentation): first directly from the device number, then,
// when that route does not lead to a device libndctl would match, by
// walking buses, regions and namespaces in libndctl's order. It returns ""
// when d holds the device, else why it was not found.
func (s *Source) findDevDAX(d *ndDevice, mode lookupMode) string {
	miss := s.directDevDAX(d, mode)
	if miss == "" {
		return ""
	}
	if s.walkDevDAX(d, mode) {
		return ""
	}
	return miss
}

// directDevDAX goes from the device number to the device's directory, as
// the kernel links it (<sysfs>/dev/char/M:m), and checks, from the device
// up, that libndctl and libdaxctl would reach the device through its
// parents.
func (s *Source) directDevDAX(d *ndDevice, mode lookupMode) string {
	if why := s.devDir(d, mode); why != "" {
		return why
	}
	if why := d.split(); why != "" {
		return why
	}
	exists, matches := s.devNode(d.devName())
	switch {
	case !exists:
		return "there is no " + string(devPath(nil, s.sysfsRoot, d.devName())) + " (libdaxctl stats it to match the device)"
	case !matches:
		return string(devPath(nil, s.sysfsRoot, d.devName())) + " does not have the device number " + devno(s.rdev)
	}
	if !readableIn(d.dev(), "size") {
		return "the device's size cannot be read (libdaxctl leaves the device out)"
	}
	if mode == lookupExact {
		if why := d.findNamespace(); why != "" {
			return why
		}
		var cbuf [pathMax + 64]byte
		ctl, why := s.checkBus(d, cbuf[:0])
		if why != "" {
			return why
		}
		var nbuf [pathMax + 1]byte
		switch {
		case !busAttrsOK(ctl):
			return "libndctl leaves out the bus: an attribute it needs cannot be read"
		case !regionAttrsOK(d.region()):
			return "libndctl leaves out the region: an attribute it needs cannot be read"
		case !namespaceAttrsOK(d.namespace(nbuf[:0])):
			return "libndctl leaves out the namespace: an attribute it needs cannot be read"
		case !ndDaxAttrsOK(d.ndDax()):
			return "libndctl leaves out the nd_dax: an attribute it needs cannot be read"
		}
		d.ctl = string(ctl)
	}
	return ""
}

// devDir puts the device's directory in d.path: in lookupExact mode the
// canonical path of <sysfs>/dev/char/M:m, otherwise that link's target
// joined to its directory lexically (one readlink instead of a walk of the
// whole path; see "What the port reads" in the package documentation).
func (s *Source) devDir(d *ndDevice, mode lookupMode) string {
	var pbuf [pathMax + 64]byte
	p, ok := cstr(charDevPath(pbuf[:0], s.sysfsRoot, s.rdev, ""))
	if !ok {
		return "the path of the device's sysfs directory is longer than PATH_MAX"
	}
	if mode == lookupExact {
		n, errno := canonical(p, d.path[:], s.procFD)
		if errno != 0 {
			return str(p) + " does not resolve (" + unix.ErrnoName(errno) + ")"
		}
		d.n = n
		return ""
	}
	var tbuf [pathMax + 1]byte
	n, errno := readlinkat(p, tbuf[:])
	var jbuf [2*pathMax + 2]byte
	var joined []byte
	switch {
	case errno == syscall.EINVAL: // a directory, not a link
		joined = p[:len(p)-1]
	case errno != 0:
		return str(p) + " cannot be read (" + unix.ErrnoName(errno) + ")"
	case n > pathMax:
		return str(p) + " names a path longer than PATH_MAX"
	case tbuf[0] == '/':
		joined = tbuf[:n]
	default:
		dir := p[:bytes.LastIndexByte(p, '/')]
		joined = append(append(append(jbuf[:0], dir...), '/'), tbuf[:n]...)
	}
	d.n = cleanPath(d.path[:], joined)
	if d.n < 0 {
		return str(p) + " names a path longer than PATH_MAX"
	}
	return ""
}

// cleanPath writes the lexically shortest equivalent of path to dst, as
// filepath.Clean does, and returns its length, or -1 when it does not fit
// PATH_MAX.
func cleanPath(dst, path []byte) int {
	rooted := len(path) > 0 && path[0] == '/'
	n := 0
	put := func(c byte) bool {
		if n >= pathMax || n >= len(dst) {
			return false
		}
		dst[n] = c
		n++
		return true
	}
	if rooted {
		put('/')
	}
	dotdot := n // where ".." can no longer back up
	for r := 0; r < len(path); {
		switch {
		case path[r] == '/':
			r++
		case path[r] == '.' && (r+1 == len(path) || path[r+1] == '/'):
			r++
		case path[r] == '.' && path[r+1] == '.' && (r+2 == len(path) || path[r+2] == '/'):
			r += 2
			switch {
			case n > dotdot:
				n--
				for n > dotdot && dst[n] != '/' {
					n--
				}
			case !rooted:
				if n > 0 && !put('/') || !put('.') || !put('.') {
					return -1
				}
				dotdot = n
			}
		default:
			if rooted && n != 1 || !rooted && n != 0 {
				if !put('/') {
					return -1
				}
			}
			for ; r < len(path) && path[r] != '/'; r++ {
				if !put(path[r]) {
					return -1
				}
			}
		}
	}
	if n == 0 {
		put('.')
	}
	return n
}

// split cuts the device's directory into bus, region and nd_dax, and
// checks the names as libndctl and libdaxctl match them: regionR (sscanf
// "region%d"), the nd_dax daxR.M in it (libndctl lists "dax<R>.%d"), and
// the device daxR.N in the nd_dax or in its dax/ directory (the class
// model), which libdaxctl lists with the same pattern.
func (d *ndDevice) split() string {
	path := d.path[:d.n]
	dev := bytes.LastIndexByte(path, '/')
	if dev <= 0 {
		return "the device's directory " + string(path) + " has no parent"
	}
	d.ndDaxEnd = dev
	if string(base(path[:dev])) == "dax" {
		d.ndDaxEnd = bytes.LastIndexByte(path[:dev], '/')
	}
	d.regionEnd = bytes.LastIndexByte(path[:max(d.ndDaxEnd, 0)], '/')
	if d.ndDaxEnd <= 0 || d.regionEnd <= 0 {
		return "the device's directory " + string(path) + " is not below an nd_dax and a region"
	}
	d.busEnd = bytes.LastIndexByte(path[:d.regionEnd], '/')
	if d.busEnd <= 0 {
		return "the device's region " + string(d.region()) + " is not below a bus"
	}
	id, ok := scanName(base(d.region()), []byte("region"))
	if !ok {
		return "the device's parents " + string(path[:d.ndDaxEnd]) + " are no nd_dax in an NVDIMM region"
	}
	d.regionID = id
	var pre [32]byte
	prefix := devPrefix(pre[:0], "dax", id)
	if _, ok := scanName(d.ndDaxName(), prefix); !ok {
		return "the device's parent " + string(d.ndDax()) + " is no nd_dax of region " + strconv.Itoa(int(id))
	}
	if _, ok := scanName(d.devName(), prefix); !ok {
		return "the device's name " + string(d.devName()) + " does not start with " + string(prefix) +
			" (libdaxctl lists the devices of region " + strconv.Itoa(int(id)) + " by that name)"
	}
	return ""
}

// findNamespace finds a namespace of the region whose holder names the
// nd_dax (ndctl_namespace_get_dax). The nd_dax's own namespace attribute
// names it on every kernel; only when that does not lead to a holder is
// the region listed.
func (d *ndDevice) findNamespace() string {
	var buf attrBuf
	var pre [32]byte
	prefix := devPrefix(pre[:0], "namespace", d.regionID)
	if hint, ok := readAttrIn(d.ndDax(), "namespace", &buf); ok && isName(hint) {
		if _, ok := scanName(hint, prefix); ok && d.holds(hint) {
			d.setNamespace(hint)
			return ""
		}
	}
	found := false
	readDir0(d.region(), func(e dirent) bool {
		if e.ino == 0 {
			return true
		}
		if _, ok := scanName(e.name, prefix); ok && d.holds(e.name) {
			d.setNamespace(e.name)
			found = true
			return false
		}
		return true
	})
	if !found {
		return "no namespace of " + string(base(d.region())) + " has the holder " + string(d.ndDaxName())
	}
	return ""
}

// holds reports whether the holder of namespace ns (a name in the region)
// is the nd_dax, compared as libndctl's strcmp compares them.
func (d *ndDevice) holds(ns []byte) bool {
	var dir [pathMax + 1]byte
	p := attrPath(dir[:], d.region(), ns)
	if p == nil {
		return false
	}
	var buf attrBuf
	holder, ok := readAttrIn(p[:len(p)-1], "holder", &buf) // the namespace's directory, without NUL
	return ok && bytes.Equal(holder, d.ndDaxName())
}

// checkBus checks that the bus directory is one libndctl lists: the
// control device ndctlK of bus ndbusK, /sys/class/nd/ndctlK, has a dev
// attribute "major:minor" whose /sys/dev/char/major:minor/device is the
// bus directory (add_bus resolves it to find the regions). It appends the
// control device's path to ctl and returns it.
func (s *Source) checkBus(d *ndDevice, ctl []byte) ([]byte, string) {
	id, ok := scanName(base(d.bus()), []byte("ndbus"))
	if !ok {
		return nil, "the region's parent " + string(d.bus()) + " is not named ndbusN"
	}
	ctl = append(ctl, s.sysfsRoot...)
	ctl = strconv.AppendInt(append(ctl, "/class/nd/ndctl"...), int64(id), 10)
	var buf attrBuf
	dev, ok := readAttrIn(ctl, "dev", &buf)
	if !ok {
		return nil, "libndctl cannot read " + string(ctl) + "/dev"
	}
	major, minor, ok := scanPair(dev, "", ':')
	if !ok {
		return nil, string(ctl) + "/dev is not major:minor"
	}
	var pbuf [pathMax + 64]byte
	p := append(pbuf[:0], s.sysfsRoot...)
	p = strconv.AppendInt(append(p, "/dev/char/"...), int64(major), 10)
	p = strconv.AppendInt(append(p, ':'), int64(minor), 10)
	p, ok = cstr(append(p, "/device"...))
	var busBuf [pathMax + 1]byte
	b := append(append(busBuf[:0], d.bus()...), 0)
	var st1, st2 unix.Stat_t
	if !ok || !statPath(p, &st1) || !statPath(b, &st2) || st1.Dev != st2.Dev || st1.Ino != st2.Ino {
		return nil, str(p) + " is not the bus directory " + string(d.bus())
	}
	return ctl, ""
}

// devno formats a device number as "major:minor".
func devno(rdev uint64) string {
	return strconv.FormatUint(uint64(unix.Major(rdev)), 10) + ":" + strconv.FormatUint(uint64(unix.Minor(rdev)), 10)
}

// readDir0 is readDir of a directory given without NUL.
func readDir0[D string | []byte](dir D, fn func(e dirent) bool) bool {
	var pbuf [pathMax + 1]byte
	if len(dir)+1 > pathMax {
		return false
	}
	return readDir(append(append(pbuf[:0], dir...), 0), fn)
}
