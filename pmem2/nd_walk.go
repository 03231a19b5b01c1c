package pmem2

import (
	"bytes"
	"slices"
	"strconv"
)

// walkDevDAX is pmem2_region_namespace's loop for a Device DAX: the first
// namespace, in libndctl's order, whose holder names an nd_dax of its region
// that libdaxctl lists a device of whose /dev node carries the descriptor's
// number; d then holds it.
//
// It is the slow path of findDevDAX, taken only when the direct route
// fails, so it favours fidelity over speed and allocates.
func (s *Source) walkDevDAX(d *ndDevice, mode lookupMode) bool {
	w := ndWalk{s: s, mode: mode}
	return w.eachNamespace(func(r *walkRegion, ns named) bool {
		var buf attrBuf
		holder, ok := readAttrIn(r.path+"/"+ns.name, "holder", &buf)
		if !ok {
			return false
		}
		// ndctl_namespace_get_dax searches the region's list from its head,
		// the nd_dax listed last; names in one directory are unique, so the
		// first equal name is the one.
		daxs := w.ndDaxes(r)
		j := slices.IndexFunc(daxs, func(x named) bool { return x.name == string(holder) })
		if j < 0 {
			return false
		}
		ndDax := r.path + "/" + daxs[j].name
		dev, ok := w.matchingDevice(ndDax, w.daxRegionID(ndDax, r.id))
		return ok && d.set(r, ns.name, ndDax, dev)
	})
}

// walkRegion is a region libndctl lists, with what it lists lazily.
type walkRegion struct {
	bus  ndBus
	path string
	id   int32
	// The region's nd_dax, pfn and btt lists, read when first needed.
	daxs, pfns, btts             []named
	daxsInit, pfnsInit, bttsInit bool
}

// eachNamespace is FOREACH_BUS_REGION_NAMESPACE: it calls visit for every
// namespace libndctl lists, in libndctl's order — buses, regions and
// namespaces each listed in directory order and visited last one first
// (ccan's list_add puts each new device at the head of its list) — until
// visit returns true, and reports whether one did.
func (w *ndWalk) eachNamespace(visit func(r *walkRegion, ns named) bool) bool {
	for _, bus := range w.buses() {
		regions := w.list(bus.path, func(name []byte) (int32, bool) { return scanName(name, []byte("region")) })
		for i := len(regions) - 1; i >= 0; i-- {
			r := &walkRegion{bus: bus, path: bus.path + "/" + regions[i].name, id: regions[i].id}
			if w.mode == lookupExact && !regionAttrsOK([]byte(r.path)) {
				continue
			}
			var pre [32]byte
			prefix := devPrefix(pre[:0], "namespace", r.id)
			namespaces := w.dedup(r.path, w.list(r.path, func(n []byte) (int32, bool) { return scanName(n, prefix) }),
				namespaceAttrsOK)
			for j := len(namespaces) - 1; j >= 0; j-- {
				if visit(r, namespaces[j]) {
					return true
				}
			}
		}
	}
	return false
}

// ndDaxes is the region's nd_dax list (daxs_init), in list order: the
// entries "dax<R>.%d" libndctl adds, last listed first.
func (w *ndWalk) ndDaxes(r *walkRegion) []named {
	return w.claims(r, "dax", &r.daxs, &r.daxsInit, ndDaxAttrsOK)
}

// pfns is the region's pfn list (pfns_init): entries "pfn<R>.%d", which
// __add_pfn reads as it reads an nd_dax.
func (w *ndWalk) pfns(r *walkRegion) []named {
	return w.claims(r, "pfn", &r.pfns, &r.pfnsInit, ndDaxAttrsOK)
}

// btts is the region's btt list (btts_init): entries "btt<R>.%d".
func (w *ndWalk) btts(r *walkRegion) []named {
	return w.claims(r, "btt", &r.btts, &r.bttsInit, bttAttrsOK)
}

