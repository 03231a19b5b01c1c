package emulate

import (
	"flag"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

var update = flag.Bool("update", false, "rewrite the table in Default's doc comment from Default()")

const regenerate = "go test ./emulate -run TestTheDefaultDocTableIsCurrent -update"

// The table in Default's doc comment is generated from Default(): a
// changed fixture needs only the command above.
func TestTheDefaultDocTableIsCurrent(t *testing.T) {
	src, err := os.ReadFile("default.go")
	require.NoError(t, err)
	lines := strings.SplitAfter(string(src), "\n")
	start := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "//\tnode") })
	require.GreaterOrEqual(t, start, 0, "default.go has no table starting with %q", "//\tnode")
	end := start + slices.Index(lines[start:], "//\n")
	table := defaultDocTable(docDefault())
	if *update {
		out := slices.Concat(lines[:start], []string{table}, lines[end:])
		require.NoError(t, os.WriteFile("default.go", []byte(strings.Join(out, "")), 0o644))
		return
	}
	if got := strings.Join(lines[start:end], ""); got != table {
		t.Errorf("the table in Default's doc comment is not Default's; regenerate it: %s\nwant:\n%s", regenerate, table)
	}
}

// docPage stands for the page size in the table, which must not depend on
// the machine that generates it.
const docPage = 3

// docDefault is Default with docPage for the page size.
func docDefault() *Spec {
	defer func(was func() int) { pageSize = was }(pageSize)
	pageSize = func() int { return docPage }
	return Default()
}

// defaultDocTable renders every expectation of s, a row a node, as doc
// comment lines: the path, what is declared there, and the outcome in
// each open mode.
func defaultDocTable(s *Spec) string {
	var p problems
	b := s.build(&p)
	rows := [][]string{{"node", "declared", "r", "w", "rw", "path"}}
	// A row is what root meets; what a user meets differently follows
	// on a row of its own.
	add := func(path, what string, e *Expect) {
		row, user := []string{path, what}, []string{"", "as a user:"}
		differs := false
		for _, m := range Modes() {
			r, u := brief(e.ForCaller(CallerRoot, m)), brief(e.ForCaller(CallerUser, m))
			row = append(row, r)
			if u == r {
				u = ""
			}
			differs = differs || u != ""
			user = append(user, u)
		}
		rows = append(rows, row)
		if differs {
			rows = append(rows, user)
		}
	}
	for _, in := range s.daxInfos() {
		add("dev/"+in.d.Name, describeDAX(s, b, &in), in.d.Expect)
	}
	for _, in := range s.pmemInfos() {
		add("dev/"+in.d.Name, fmt.Sprintf("fsdax pmem %d:%d, %s", in.major, in.minor, humanBytes(in.d.Size)), in.d.Expect)
	}
	for _, n := range s.Nodes {
		if n.Expect != nil {
			add(n.Path, describeNode(s, &n), n.Expect)
		}
	}
	const whatWidth = 40
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			if i != 1 {
				width[i] = max(width[i], len(c))
			}
		}
	}
	width[1] = whatWidth
	var out strings.Builder
	for _, r := range rows {
		what := wrap(r[1], whatWidth)
		for i, w := range what {
			cells := slices.Clone(r)
			cells[1] = w
			if i > 0 {
				cells = []string{"", w}
			}
			line := "//\t"
			for j, c := range cells {
				if j < len(cells)-1 {
					c += strings.Repeat(" ", width[j]-len(c)+2)
				}
				line += c
			}
			out.WriteString(strings.TrimRight(line, " ") + "\n")
		}
	}
	// The calls on DIMMs and bad blocks, in a second table below.
	return out.String() + columns(rasTable(s))
}

