package pmem2

import (
	"os"
	"sync"
)

// FileType is what a Source describes. FileTypeRegular and FileTypeDevDAX
// have the values of the C enum pmem2_file_type (PMEM2_FTYPE_REG,
// PMEM2_FTYPE_DEVDAX).
type FileType int

const (
	FileTypeUnknown FileType = iota // a nil or deleted Source
	FileTypeRegular                 // a regular file
	FileTypeDevDAX                  // a Device DAX character device
	FileTypeAnon                    // anonymous memory (SourceFromAnon)
)

func (t FileType) String() string {
	switch t {
	case FileTypeRegular:
		return "regular"
	case FileTypeDevDAX:
		return "devdax"
	case FileTypeAnon:
		return "anon"
	}
	return "unknown"
}

// Source is a data source: struct pmem2_source. It holds the descriptor
// number (never a duplicate: like C, it sees whatever file that number
// refers to when a method runs), the device numbers seen by
// SourceFromFD (st_rdev, st_dev) and the sysfs root. Nothing read from sysfs is cached: Size
// and Alignment read it on every call, as C does.
//
// A Source is safe for concurrent use; Delete waits for methods in flight.
type Source struct {
	mu        sync.RWMutex
	typ       FileType // FileTypeUnknown once deleted
	fd        int
	rdev      uint64 // st_rdev at SourceFromFD time
	dev       uint64 // st_dev at SourceFromFD time
	anonSize  uint64
	sysfsRoot string
	procFD    string
}

// SourceFromAnon is pmem2_source_from_anon: a source of size bytes of
// anonymous memory. It cannot fail (the C version fails only with -ENOMEM).
func SourceFromAnon(size uint64) (*Source, error) {
	return &Source{typ: FileTypeAnon, fd: -1, anonSize: size}, nil
}

// Delete is pmem2_source_delete. It forgets the source and returns nil; it
// never closes the descriptor, which stays the caller's. Deleting a nil or an
// already deleted Source does nothing. Afterwards Type reports
// FileTypeUnknown and every other method fails with ErrDeleted (code
// PMEM2_E_INVALID_FILE_HANDLE).
func (s *Source) Delete() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	s.typ = FileTypeUnknown
	s.mu.Unlock()
	return nil
}

// Type is the kind of file the source describes; FileTypeUnknown for a nil
// or deleted Source.
func (s *Source) Type() FileType {
	if s == nil {
		return FileTypeUnknown
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.typ
}

// FD is pmem2_source_get_fd: the descriptor the source was created from.
// An anonymous source has none: PMEM2_E_FILE_DESCRIPTOR_NOT_SET.
func (s *Source) FD() (int, error) {
	const fn = "pmem2_source_get_fd"
	if s == nil {
		return -1, deletedErr(fn)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch s.typ {
	case FileTypeUnknown:
		return -1, deletedErr(fn)
	case FileTypeAnon:
		return -1, codeErr(fn, "get fd", "", ErrFileDescriptorNotSet, "an anonymous source has no file descriptor")
	}
	return s.fd, nil
}

// Size is pmem2_source_size, in bytes. Regular file: st_size of a fresh
// fstat. Device DAX: the size of the nd_dax libndctl finds holding the
// device, as libndctl reads it (see the package documentation, which also
// says what the port reads and what it returns where C crashes).
// Anonymous: the size given to SourceFromAnon.
func (s *Source) Size() (uint64, error) { return s.value(fnSize, (*Source).size) }

// Alignment is pmem2_source_alignment. Regular file and anonymous memory:
// the page size. Device DAX: the align of the nd_dax libndctl finds holding
// the device (see the package documentation); it must be a power of two.
func (s *Source) Alignment() (uint64, error) { return s.value(fnAlignment, (*Source).alignment) }

// value is get(s) under the read lock; a nil s is a deleted source of fn.
func (s *Source) value(fn string, get func(*Source) (uint64, error)) (uint64, error) {
	if s == nil {
		return 0, deletedErr(fn)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return get(s)
}

const (
	fnFromFD    = "pmem2_source_from_fd"
	fnSize      = "pmem2_source_size"
	fnAlignment = "pmem2_source_alignment"
	fnPread     = "pmem2_source_pread_mcsafe"
	fnPwrite    = "pmem2_source_pwrite_mcsafe"
)

var pageSize = uint64(os.Getpagesize())

// size is Size with the read lock held.
func (s *Source) size() (uint64, error) {
	switch s.typ {
	case FileTypeUnknown:
		return 0, deletedErr(fnSize)
	case FileTypeAnon:
		return s.anonSize, nil
	}
	var st statBuf
	if errno := fstat(s.fd, &st); errno != 0 {
		return 0, fstatErr(fnSize, errno)
	}
	if s.typ == FileTypeDevDAX {
		return s.devDAXSize()
	}
	if st.Size < 0 {
		return 0, codeErr(fnSize, "fstat", "", ErrInvalidFileHandle, "the kernel says the size of the regular file is negative")
	}
	return uint64(st.Size), nil
}

// alignment is Alignment with the read lock held.
func (s *Source) alignment() (uint64, error) {
	switch s.typ {
	case FileTypeUnknown:
		return 0, deletedErr(fnAlignment)
	case FileTypeDevDAX:
		return s.devDAXAlignment()
	}
	return pageSize, nil
}
