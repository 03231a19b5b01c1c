package pmem2

import (
	"bytes"
	"slices"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// ndPlace is what pmem2_region_namespace returns: the region and the
// namespace libndctl finds the source in, or, when found is false,
// nothing (why then says what was missing).
type ndPlace struct {
	found  bool
	why    string
	ctl    string // the bus's control device, <sysfs>/class/nd/ndctlK
	bus    string // the bus directory, where libndctl lists regions and DIMMs
	region string // the region directory
	ns     string // the namespace directory
	// holder is what claims the namespace, as libndctl matches its holder
	// attribute against the region's lists; holderDir its directory.
	holder    holderKind
	holderDir string
	// bdev is the block device a regular file was matched with
	// (ndctl_match_fsdax); "" for a Device DAX.
	bdev string
}

// holderKind is the device claiming a namespace.
type holderKind int

const (
	holderNone holderKind = iota // a raw namespace, or a holder libndctl does not list
	holderDax                    // an nd_dax (Device DAX)
	holderPfn                    // a pfn (fsdax with a memmap)
	holderBtt                    // a btt (sector mode)
)

// locate is pmem2_region_namespace for s, a regular file or a Device DAX,
// with lookupExact's fidelity: the place is found exactly when libndctl
// finds it. A Device DAX is looked up as Size does (findDevDAX); a regular
// file by the walk libndctl makes (walkFsdax), whose failures, unlike a
// Device DAX's, are codes of C: they come back as the error.
func (s *Source) locate(fn string) (ndPlace, *Error) {
	if s.typ == FileTypeRegular {
		return s.walkFsdax(fn)
	}
	var d ndDevice
	if why := s.findDevDAX(&d, lookupExact); why != "" {
		return ndPlace{why: why}, nil
	}
	var nbuf [pathMax + 1]byte
	return ndPlace{
		found:     true,
		ctl:       d.ctl,
		bus:       string(d.bus()),
		region:    string(d.region()),
		ns:        string(d.namespace(nbuf[:0])),
		holder:    holderDax,
		holderDir: string(d.ndDax()),
	}, nil
}

// walkFsdax is pmem2_region_namespace's loop for a regular file: every
// namespace in libndctl's order (FOREACH_BUS_REGION_NAMESPACE) that no
// nd_dax claims names a block device — its btt's, its pfn's or its own,
// the one entry of that device's block/ directory — and the first whose
// <sysfs>/block/<name>/dev reads as the file's st_dev "major:minor\n" is
// the place (ndctl_match_fsdax). Reading that file stops the walk with a
// code: -errno when it cannot be opened or read, PMEM2_E_INVALID_DEV_FORMAT
// when it is empty or does not end in a newline.
func (s *Source) walkFsdax(fn string) (ndPlace, *Error) {
	w := ndWalk{s: s, mode: lookupExact}
	var place ndPlace
	var failed *Error
	want := strconv.FormatUint(uint64(unix.Major(s.dev)), 10) + ":" + strconv.FormatUint(uint64(unix.Minor(s.dev)), 10)
	w.eachNamespace(func(r *walkRegion, ns named) bool {
		nsDir := r.path + "/" + ns.name
		kind, holderDir := w.holderOf(r, nsDir)
		blockOf := nsDir
		switch kind {
		case holderDax:
			return false // a Device DAX namespace: not a regular file's
		case holderBtt, holderPfn:
			blockOf = holderDir
		}
		bdev := blockDevice(blockOf + "/block")
		if bdev == "" {
			return false
		}
		p := s.sysfsRoot + "/block/" + bdev + "/dev"
		match, err := matchFsdax(fn, p, want)
		switch {
		case err != nil:
			failed = err
			return true
		case !match:
			return false
		}
		place = ndPlace{found: true, ctl: r.bus.ctl, bus: r.bus.path, region: r.path, ns: nsDir,
			holder: kind, holderDir: holderDir, bdev: bdev}
		return true
	})
	if failed != nil {
		return ndPlace{}, failed
	}
	if !place.found {
		place.why = "no namespace libndctl lists has a block device numbered " + want
	}
	return place, nil
}

// holderOf is ndctl_namespace_get_dax, _get_btt and _get_pfn on the
// namespace at nsDir: the device of the region's lists whose name the
// namespace's holder attribute holds, if any.
func (w *ndWalk) holderOf(r *walkRegion, nsDir string) (holderKind, string) {
	var buf attrBuf
	holder, ok := readAttrIn(nsDir, "holder", &buf)
	if !ok {
		return holderNone, ""
	}
	for _, c := range [...]struct {
		kind holderKind
		list func(*walkRegion) []named
	}{{holderDax, w.ndDaxes}, {holderBtt, w.btts}, {holderPfn, w.pfns}} {
		// Only the device of holder's kind can carry its name: look no
		// further than the list of that prefix.
		if !bytes.HasPrefix(holder, []byte(kindPrefix[c.kind])) {
			continue
		}
		if slices.ContainsFunc(c.list(r), func(x named) bool { return x.name == string(holder) }) {
			return c.kind, r.path + "/" + string(holder)
		}
	}
	return holderNone, ""
}

var kindPrefix = [...]string{holderDax: "dax", holderBtt: "btt", holderPfn: "pfn"}

// blockDevice is libndctl's get_block_device: the name of the one entry of
// dir (inode not 0, name not starting with '.'), or "" when dir cannot be
// opened or holds none or several.
func blockDevice(dir string) string {
	name, n := "", 0
	readDir0(dir, func(e dirent) bool {
		if e.ino == 0 || len(e.name) > 0 && e.name[0] == '.' {
			return true
		}
		if n++; n > 1 {
			return false
		}
		name = string(e.name)
		return true
	})
	if n != 1 {
		return ""
	}
	return name
}

// fsdaxDevLen is BUFF_LENGTH of ndctl_match_fsdax: the one read of the
// block device's dev attribute takes at most this many bytes.
const fsdaxDevLen = 64

// matchFsdax is ndctl_match_fsdax's reading of the block device's dev
// attribute at p: whether it holds want ("major:minor") followed by a
// newline, compared as strcmp compares (up to a NUL byte), or the code C
// returns when it cannot tell.
func matchFsdax(fn, p, want string) (bool, *Error) {
	var pbuf [pathMax + 1]byte
	cp, ok := cstr(append(pbuf[:0], p...))
	if !ok {
		return false, errnoErr(fn, "open", p, syscall.ENAMETOOLONG)
	}
	fd, errno := openat(cp, sysfsOpenFlags)
	if errno != 0 {
		return false, errnoErr(fn, "open", p, errno)
	}
	var buf [fsdaxDevLen]byte
	n, errno := read(fd, buf[:])
	closeFD(fd)
	switch {
	case errno != 0:
		return false, errnoErr(fn, "read", p, errno)
	case n == 0:
		return false, codeErr(fn, "read", p, ErrInvalidDevFormat, "the block device's dev attribute is empty")
	case buf[n-1] != '\n':
		return false, codeErr(fn, "read", p, ErrInvalidDevFormat,
			"the block device's dev attribute does not end with a newline: "+strconv.Quote(string(buf[:n])))
	}
	got := buf[:n-1]
	if i := bytes.IndexByte(got, 0); i >= 0 {
		got = got[:i]
	}
	return string(got) == want, nil
}
