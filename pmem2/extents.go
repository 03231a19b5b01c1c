package pmem2

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A regular file's bad blocks are the device's bad blocks that fall in the
// file's extents, moved to the file's offsets (pmem2_extents_create_get in
// extent_linux.c, and pmem2_badblock_next).

// fsIocFiemap is FS_IOC_FIEMAP, _IOWR('f', 11, struct fiemap): the same
// number in the ioctl encodings of every Linux architecture (the read and
// write bits are 0xC0000000 in both the generic and the powerpc/mips
// layout).
const fsIocFiemap = 0xC020660B

// fiemapHeader is struct fiemap without its flexible array of extents.
type fiemapHeader struct {
	start, length uint64
	flags         uint32
	mapped, count uint32
	_             uint32
}

// fiemapExtent is struct fiemap_extent.
type fiemapExtent struct {
	logical, physical, length uint64
	_                         [2]uint64
	flags                     uint32
	_                         [3]uint32
}

// extent is one extent of a file: bytes [logical, logical+length) of the
// file live at [physical, physical+length) of its device.
type extent struct{ logical, physical, length uint64 }

// fileExtents is struct extents: the file's extents and block size.
type fileExtents struct {
	fd      int
	size    uint64 // st_size: FIEMAP's range is [0, size)
	blksize uint64 // st_blksize
	// mapped is what the first FIEMAP call counted. C fetches that many
	// extents at once, when the context is created; the port fetches them
	// when the first bad block needs them (exts nil until then).
	mapped uint32
	exts   []extent
}

// newFileExtents is pmem2_extents_create_get up to the counting FIEMAP
// call: fstat (failure: -errno), the type (a directory:
// PMEM2_E_INVALID_FILE_TYPE; a Device DAX has no extents), then
// FS_IOC_FIEMAP over [0, st_size) asking for no extent, whose failure is
// -errno (a file system without FIEMAP: -EOPNOTSUPP; an O_PATH descriptor:
// -EBADF; an empty file: -EINVAL).
func (s *Source) newFileExtents(fn string) (*fileExtents, error) {
	var st statBuf
	if errno := fstat(s.fd, &st); errno != 0 {
		return nil, errnoErr(fn, "fstat", "", errno)
	}
	x := &fileExtents{fd: s.fd, size: uint64(st.Size), blksize: uint64(st.Blksize)}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		return nil, codeErr(fn, "get extents", "", ErrInvalidFileType, "the descriptor now refers to a directory")
	case unix.S_IFCHR:
		if err := classifyCharDev(Option{sysfsRoot: s.sysfsRoot, procFD: s.procFD}, st.Rdev, fn); err != nil {
			return nil, err
		}
		x.exts = []extent{} // a Device DAX: no extents
		return x, nil
	default:
		return nil, codeErr(fn, "get extents", "", ErrInvalidFileType, "the descriptor now refers to neither a regular file nor a character device")
	}
	hdr := fiemapHeader{length: x.size}
	if errno := fiemap(x.fd, unsafe.Pointer(&hdr)); errno != 0 {
		return nil, errnoErr(fn, "ioctl(FS_IOC_FIEMAP)", "", errno)
	}
	x.mapped = hdr.mapped
	if x.mapped == 0 {
		x.exts = []extent{}
	}
	return x, nil
}

// load is the second FIEMAP call: room for the extents counted, filled
// in. Its failure is -errno.
func (x *fileExtents) load(fn string) error {
	if x.exts != nil {
		return nil
	}
	n := int(x.mapped)
	// One allocation: the header, then the extents, 8-byte aligned.
	words := make([]uint64, (unsafe.Sizeof(fiemapHeader{})+uintptr(n)*unsafe.Sizeof(fiemapExtent{}))/8)
	hdr := (*fiemapHeader)(unsafe.Pointer(&words[0]))
	hdr.length, hdr.count = x.size, x.mapped
	if errno := fiemap(x.fd, unsafe.Pointer(hdr)); errno != 0 {
		return errnoErr(fn, "ioctl(FS_IOC_FIEMAP)", "", errno)
	}
	all := unsafe.Slice((*fiemapExtent)(unsafe.Add(unsafe.Pointer(hdr), unsafe.Sizeof(fiemapHeader{}))), n)
	x.exts = make([]extent, min(int(hdr.mapped), n))
	for i := range x.exts {
		x.exts[i] = extent{logical: all[i].logical, physical: all[i].physical, length: all[i].length}
	}
	return nil
}

func fiemap(fd int, arg unsafe.Pointer) syscall.Errno {
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), fsIocFiemap, uintptr(arg))
		if e != syscall.EINTR {
			return e
		}
	}
}

// extentWalk is the state pmem2_badblock_next keeps between calls for a
// regular file: a bad block longer than the extent it was found in is
// kept, to be matched against the following extents.
type extentWalk struct {
	firstExtent int
	last        BadBlock
}

// next is pmem2_badblock_next's translation for a regular file: the next
// bad block of the device (from dev, in device offsets) that overlaps one
// of the file's extents, cut to that extent, moved to the file's offset
// and widened to whole blocks of blksize. false when dev has no more.
func (w *extentWalk) next(x *fileExtents, dev func() (BadBlock, bool)) (BadBlock, bool) {
	exts := x.exts
	for {
		var bb BadBlock
		if w.last.Length != 0 {
			bb, w.last = w.last, BadBlock{}
		} else {
			var ok bool
			if bb, ok = dev(); !ok {
				return BadBlock{}, false
			}
		}
		beg, end := bb.Offset, bb.Offset+bb.Length-1
		for e := w.firstExtent; e < len(exts); e++ {
			extBeg := exts[e].physical
			extEnd := extBeg + exts[e].length - 1
			if !(beg <= extEnd && extBeg <= end) {
				continue
			}
			if end > extEnd && e+1 < len(exts) {
				w.firstExtent, w.last = e+1, bb
			} else {
				w.firstExtent, w.last = 0, BadBlock{}
			}
			beg, end = max(beg, extBeg), min(end, extEnd)
			length := end - beg + 1
			off := beg + exts[e].logical - exts[e].physical
			if unaligned := off & (x.blksize - 1); unaligned != 0 {
				off -= unaligned
				length += unaligned
			}
			length = (length + x.blksize - 1) &^ (x.blksize - 1) // ALIGN_UP
			return BadBlock{Offset: off, Length: length}, true
		}
		w.firstExtent, w.last = 0, BadBlock{}
	}
}
