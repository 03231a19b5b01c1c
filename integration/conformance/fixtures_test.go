package conformance

import (
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
)

// The adversarial fixtures each hold one Device DAX, dax0.0, whose sysfs
// tree is broken in one way by declared nodes that replace generated
// entries (or, where a spec cannot say it, by a change after mounting).

// devDir is dax0.0's device directory (bus model, NVDIMM bus); up leads
// from it back to sys/.
const (
	devDir = "sys/devices/platform/e820_pmem/ndbus0/region0/dax0.1/dax0.0"
	up     = "../../../../../../.."
)

// devno is the device number of an adversarial fixture's dax0.0.
type devno struct{ major, minor uint32 }

// entry is the device's sys/dev/char entry.
func (d devno) entry() string { return fmt.Sprintf("sys/dev/char/%d:%d", d.major, d.minor) }

type adversary struct {
	// name says what is broken; it reads as the subject of a sentence.
	name string
	// nodes are declared on top of the generated tree; e is the device's
	// sys/dev/char entry.
	nodes  func(e string) []emulate.Node
	faults []emulate.Fault
	// after changes the mounted fixture, for what a spec cannot say.
	after func(f *emulate.Fixture, e string) error
	// want is what pmem2_source_from_fd must return in mode path on both
	// sides, as observed.classification prints it: the behaviour of
	// realpath the case is about, stated so the pair cannot agree on
	// something else.
	want string
	// diff declares a known difference in every mode that reaches the
	// library's classification.
	diff *difference
}

func (a adversary) spec(d devno) *emulate.Spec {
	s := &emulate.Spec{DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Major: d.major, Minor: d.minor, Size: 1 << 30}}}
	if a.nodes != nil {
		s.Nodes = a.nodes(d.entry())
	}
	s.Faults = a.faults
	return s
}

func sym(p, target string) emulate.Node {
	return emulate.Node{Path: p, Type: fusefs.TypeSymlink, Target: target}
}
func dir(p string) emulate.Node { return emulate.Node{Path: p, Type: fusefs.TypeDir} }
func file(p, content string) emulate.Node {
	return emulate.Node{Path: p, Type: fusefs.TypeFile, Content: content}
}

// subsystem makes dax0.0's subsystem link point at target, plus extra
// nodes.
func subsystem(target string, extra ...emulate.Node) func(string) []emulate.Node {
	return func(string) []emulate.Node {
		return append([]emulate.Node{sym(devDir+"/subsystem", target)}, extra...)
	}
}

const (
	isDAX       = "from_fd 0"
	notDAX      = "from_fd PMEM2_E_INVALID_FILE_TYPE"
	enoent      = "from_fd -ENOENT"
	eloop       = "from_fd -ELOOP"
	enotdir     = "from_fd -ENOTDIR"
	enametoolon = "from_fd -ENAMETOOLONG"
)

// chain makes the walk from sys/dev/char/M:m/subsystem to bus/dax follow
// exactly links symbolic links: the dev/char entry, the subsystem link
// and links-2 more, each pointing at the next.
func chain(links int) func(string) []emulate.Node {
	return func(string) []emulate.Node {
		n := links - 2
		nodes := []emulate.Node{sym(devDir+"/subsystem", "c1")}
		for i := 1; i < n; i++ {
			nodes = append(nodes, sym(fmt.Sprintf("%s/c%d", devDir, i), fmt.Sprintf("c%d", i+1)))
		}
		return append(nodes, sym(fmt.Sprintf("%s/c%d", devDir, n), up+"/bus/dax"))
	}
}

// deepLevels directories of 250-byte names below sys/bus/deep make a path
// longer than PATH_MAX (4096) bytes.
const deepLevels = 18

var deepDirs = func() string {
	p := "sys/bus/deep"
	for i := 1; i <= deepLevels; i++ {
		p += fmt.Sprintf("/n%02d%s", i, strings.Repeat("x", 247))
	}
	return p
}()

// deep makes the subsystem link lead down deepDirs in two hops (a link
// target must stay below PATH_MAX too) and then to last, a target
// relative to the deepest directory.
func deep(last string, extra ...emulate.Node) func(string) []emulate.Node {
	parts := strings.Split(strings.TrimPrefix(deepDirs, "sys/bus/deep/"), "/")
	half := len(parts) / 2
	first := "sys/bus/deep/" + strings.Join(parts[:half], "/")
	return subsystem(up+"/bus/deep/a", append([]emulate.Node{
		sym("sys/bus/deep/a", strings.Join(parts[:half], "/")+"/b"),
		sym(first+"/b", strings.Join(parts[half:], "/")+"/c"),
		sym(deepDirs+"/c", last),
	}, extra...)...)
}

