package emulate

import (
	"cmp"
	"fmt"
	"io/fs"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pmem2emu/pmem2emu/fusefs"
)

// NoPerm asks for permission bits 0000 ("0" in JSON); a zero Node.Mode
// means the type's default.
const NoPerm fs.FileMode = 1 << 18

// modeBits are the bits a Node.Mode may hold besides NoPerm.
const modeBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// A textType is a spec field type that JSON writes as a string other than
// the Go value's own: a name, an octal mode, a duration. Decode, the
// encoder and Validate all go through it, so a value is checked by one
// rule whether it comes from JSON or from a Go literal.
type textType struct {
	rule   string // broken by a string parse rejects
	want   string // the message, a format taking the quoted string
	parse  func(string) (any, bool)
	format func(any) string
}

var textTypes = map[reflect.Type]textType{
	reflect.TypeFor[fusefs.NodeType](): {"unknown-type", "%q: want file, dir, fifo, socket, char, block or symlink",
		func(s string) (any, bool) { t, err := fusefs.ParseNodeType(s); return t, err == nil },
		func(v any) string { return v.(fusefs.NodeType).String() }},
	reflect.TypeFor[fusefs.Op](): {"unknown-op", "%q: want lookup, getattr, open, read, write, readlink, readdir, fsync, setattr or truncate",
		func(s string) (any, bool) { op, err := fusefs.ParseOp(s); return op, err == nil },
		func(v any) string { return v.(fusefs.Op).String() }},
	reflect.TypeFor[syscall.Errno](): {"unknown-errno", `%q is not an errno name like "EIO"`,
		func(s string) (any, bool) { return parseErrno(s) },
		func(v any) string { return fusefs.ErrnoName(v.(syscall.Errno)) }},
	reflect.TypeFor[fs.FileMode](): {"bad-mode", `%q: want an octal mode up to 07777 like "0644"`,
		func(s string) (any, bool) { return parseMode(s) },
		func(v any) string { return formatMode(v.(fs.FileMode)) }},
	reflect.TypeFor[time.Duration](): {"bad-delay", `%q: want a non-negative Go duration like "10ms"`,
		func(s string) (any, bool) { d, err := time.ParseDuration(s); return d, err == nil && d >= 0 },
		func(v any) string { return v.(time.Duration).String() }},
}

// checkText applies the rule of v's textType to a value from a Go literal:
// it must be what its JSON string reads back as. A zero value is the
// field left out, which only a required field may not be.
func checkText(p *problems, loc string, v any, required bool) {
	if reflect.ValueOf(v).IsZero() {
		if required {
			p.add(loc, "missing-field", fmt.Sprintf("field %q is required", loc[strings.LastIndexByte(loc, '.')+1:]))
		}
		return
	}
	tt := textTypes[reflect.TypeOf(v)]
	s := tt.format(v)
	if back, ok := tt.parse(s); !ok || back != v {
		p.add(loc, tt.rule, fmt.Sprintf(tt.want, s))
	}
}

// parseErrno reads an errno name exactly as the kernel headers spell it
// ("EIO"). A spec accepts nothing looser than that canonical name — not
// the numbers, lower case or aliases fusefs.ParseErrno also takes.
func parseErrno(name string) (syscall.Errno, bool) {
	e, err := fusefs.ParseErrno(name)
	return e, err == nil && fusefs.ErrnoName(e) == name && strings.HasPrefix(name, "E")
}

// specialBits are the st_mode bits above the permissions, by their
// fs.FileMode flag.
var specialBits = map[fs.FileMode]uint64{fs.ModeSetuid: 0o4000, fs.ModeSetgid: 0o2000, fs.ModeSticky: 0o1000}

// parseMode reads an octal permission string: "0644", "644", "0o644";
// "0" is NoPerm.
func parseMode(s string) (fs.FileMode, bool) {
	t := strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
	v, err := strconv.ParseUint(t, 8, 32)
	m := fs.FileMode(v & 0o777)
	for flag, bit := range specialBits {
		if v&bit != 0 {
			m |= flag
		}
	}
	return cmp.Or(m, NoPerm), err == nil && t != "" && v <= 0o7777
}

// unixMode is the st_mode permission bits of a valid mode, as fusefs
// takes them (fusefs.NoPerm for NoPerm, 0 for the default).
func unixMode(m fs.FileMode) uint32 {
	if m == NoPerm {
		return fusefs.NoPerm
	}
	out := uint64(m.Perm())
	for flag, bit := range specialBits {
		if m&flag != 0 {
			out |= bit
		}
	}
	return uint32(out)
}

// formatMode writes a mode as JSON does ("0644", "04755", "0000"); one
// with other bits as fs.FileMode.String does, which parseMode rejects.
func formatMode(m fs.FileMode) string {
	switch {
	case m == NoPerm:
		return "0000"
	case m&^modeBits != 0:
		return m.String()
	}
	return fmt.Sprintf("0%03o", unixMode(m))
}
