// Package probe opens a path in one of the four modes the project tests
// (emulate.OpenMode: r, w, rw, path; O_NONBLOCK so a FIFO never blocks)
// and runs the pmem2 library on the descriptor, the way `pmem2emu probe`
// and `pmem2emu check` do. The Result marshals to the JSON object that
// `pmem2emu probe --json` prints, one per line.
package probe

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// Result is what the library said about one path opened in one mode, in
// the words of emulate.Result (codes are pmem2.CodeOf values: exactly what
// the C functions return), with the source's type.
type Result struct {
	Path string
	Mode emulate.OpenMode
	// Type is the source's type ("regular", "devdax") when SourceFromFD
	// succeeded, "" otherwise.
	Type string
	emulate.Result
}

// Run opens path in mode and runs SourceFromFD, then Size, Alignment,
// NumaNode, DeviceID, DeviceUSC, BadBlocks and Delete on success. opts go
// to SourceFromFD (e.g. pmem2.WithSysfsRoot).
// The error is only for a bad mode; everything the library or open(2)
// says is in the Result.
func Run(path string, mode emulate.OpenMode, opts ...pmem2.Option) (Result, error) {
	flags, err := mode.Flags()
	if err != nil {
		return Result{}, err
	}
	r := Result{Path: path, Mode: mode}
	fd, err := unix.Open(path, flags, 0)
	if err != nil {
		r.OpenErrno = err.(syscall.Errno)
		return r, nil
	}
	defer unix.Close(fd)

	src, err := pmem2.SourceFromFD(fd, opts...)
	r.FromFD = pmem2.Code(pmem2.CodeOf(err))
	if err != nil {
		return r, nil
	}
	defer src.Delete()
	r.Type = src.Type().String()
	r.Size, err = src.Size()
	r.SizeRC = pmem2.Code(pmem2.CodeOf(err))
	r.Alignment, err = src.Alignment()
	r.AlignmentRC = pmem2.Code(pmem2.CodeOf(err))
	r.NUMANode, err = src.NumaNode()
	r.NUMANodeRC = pmem2.Code(pmem2.CodeOf(err))
	r.DeviceID, err = src.DeviceID()
	r.DeviceIDRC = pmem2.Code(pmem2.CodeOf(err))
	r.USC, err = src.DeviceUSC()
	r.USCRC = pmem2.Code(pmem2.CodeOf(err))
	bad, err := src.BadBlocks()
	r.BadBlocksRC = pmem2.Code(pmem2.CodeOf(err))
	for _, b := range bad {
		r.BadBlocks = append(r.BadBlocks, emulate.BadBlock{Offset: b.Offset, Length: b.Length})
	}
	return r, nil
}

// line is the result's emulate.Line with the type after from_fd, which
// the text form shows only for a source.
func (r Result) line(withType bool) emulate.Line {
	l := r.Result.Line()
	if withType && l.Open == "" {
		l.Fields = slices.Insert(l.Fields, 1, emulate.Field{Name: "type", Value: r.Type})
	}
	return l
}

// String is the one-line human form of r: "PATH (MODE): " and its line,
// e.g. "from_fd 0, type devdax, size 1073741824, alignment 2097152".
func (r Result) String() string {
	return fmt.Sprintf("%s (%s): %s", r.Path, r.Mode, r.line(r.FromFD == 0))
}

// MarshalJSON writes the fields of the line as JSON keys in its order:
//
//	{"path": "...", "mode": "r", "from_fd": 0, "type": "devdax", "size": 1073741824,
//	 "size_rc": 0, "alignment": 2097152, "alignment_rc": 0, "numa_node": 0,
//	 "numa_node_rc": 0, "device_id": "8089-a2-1837-00000abc", "device_id_rc": 0,
//	 "usc": 7, "usc_rc": 0, "badblocks": [{"offset": 4096, "length": 4096}],
//	 "badblocks_rc": 0}
//
// "type" is "" when from_fd fails, values appear only when their code is
// 0; a failed open(2) is {"path": "...", "mode": "r", "open_errno": 13}.
func (r Result) MarshalJSON() ([]byte, error) {
	kv := []any{"path", r.Path, "mode", r.Mode}
	if r.OpenErrno != 0 {
		kv = append(kv, "open_errno", int(r.OpenErrno))
	}
	for _, f := range r.line(true).Fields {
		if f.Value != nil {
			kv = append(kv, f.Name, f.Value)
		}
		if f.RC != nil {
			kv = append(kv, f.Name+"_rc", *f.RC)
		}
	}
	members := make([]string, 0, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		v, err := json.Marshal(kv[i+1])
		if err != nil {
			return nil, err
		}
		members = append(members, strconv.Quote(kv[i].(string))+":"+string(v))
	}
	return []byte("{" + strings.Join(members, ",") + "}"), nil
}
