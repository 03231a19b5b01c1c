package pmem2

import (
	"math"
	"strconv"
	"syscall"
)

// BadBlock is struct pmem2_badblock: a range of the source that reads
// fail on (poisoned memory), in bytes from the start of the source.
type BadBlock struct{ Offset, Length uint64 }

// BadBlocks is pmem2_badblock_context_new followed by pmem2_badblock_next
// until PMEM2_E_NO_BAD_BLOCK_FOUND, which ends the list and is not an
// error: the bad blocks of the source, in the order C returns them, or
// the code context_new returned. A source libndctl finds no namespace for
// has none (nil, nil), as in C. An anonymous source: PMEM2_E_NOSUPP.
//
// Clearing a bad block (pmem2_badblock_clear) is not ported: see the
// package documentation.
func (s *Source) BadBlocks() ([]BadBlock, error) {
	return placed(s, fnBadBlocks, "has no bad blocks", func(p ndPlace) ([]BadBlock, error) {
		if !p.found {
			return nil, nil
		}
		c, err := s.newBadblockContext(p)
		if err != nil {
			return nil, err
		}
		defer c.close()
		var out []BadBlock
		for {
			bb, ok, err := c.next()
			if err != nil {
				return nil, err
			}
			if !ok {
				return out, nil
			}
			out = append(out, bb)
		}
	})
}

// badblockContext is struct pmem2_badblock_context: the device's bad-block
// list — a region's, cut to the namespace, or an fsdax namespace's own —
// and, for a regular file, its extents.
type badblockContext struct {
	file *badblocksFile
	// region is set for a region's list: the namespace's bounds in the
	// region, in bytes (pmem2_badblock_next_region); otherwise the list is
	// the namespace's (pmem2_badblock_next_namespace).
	region       bool
	nsBeg, nsEnd uint64
	exts         *fileExtents // nil for a Device DAX
	walk         extentWalk
}

func (c *badblockContext) close() {
	if c.file != nil {
		c.file.close()
	}
}

// newBadblockContext is pmem2_badblock_context_new once the source was
// found at p. An fsdax namespace (mode "memory") gives its block device's
// list, <sysfs>/block/<bdev>/badblocks, which libndctl reads only when no
// btt or nd_dax claims the namespace; any other namespace the region's,
// <region>/badblocks, cut to the namespace's bounds (badblocks_bounds).
// A regular file's extents come last.
func (s *Source) newBadblockContext(p ndPlace) (*badblockContext, error) {
	c := &badblockContext{}
	var buf attrBuf
	if mode, ok := readAttrIn(p.ns, "mode", &buf); ok && string(mode) == "memory" {
		// Only a regular file gets past the test: a Device DAX's namespace
		// has its nd_dax. Its block device is the one it was matched by
		// (the pfn's, or the namespace's own).
		if p.holder != holderBtt && p.holder != holderDax {
			var pbuf [pathMax + 1]byte
			if cp := attrPath(pbuf[:], s.sysfsRoot+"/block/"+p.bdev, "badblocks"); cp != nil {
				c.file = openBadblocks(cp)
			}
		}
	} else {
		if err := s.badblocksBounds(p, c); err != nil {
			return nil, err
		}
		var pbuf [pathMax + 1]byte
		if cp := attrPath(pbuf[:], p.region, "badblocks"); cp != nil {
			c.file = openBadblocks(cp)
		}
		c.region = true
	}
	if s.typ == FileTypeRegular {
		x, err := s.newFileExtents(fnBadBlocks)
		if err != nil {
			c.close()
			return nil, err
		}
		c.exts = x
	}
	return c, nil
}

