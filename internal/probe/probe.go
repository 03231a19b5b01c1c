// Package probe opens a path in one of the four modes the project tests
// (r, w, rw, path; O_NONBLOCK so a FIFO never blocks) and runs the pmem2 library on the descriptor, the way
// `pmem2emu probe` and `pmem2emu check` do. The Result marshals to the JSON
// object that `pmem2emu probe --json` prints, one per line.
package probe

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// Result is what the library said about one path opened in one mode. Codes
// are pmem2.CodeOf values: exactly what the C functions return. Size and
// Alignment are set only when their code is 0; SizeRC and AlignmentRC only
// when SourceFromFD succeeded; everything after OpenErrno only when the open
// succeeded.
type Result struct {
	Path        string  `json:"path"`
	Mode        string  `json:"mode"`
	OpenErrno   *int    `json:"open_errno,omitempty"`
	FromFD      *int    `json:"from_fd,omitempty"`
	Type        *string `json:"type,omitempty"`
	Size        *uint64 `json:"size,omitempty"`
	SizeRC      *int    `json:"size_rc,omitempty"`
	Alignment   *uint64 `json:"alignment,omitempty"`
	AlignmentRC *int    `json:"alignment_rc,omitempty"`
}

// Run opens path in mode (r, w, rw or path, as emulate.OpenMode.Flags
// opens them) and runs SourceFromFD, then Size, Alignment and
// Delete on success. opts go to SourceFromFD (e.g. pmem2.WithSysfsRoot). The
// error is only for a bad mode; everything the library or open(2) says is in
// the Result.
func Run(path, mode string, opts ...pmem2.Option) (Result, error) {
	flags, err := emulate.OpenMode(mode).Flags()
	if err != nil {
		return Result{}, err
	}
	r := Result{Path: path, Mode: mode}
	fd, err := unix.Open(path, flags, 0)
	if err != nil {
		errno := int(err.(syscall.Errno))
		r.OpenErrno = &errno
		return r, nil
	}
	defer unix.Close(fd)

	src, err := pmem2.SourceFromFD(fd, opts...)
	code := pmem2.CodeOf(err)
	r.FromFD = &code
	typ := ""
	if err != nil {
		r.Type = &typ
		return r, nil
	}
	defer src.Delete()
	typ = src.Type().String()
	r.Type = &typ

	size, err := src.Size()
	sizeRC := pmem2.CodeOf(err)
	r.SizeRC = &sizeRC
	if err == nil {
		r.Size = &size
	}
	align, err := src.Alignment()
	alignRC := pmem2.CodeOf(err)
	r.AlignmentRC = &alignRC
	if err == nil {
		r.Alignment = &align
	}
	return r, nil
}

// String is the one-line human form of r.
func (r Result) String() string {
	if r.OpenErrno != nil {
		return fmt.Sprintf("%s (%s): open: %s", r.Path, r.Mode, errnoName(*r.OpenErrno))
	}
	s := fmt.Sprintf("%s (%s): from_fd %s", r.Path, r.Mode, pmem2.Code(*r.FromFD).Name())
	if *r.FromFD != 0 {
		return s
	}
	s += ", type " + *r.Type
	if r.Size != nil {
		s += fmt.Sprintf(", size %d", *r.Size)
	} else {
		s += ", size " + pmem2.Code(*r.SizeRC).Name()
	}
	if r.Alignment != nil {
		s += fmt.Sprintf(", alignment %d", *r.Alignment)
	} else {
		s += ", alignment " + pmem2.Code(*r.AlignmentRC).Name()
	}
	return s
}

func errnoName(errno int) string {
	if n := unix.ErrnoName(syscall.Errno(errno)); n != "" {
		return n
	}
	return fmt.Sprintf("errno %d", errno)
}