// claims lists once, in list order (last listed first), the devices of
// kind ("dax", "pfn", "btt") libndctl adds to region r: the devices that
// can claim a namespace, which names one of them as its holder.
func (w *ndWalk) claims(r *walkRegion, kind string, list *[]named, done *bool, attrsOK func([]byte) bool) []named {
	if !*done {
		var pre [32]byte
		prefix := devPrefix(pre[:0], kind, r.id)
		all := w.dedup(r.path, w.list(r.path, func(n []byte) (int32, bool) { return scanName(n, prefix) }), attrsOK)
		slices.Reverse(all)
		*list, *done = all, true
	}
	return *list
}

// ndWalk is the state of one walk: what libndctl's context would hold.
type ndWalk struct {
	s    *Source
	mode lookupMode
	// daxRegions maps a dax region's directory to the id libdaxctl gives
	// it (see daxRegionID); nil until first needed.
	daxRegions map[string]int32
}

// named is a directory entry libndctl recognised, with the number it read
// from the name.
type named struct {
	name string
	id   int32
}

// list is sysfs_device_parse's loop: the entries of dir, in directory
// order, whose inode is not 0 and that match (sscanf).
func (w *ndWalk) list(dir string, match func([]byte) (int32, bool)) []named {
	var out []named
	readDir0(dir, func(e dirent) bool {
		if e.ino != 0 {
			if id, ok := match(e.name); ok {
				out = append(out, named{string(e.name), id})
			}
		}
		return true
	})
	return out
}

// ndBus is a bus libndctl lists: the regions' directory and the control
// device (<sysfs>/class/nd/ndctlK) it was added from.
type ndBus struct{ path, ctl string }

// buses is libndctl's bus list (busses_init, add_bus): for each ndctlK of
// <sysfs>/class/nd, its dev attribute read as "%d:%d" and the regions'
// directory found as realpath(<sysfs>/dev/char/major:minor/device); a bus
// whose provider and directory name equal those of a bus already listed is
// that bus. Returned in the list's order (last added first).
func (w *ndWalk) buses() []ndBus {
	s := w.s
	type bus struct {
		ndBus
		provider string
	}
	var list []bus
	for _, c := range w.list(s.sysfsRoot+"/class/nd", func(n []byte) (int32, bool) { return scanName(n, []byte("ndctl")) }) {
		ctl := s.sysfsRoot + "/class/nd/" + c.name
		var buf attrBuf
		dev, ok := readAttrIn(ctl, "dev", &buf)
		if !ok {
			continue
		}
		major, minor, ok := scanPair(dev, "", ':')
		if !ok || (w.mode == lookupExact && !busAttrsOK([]byte(ctl))) {
			continue
		}
		path, ok := s.canonicalString(s.sysfsRoot + "/dev/char/" + strconv.Itoa(int(major)) + ":" +
			strconv.Itoa(int(minor)) + "/device")
		if !ok {
			continue
		}
		provider, _ := readAttrIn(ctl, "device/provider", &buf)
		b := bus{ndBus{path: path, ctl: ctl}, string(provider)}
		if !slices.ContainsFunc(list, func(o bus) bool {
			return o.provider == b.provider && string(base([]byte(o.path))) == string(base([]byte(b.path)))
		}) {
			list = append(list, b)
		}
	}
	out := make([]ndBus, 0, len(list))
	for i := len(list) - 1; i >= 0; i-- {
		out = append(out, list[i].ndBus)
	}
	return out
}

// dedup keeps the devices libndctl adds: those whose attributes it can
// read (checked only in lookupExact mode) and, of several with one number,
// the first listed.
func (w *ndWalk) dedup(dir string, all []named, attrsOK func([]byte) bool) []named {
	var out []named
	for _, e := range all {
		if w.mode == lookupExact && !attrsOK([]byte(dir+"/"+e.name)) {
			continue
		}
		if !slices.ContainsFunc(out, func(o named) bool { return o.id == e.id }) {
			out = append(out, e)
		}
	}
	return out
}