// describeDAX says what a Device DAX is declared as: its numbers, size and
// alignment, what differs from a healthy device, and the declared nodes
// and faults that touch what it generates.
func describeDAX(s *Spec, b *builder, in *daxInfo) string {
	d := in.d
	parts := []string{fmt.Sprintf("Device DAX %d:%d, %s, align %s", in.major, in.minor, humanBytes(d.Size), humanBytes(in.align))}
	add := func(ok bool, format string, args ...any) {
		if ok {
			parts = append(parts, fmt.Sprintf(format, args...))
		}
	}
	add(in.class, "class/dax model")
	add(d.NUMANode != 0, "NUMA node %d", d.NUMANode)
	if d.SizeRaw != nil {
		add(true, "nd_dax size %q", *d.SizeRaw)
	}
	if d.AlignRaw != nil {
		add(true, "nd_dax align %q", *d.AlignRaw)
	}
	add(!in.ndBus, "no NVDIMM bus (hmem.%d)", in.region)
	add(in.ndBus && !in.daxRegion, "no dax_region/")
	add(d.DIMMs != nil, "DIMMs %s", strings.Join(d.DIMMs, " "))
	for _, dimm := range s.DIMMs {
		if slices.Contains(d.DIMMs, dimm.Name) {
			add(dimm.ID != nil && *dimm.ID == "", "%s without id", dimm.Name)
			add(dimm.DirtyShutdown < 0, "%s without dirty_shutdown", dimm.Name)
		}
	}
	add(d.BadBlocks != nil, "bad blocks %s", BadBlocks(d.BadBlocks))
	generated := b.generatedBy(in.loc)
	for _, name := range d.DIMMs {
		generated = append(generated, b.generatedBy(dimmLoc(s, name))...)
	}
	for _, n := range s.Nodes {
		if slices.Contains(generated, n.Path) {
			add(true, "%s: %s", lastTwo(n.Path), describeNode(s, &n))
		}
	}
	for _, f := range s.Faults {
		if slices.ContainsFunc(generated, func(p string) bool { return fusefs.MatchPath(f.Path, p) }) {
			add(true, "%s of %s fails %v", f.Op, lastTwo(f.Path), fusefs.ErrnoName(f.Errno))
		}
	}
	return strings.Join(parts, ", ")
}

// lastTwo is a sysfs path by its last two components, which say whose
// attribute it is: "dax7.0/size", "dax_region/align".
func lastTwo(p string) string {
	return path.Base(path.Dir(p)) + "/" + path.Base(p)
}

// describeNode says what a declared node is.
func describeNode(s *Spec, n *Node) string {
	var what string
	switch n.Type {
	case fusefs.TypeFile:
		switch {
		case n.Size > int64(len(n.Content)):
			what = "sparse file of " + humanBytes(uint64(n.Size))
		case n.Content == "":
			what = "empty file"
		default:
			what = "file " + strconv.Quote(n.Content)
		}
	case fusefs.TypeSymlink:
		what = "symlink to " + n.Target
		if up := strings.TrimLeft(n.Target, "./"); up != n.Target {
			what = "symlink to …/" + up
		}
	case fusefs.TypeCharDev, fusefs.TypeBlockDev:
		what = fmt.Sprintf("%s device %d:%d", n.Type, n.Major, n.Minor)
		if n.Subsystem != "" {
			what += ", sysfs subsystem " + n.Subsystem
		} else {
			what += ", unknown to sysfs"
		}
	default:
		what = map[fusefs.NodeType]string{fusefs.TypeDir: "directory", fusefs.TypeFIFO: "FIFO", fusefs.TypeSocket: "socket"}[n.Type]
	}
	if n.UID != nil {
		what += fmt.Sprintf(", uid %d", *n.UID)
	}
	if n.Mode != 0 && unixMode(n.Mode) != defaultPerm[n.Type] {
		what += fmt.Sprintf(", mode %04o", unixMode(n.Mode))
	}
	for _, f := range s.Faults {
		if fusefs.MatchPath(f.Path, n.Path) {
			what += fmt.Sprintf(", %s fails %s", f.Op, fusefs.ErrnoName(f.Errno))
		}
	}
	return what
}

// columns renders rows as doc comment lines, each column as wide as its
// widest cell.
func columns(rows [][]string) string {
	width := map[int]int{}
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len(c))
		}
	}
	var out strings.Builder
	for _, r := range rows {
		line := "//\t"
		for i, c := range r {
			line += c + strings.Repeat(" ", width[i]-len(c)+2)
		}
		out.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	return out.String()
}

// dimmLoc is the JSON location of the declared DIMM name.
func dimmLoc(s *Spec, name string) string {
	return fmt.Sprintf("dimms[%d]", slices.IndexFunc(s.DIMMs, func(d DIMM) bool { return d.Name == name }))
}