func adversaries() []adversary {
	as := []adversary{
		{name: "a dangling subsystem link", nodes: subsystem(up + "/bus/nothing"), want: enoent},
		{name: "a subsystem link to a link named dax that points to class/mem",
			nodes: subsystem(up+"/class/dax", sym("sys/class/dax", "mem"), dir("sys/class/mem")), want: notDAX},
		{name: "a subsystem link to a link named mem that points to bus/dax",
			nodes: subsystem(up+"/class/mem", sym("sys/class/mem", "../bus/dax")), want: isDAX},
		{name: "a subsystem link that points to itself", nodes: subsystem("subsystem"), want: eloop},
		{name: "two subsystem links that point to each other",
			nodes: subsystem("other", sym(devDir+"/other", "subsystem")), want: eloop},
		{name: "a dev/char entry that points to itself", nodes: func(e string) []emulate.Node {
			return []emulate.Node{sym(e, e[strings.LastIndexByte(e, '/')+1:])}
		}, want: eloop},
		{name: "a subsystem that is a plain file", nodes: func(string) []emulate.Node {
			return []emulate.Node{file(devDir+"/subsystem", "dax\n")}
		}, want: notDAX},
		{name: "a subsystem that is a directory", nodes: func(string) []emulate.Node {
			return []emulate.Node{dir(devDir + "/subsystem")}
		}, want: notDAX},
		{name: "a subsystem link to a directory named dax beside it",
			nodes: subsystem("dax", dir(devDir+"/dax")), want: isDAX},
		{name: "a missing dev/char entry", after: func(f *emulate.Fixture, e string) error { return f.Remove(e) }, want: enoent},
		{name: "a dangling dev/char entry", nodes: func(e string) []emulate.Node {
			return []emulate.Node{sym(e, "../../devices/nothing")}
		}, want: enoent},
		{name: "a dev/char entry that is a plain file", nodes: func(e string) []emulate.Node {
			return []emulate.Node{file(e, "")}
		}, want: enotdir},
		{name: "a dev/char entry that is an empty directory", nodes: func(e string) []emulate.Node {
			return []emulate.Node{dir(e)}
		}, want: enoent},
		{name: "a dev/char entry that is a directory with its own subsystem link", nodes: func(e string) []emulate.Node {
			return []emulate.Node{dir(e), sym(e+"/subsystem", "../../../bus/dax")}
		}, want: isDAX},
		{name: "a sys/dev/char that is a link to another directory", nodes: func(e string) []emulate.Node {
			return []emulate.Node{sym("sys/dev/char", "../chars"),
				sym("sys/chars/"+e[strings.LastIndexByte(e, '/')+1:], "../"+strings.TrimPrefix(devDir, "sys/"))}
		}, want: isDAX, diff: &difference{goWant: goNotFound, cWant: cCrash2, why: noBusDir}},
		{name: `a subsystem target ending in "dax/"`, nodes: subsystem(up + "/bus/dax/"), want: isDAX},
		{name: `a subsystem target ending in "dax/."`, nodes: subsystem(up + "/bus/dax/."), want: isDAX},
		{name: `a subsystem target ending in "dax//"`, nodes: subsystem(up + "/bus/dax//"), want: isDAX},
		{name: `a subsystem target ending in "dax/.."`, nodes: subsystem(up + "/bus/dax/.."), want: notDAX},
		{name: `a subsystem target ending in "dax/devices/.."`, nodes: subsystem(up + "/bus/dax/devices/.."), want: isDAX},
		{name: `a subsystem target through "bus/./dax"`, nodes: subsystem(up + "/bus/./dax"), want: isDAX},
		{name: "a bus/dax that is a plain file", nodes: func(string) []emulate.Node {
			return []emulate.Node{file("sys/bus/dax", "")}
		}, want: isDAX},
		{name: `a subsystem target "dax/" where dax is a plain file`, nodes: subsystem(up+"/bus/dax/", file("sys/bus/dax", "")), want: enotdir},
		{name: "a subsystem target through a plain file", nodes: subsystem(up + "/bus/dax/uevent/dax"), want: enotdir},
		// The kernel leaves NAME_MAX to the file system, and FUSE takes
		// longer names: this is a plain missing name.
		{name: "a subsystem target with a 256-byte name", nodes: subsystem(up + "/bus/" + strings.Repeat("d", 256)), want: enoent},
		{name: "a subsystem that resolves to a path longer than PATH_MAX",
			nodes: deep("dax", dir(deepDirs+"/dax")), want: enametoolon},
		{name: "a subsystem whose resolution wanders through a path longer than PATH_MAX and back",
			nodes: deep(strings.Repeat("../", 2+deepLevels)+"bus/dax", dir(deepDirs)),
			diff:  &difference{goWant: isDAX + ", size 1073741824, alignment 2097152", cWant: enametoolon, why: intermediatePathMax}},
		{name: "a subsystem target that steps back out of the symlinked dev/char entry", nodes: func(e string) []emulate.Node {
			return subsystem(up + "/" + strings.TrimPrefix(e, "sys/") + strings.Repeat("/..", 7) + "/bus/dax")(e)
		}, want: isDAX},
		{name: "a chain of 40 symbolic links", nodes: chain(40), want: isDAX},
		{name: "a chain of 41 symbolic links", nodes: chain(41), want: eloop},
		{name: "a subsystem whose readlink fails with EIO",
			faults: []emulate.Fault{{Path: devDir + "/subsystem", Op: fusefs.OpReadlink, Errno: syscall.EIO}}, want: "from_fd -EIO"},
		{name: "a bus/dax whose lookup fails with EACCES",
			faults: []emulate.Fault{{Path: "sys/bus/dax", Op: fusefs.OpLookup, Errno: syscall.EACCES}}, want: "from_fd -EACCES"},
		{name: "a dev/char entry whose lookup fails with ENOMEM", nodes: nil,
			after: func(f *emulate.Fixture, e string) error {
				return f.AddFault(emulate.Fault{Path: e, Op: fusefs.OpLookup, Errno: syscall.ENOMEM})
			}, want: "from_fd -ENOMEM"},
		{name: "an absolute subsystem target into the fixture's sysfs",
			after: func(f *emulate.Fixture, e string) error {
				return f.SetTarget(devDir+"/subsystem", f.Sysfs()+"/bus/dax")
			}, want: isDAX},
	}
	// "dax" spelt otherwise: only the exact last component counts.
	for _, name := range []string{"DAX", "Dax", "dax2", "daxx", "xdax", "da", "dax ", "dax.0"} {
		as = append(as, adversary{
			name:  fmt.Sprintf("a subsystem link to bus/%q", name),
			nodes: subsystem(up+"/bus/"+name, dir("sys/bus/"+name)),
			want:  notDAX,
		})
	}
	return as
}