// matchingDevice is libdaxctl's device list of one dax region
// (dax_devices_init, add_dax_dev) searched for a device whose /dev node has
// the descriptor's number (ndctl_match_devdax). The devices are the
// entries "dax<id>.%d" of <nd_dax>/dax (class model), then of <nd_dax> (bus
// model); libdaxctl keeps those whose /dev/<name> exists and whose size it
// can read, and of several with one number the first. It returns the
// matching device's directory.
func (w *ndWalk) matchingDevice(ndDax string, id int32) (string, bool) {
	var pre [32]byte
	prefix := devPrefix(pre[:0], "dax", id)
	match := func(n []byte) (int32, bool) { return scanName(n, prefix) }
	var kept []named
	var dirs []string
	for _, dir := range []string{ndDax + "/dax", ndDax} {
		for _, e := range w.list(dir, match) {
			exists, _ := w.s.devNode([]byte(e.name))
			if !exists || !readableIn([]byte(dir+"/"+e.name), "size") ||
				slices.ContainsFunc(kept, func(o named) bool { return o.id == e.id }) {
				continue
			}
			kept = append(kept, e)
			dirs = append(dirs, dir)
		}
	}
	for i, e := range kept {
		if _, matches := w.s.devNode([]byte(e.name)); matches {
			return dirs[i] + "/" + e.name, true
		}
	}
	return "", false
}

// daxRegionID is the id libdaxctl gives the dax region of an nd_dax
// (ndctl_dax_get_daxctl_region → daxctl_new_region → add_dax_region): its
// first lookup lists every dax device of <sysfs>/class/dax and then of
// <sysfs>/bus/dax/devices named "dax%d.%d", and registers the directory
// above each (two levels up for the class model) with the first number of
// its name, the first registration of a directory winning. An nd_dax
// directory registered so gets that id; any other gets the region's.
func (w *ndWalk) daxRegionID(ndDax string, rid int32) int32 {
	if w.daxRegions == nil {
		w.daxRegions = map[string]int32{}
		for _, sub := range []struct {
			dir string
			up  int
		}{{"/class/dax", 2}, {"/bus/dax/devices", 1}} {
			dir := w.s.sysfsRoot + sub.dir
			readDir0(dir, func(e dirent) bool {
				if e.ino == 0 {
					return true
				}
				id, _, ok := scanPair(e.name, "dax", '.')
				if !ok {
					return true
				}
				p, ok := w.s.canonicalString(dir + "/" + string(e.name))
				for i := 0; ok && i < sub.up; i++ {
					j := bytes.LastIndexByte([]byte(p), '/')
					ok = j >= 0
					if ok {
						p = p[:j]
					}
				}
				if _, dup := w.daxRegions[p]; ok && !dup {
					w.daxRegions[p] = id
				}
				return true
			})
		}
	}
	if id, ok := w.daxRegions[ndDax]; ok {
		return id
	}
	return rid
}

// set fills d with a device the walk found in region r; false when the
// path would not fit.
func (d *ndDevice) set(r *walkRegion, ns, ndDax, dev string) bool {
	if len(dev) > pathMax || len(ns) > nameMax {
		return false
	}
	d.n = copy(d.path[:], dev)
	d.busEnd, d.regionEnd, d.ndDaxEnd = len(r.bus.path), len(r.path), len(ndDax)
	d.regionID = r.id
	d.ctl = r.bus.ctl
	d.setNamespace([]byte(ns))
	return true
}

// canonicalString is canonical on a Go string, for the walk.
func (s *Source) canonicalString(p string) (string, bool) {
	cp, ok := cstr([]byte(p))
	if !ok {
		return "", false
	}
	var out [pathMax + 1]byte
	n, errno := canonical(cp, out[:], s.procFD)
	if errno != 0 {
		return "", false
	}
	return string(out[:n]), true
}