// defaultPerm is each type's permission bits when Mode is zero.
var defaultPerm = map[fusefs.NodeType]uint32{fusefs.TypeFile: 0o644, fusefs.TypeFIFO: 0o644, fusefs.TypeDir: 0o755,
	fusefs.TypeSocket: 0o755, fusefs.TypeCharDev: 0o660, fusefs.TypeBlockDev: 0o660, fusefs.TypeSymlink: 0o777}

// brief renders an outcome for the table: the open's errno, the failing
// from_fd, or size and alignment (a value or a code); "ok" for a bare
// success, "" for no expectation.
func brief(o *Outcome) string {
	code := func(c pmem2.Code) string { return strings.TrimPrefix(c.Name(), "PMEM2_E_") }
	value := func(v *uint64, c *pmem2.Code) string {
		switch {
		case c != nil && *c != 0:
			return code(*c)
		case v != nil && *v == docPage:
			return "page"
		case v != nil:
			return humanBytes(*v)
		}
		return "?"
	}
	switch {
	case o == nil:
		return ""
	case o.OpenErrno != 0:
		return fusefs.ErrnoName(o.OpenErrno)
	case o.FromFD != nil && *o.FromFD != 0:
		return code(*o.FromFD)
	case o.Size == nil && o.SizeRC == nil && o.Alignment == nil && o.AlignmentRC == nil:
		return "ok"
	}
	return value(o.Size, o.SizeRC) + ", " + value(o.Alignment, o.AlignmentRC)
}

// rasFields are the calls on DIMMs and bad blocks, which the second table
// shows: the fields after size and alignment.
var rasFields = fields[2:]

// rasTable renders, for every expectation of s that names a call on DIMMs
// or bad blocks, its node, the modes it holds in (one row for the modes
// that expect the same) and each call's value or code ("-" when not
// expected), as rows under the main table's columns.
func rasTable(s *Spec) [][]string {
	rows := [][]string{{"node", "modes"}}
	for _, f := range rasFields {
		rows[0] = append(rows[0], f.name)
	}
	// A row is what root meets; what a user meets differently follows on
	// a row of its own.
	add := func(path string, e *Expect) {
		for _, c := range []Caller{CallerRoot, CallerUser} {
			if c == CallerUser {
				path = "as a user:"
			}
			addFor(&rows, path, e, c)
		}
	}
	for _, in := range s.daxInfos() {
		add("dev/"+in.d.Name, in.d.Expect)
	}
	for _, in := range s.pmemInfos() {
		add("dev/"+in.d.Name, in.d.Expect)
	}
	for _, n := range s.Nodes {
		add(n.Path, n.Expect)
	}
	return rows
}

// addFor adds to rows the calls on DIMMs and bad blocks e expects when c
// checks: a row for the modes that expect the same; for a user, only
// where that differs from what root meets.
func addFor(rows *[][]string, path string, e *Expect, c Caller) {
	{
		var order []string
		byLine := map[string][]string{}
		for _, m := range Modes() {
			o := e.ForCaller(c, m)
			if o == nil || c == CallerUser && o == e.ForCaller(CallerRoot, m) {
				continue
			}
			var cells []string
			for _, f := range rasFields {
				v, rc := f.want(o)
				switch {
				case rc != nil && *rc != 0:
					cells = append(cells, strings.TrimPrefix(rc.Name(), "PMEM2_E_"))
				case v != nil:
					cells = append(cells, valueText(v))
				default:
					cells = append(cells, "-")
				}
			}
			if strings.Trim(strings.Join(cells, ""), "-") == "" {
				continue
			}
			k := strings.Join(cells, "\x00")
			if byLine[k] == nil {
				order = append(order, k)
			}
			byLine[k] = append(byLine[k], string(m))
		}
		for _, k := range order {
			*rows = append(*rows, append([]string{path, strings.Join(byLine[k], " ")}, strings.Split(k, "\x00")...))
		}
	}
}

// humanBytes writes a size in the largest binary unit that divides it.
func humanBytes(n uint64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n != 0 && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d %s", n>>u.shift, u.name)
		}
	}
	return strconv.FormatUint(n, 10)
}

// wrap breaks text into lines of at most width bytes at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		line = strings.TrimPrefix(line+" "+w, " ")
	}
	return append(lines, line)
}