// badblocksBounds is badblocks_get_namespace_bounds: the namespace's start
// in the region and its end, in bytes. A namespace claimed by a pfn or an
// nd_dax has the claiming device's resource and size, any other its own,
// as libndctl read them when it listed the device (ULLONG_MAX when it
// could not: PMEM2_E_CANNOT_READ_BOUNDS). resource is mode 0400 in the
// kernel: a caller without privileges gets PMEM2_E_CANNOT_READ_BOUNDS.
// Then the region's resource, read now: -errno when it cannot be.
func (s *Source) badblocksBounds(p ndPlace, c *badblockContext) error {
	dir := p.ns
	what := "namespace"
	if p.holder == holderPfn || p.holder == holderDax {
		dir = p.holderDir
		what = map[holderKind]string{holderPfn: "pfn", holderDax: "nd_dax"}[p.holder]
	}
	var buf attrBuf
	var pbuf [pathMax + 1]byte
	resource := ulongAttr(attrPath(pbuf[:], dir, "resource"), &buf)
	if resource == math.MaxUint64 {
		return codeErr(fnBadBlocks, "read namespace bounds", dir+"/resource", ErrCannotReadBounds,
			"libndctl cannot read the "+what+"'s resource (mode 0400 in the kernel: root only)")
	}
	size := ulongAttr(attrPath(pbuf[:], dir, "size"), &buf)
	if size == math.MaxUint64 {
		return codeErr(fnBadBlocks, "read namespace bounds", dir+"/size", ErrCannotReadBounds,
			"libndctl cannot read the "+what+"'s size")
	}
	cp := attrPath(pbuf[:], p.region, "resource")
	if cp == nil {
		return errnoErr(fnBadBlocks, "read", p.region+"/resource", syscall.ENAMETOOLONG)
	}
	v, errno := readAttrErrno(cp, &buf)
	regionStart, _, _ := strtoull(v, 0)
	switch {
	case errno == errAttrFull:
		return &Error{Func: fnBadBlocks, Op: "read", Path: str(cp), Code: Code(-int(staleErrno)), Err: staleErrno,
			Detail: "1 KiB or more fills libndctl's buffer; C then returns the errno earlier calls left"}
	case errno != 0:
		return errnoErr(fnBadBlocks, "read", str(cp), errno)
	case regionStart == math.MaxUint64:
		return &Error{Func: fnBadBlocks, Op: "read", Path: str(cp), Code: Code(-int(staleErrno)), Err: staleErrno,
			Detail: "the region's resource reads as ULLONG_MAX, libndctl's mark of a failed read; C then returns the errno earlier calls left"}
	}
	c.nsBeg = resource - regionStart
	c.nsEnd = c.nsBeg + size - 1
	return nil
}

// ulongAttr is an attribute as libndctl keeps a resource or a size:
// strtoull(buf, NULL, 0), ULLONG_MAX when it cannot be read.
func ulongAttr(cpath []byte, buf *attrBuf) uint64 {
	if cpath == nil {
		return math.MaxUint64
	}
	v, ok := readAttr(cpath, buf)
	if !ok {
		return math.MaxUint64
	}
	n, _, _ := strtoull(v, 0)
	return n
}

// next is pmem2_badblock_next: the next bad block, false at the end of
// the list (PMEM2_E_NO_BAD_BLOCK_FOUND), or the error of the FIEMAP call
// that fetches a regular file's extents.
func (c *badblockContext) next() (BadBlock, bool, error) {
	if c.exts == nil {
		bb, ok := c.device()
		return bb, ok, nil
	}
	if err := c.exts.load(fnBadBlocks); err != nil {
		return BadBlock{}, false, err
	}
	bb, ok := c.walk.next(c.exts, c.device)
	return bb, ok, nil
}

// device is the next bad block of the device's list, in bytes from the
// start of the namespace: pmem2_badblock_next_region or _namespace. The
// list counts 512-byte sectors; the length is an unsigned int there, and
// shifting it to bytes keeps 32 bits, as in C.
func (c *badblockContext) device() (BadBlock, bool) {
	if c.file == nil {
		return BadBlock{}, false
	}
	for {
		off, n, ok := c.file.next()
		if !ok {
			return BadBlock{}, false
		}
		beg := off << 9
		length := uint64(n << 9)
		if !c.region {
			return BadBlock{Offset: beg, Length: length}, true
		}
		end := beg + length - 1
		if beg > c.nsEnd || c.nsBeg > end {
			continue // outside the namespace
		}
		beg, end = max(beg, c.nsBeg), min(end, c.nsEnd)
		return BadBlock{Offset: beg - c.nsBeg, Length: end - beg + 1}, true
	}
}

// String is "offset+length", in bytes.
func (b BadBlock) String() string {
	return strconv.FormatUint(b.Offset, 10) + "+" + strconv.FormatUint(b.Length, 10)
}