// deviceModeSpec is a fixture of Device DAX nodes that really open: each
// has the number of a harmless memory device, so on a mount without nodev
// (root only) the r, w and rw modes reach the library too.
func deviceModeSpec() *emulate.Spec {
	return &emulate.Spec{DAXDevices: []emulate.DAXDevice{
		{Name: "dax0.0", Major: 1, Minor: 5, Size: 1 << 30, Align: 2 << 20},
		{Name: "dax0.1", Major: 1, Minor: 3, Size: 2 << 30, Align: 1 << 30},
		{Name: "dax1.0", Major: 1, Minor: 7, Size: 512 << 20, Align: 4096, NUMANode: 1, Subsystem: "class"},
		{Name: "dax2.0", Major: 1, Minor: 8, Size: 1 << 30, NDBus: new(false)},
		{Name: "dax3.0", Major: 1, Minor: 9, Size: 1 << 30, DAXRegion: new(false)},
	}}
}

// noDevNodeSpec is a healthy Device DAX, NVDIMM bus and all, whose
// /dev/dax0.0 is a regular file: the device is reached through another
// node with its number, data/dax.
func noDevNodeSpec() *emulate.Spec {
	return &emulate.Spec{
		DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Size: 1 << 30, Align: 2 << 20}},
		Nodes: []emulate.Node{
			{Path: "data/dax", Type: fusefs.TypeCharDev, Major: emulate.DefaultDAXMajor, Minor: 0},
			{Path: "dev/dax0.0", Type: fusefs.TypeFile, Content: "not a device\n"},
		},
	}
}

// root reports whether the suite can mount in device mode.
func root() bool { return os.Geteuid() == 0 }
