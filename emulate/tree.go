package emulate

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/pmem2emu/pmem2emu/fusefs"
)

// Tree generates the fixture's file system: sys/ as the kernel lays it out
// for the declared devices (sysfs-dax.md), dev/ with their nodes, then the
// declared nodes on top. Keys are relative to the mount root. The spec is
// validated first; an invalid spec gives its SpecErrors and no tree.
func (s *Spec) Tree() (fusefs.Tree, error) {
	var p problems
	s.checkFields(&p)
	if err := p.err(); err != nil {
		return nil, err
	}
	b := s.build(&p)
	if err := p.err(); err != nil {
		return nil, err
	}
	return b.nodes, nil
}

// Sysfs attribute permissions as the kernel sets them.
const (
	modeRO   = 0o444
	modeRW   = 0o644
	modeRoot = 0o400 // resource, dax_region/align: root only
	modeDir  = 0o755
)

// builder accumulates generated nodes and remembers who generated each
// path, so two generators of one path, and declared nodes over generated
// ones, can be reported precisely.
type builder struct {
	p     *problems
	nodes fusefs.Tree
	owner map[string]string   // path → JSON location of its generator
	owned map[string][]string // JSON location → paths it generated
	raw   map[string]string   // file filled by size_raw/align_raw → location
	// lay is where the devices lie, their regions' DIMMs included; nil
	// when the spec's sizes do not fit.
	lay *layout
	// clashed records reported pairs of generators, so a clash is
	// reported once, at the first path the two share.
	clashed map[[2]string]bool
}

func (b *builder) clash(owner, other, msg string) {
	k := [2]string{owner, other}
	if b.clashed[k] {
		return
	}
	b.clashed[k] = true
	b.p.add(owner, "generated-clash", msg)
}

func newBuilder(p *problems) *builder {
	return &builder{
		p:     p,
		nodes: fusefs.Tree{},
		owner: map[string]string{},
		owned: map[string][]string{},
		raw:   map[string]string{},

		clashed: map[[2]string]bool{},
	}
}

// put adds a generated node, creating parent directories; it reports a
// clash when the path (or a parent) is already something else.
func (b *builder) put(owner, p string, n *fusefs.Node) {
	for _, a := range ancestors(p) {
		if !b.mkdir(owner, a, false) {
			return
		}
	}
	if old, ok := b.nodes[p]; ok {
		if old.Type == fusefs.TypeDir && n.Type == fusefs.TypeDir {
			return
		}
		b.clash(owner, b.owner[p], fmt.Sprintf("generates %q, which %s generates too", p, b.owner[p]))
		return
	}
	b.nodes[p] = n
	b.owner[p] = owner
	b.owned[owner] = append(b.owned[owner], p)
}

// once adds a node shared by several generators (a bus's uevent file),
// unless it exists.
func (b *builder) once(p string, n *fusefs.Node) {
	if _, ok := b.nodes[p]; ok {
		return
	}
	b.put("", p, n)
}

// dir makes p a directory of owner's unless it already is one.
func (b *builder) dir(owner, p string) bool {
	for _, a := range ancestors(p) {
		if !b.mkdir(owner, a, false) {
			return false
		}
	}
	return b.mkdir(owner, p, true)
}

// mkdir makes p a directory unless it already is one; own records it as
// owner's (a device's own directory rather than a shared parent).
func (b *builder) mkdir(owner, p string, own bool) bool {
	if old, ok := b.nodes[p]; ok {
		if old.Type != fusefs.TypeDir {
			b.clash(owner, b.owner[p], fmt.Sprintf("needs directory %q, which %s generates as a %s", p, b.owner[p], old.Type))
			return false
		}
		return true
	}
	b.nodes[p] = &fusefs.Node{Type: fusefs.TypeDir, Mode: modeDir}
	b.owner[p] = owner
	if own {
		b.owned[owner] = append(b.owned[owner], p)
	}
	return true
}

// attr adds a sysfs attribute file.
func (b *builder) attr(owner, p, content string, mode uint32) {
	b.put(owner, p, &fusefs.Node{Type: fusefs.TypeFile, Mode: mode, Data: []byte(content)})
}

// link adds a symlink at p pointing at the tree path target, written
// relative to p's directory as the kernel writes sysfs links.
func (b *builder) link(owner, p, target string) {
	b.put(owner, p, &fusefs.Node{Type: fusefs.TypeSymlink, Target: rel(path.Dir(p), target)})
}

func hex(v uint64) string { return fmt.Sprintf("0x%x\n", v) }
func dec(v uint64) string { return utoa(v) + "\n" }
func sdec(v int) string   { return itoa(v) + "\n" }

// build generates everything; problems go to p.
func (s *Spec) build(p *problems) *builder {
	b := newBuilder(p)
	b.dir("", "sys")
	b.dir("", "dev")
	lay := s.layout(p)
	if len(p.list) > 0 {
		return b
	}
	daxs := s.daxInfos()
	pmems := s.pmemInfos()
	dimms := s.interleave(lay, p)
	b.lay = lay
	if lay.ndBus || len(dimms) > 0 {
		b.ndBus(s.nfit())
	}
	active := map[*dimmInfo]bool{}
	for _, r := range lay.regions {
		for _, m := range r.mappings {
			active[m.dimm] = true
		}
	}
	for _, d := range dimms {
		b.dimm(d, active[d])
	}
	bad := map[*region][]sectors{}
	for _, r := range lay.regions {
		bad[r] = lay.regionSectors(r)
		b.ndRegion(r, bad[r])
	}
	for i := range daxs {
		b.daxDevice(&daxs[i], lay.place[daxs[i].loc])
	}
	for i := range pmems {
		pl := lay.place[pmems[i].loc]
		b.pmemDevice(&pmems[i], pl, clip(bad[pl.region], pl.start-pl.region.start, pl.size))
	}
	for i := range s.Nodes {
		b.charSysfs(fmt.Sprintf("nodes[%d]", i), &s.Nodes[i])
	}
	b.overlay(s.Nodes)
	b.checkFaultPaths(s.Faults)
	return b
}

// overlay applies the declared nodes: each replaces whatever was generated
// at its path (a non-directory also drops everything generated below);
// then every declared node's parents must be directories.
func (b *builder) overlay(nodes []Node) {
	declared := map[string]string{}
	rawPaths := make([]string, 0, len(b.raw))
	for p := range b.raw {
		rawPaths = append(rawPaths, p)
	}
	sort.Strings(rawPaths)
	for i := range nodes {
		n := &nodes[i]
		loc := fmt.Sprintf("nodes[%d]", i)
		declared[n.Path] = loc
		for _, rawPath := range rawPaths {
			rawLoc := b.raw[rawPath]
			if rawPath == n.Path || (n.Type != fusefs.TypeDir && strings.HasPrefix(rawPath, n.Path+"/")) {
				b.p.add(loc+".path", "raw-replaced", fmt.Sprintf("%q replaces %q, the file that %s fills; declare one or the other", n.Path, rawPath, rawLoc))
			}
		}
		fn := n.fusefsNode()
		if old, ok := b.nodes[n.Path]; ok && (fn.Type != fusefs.TypeDir || old.Type != fusefs.TypeDir) {
			for k := range b.nodes {
				if strings.HasPrefix(k, n.Path+"/") {
					delete(b.nodes, k)
				}
			}
		}
		b.nodes[n.Path] = fn
		b.owner[n.Path] = loc
	}
	for i := range nodes {
		n := &nodes[i]
		loc := fmt.Sprintf("nodes[%d]", i)
		for _, a := range ancestors(n.Path) {
			old, ok := b.nodes[a]
			if !ok {
				b.nodes[a] = owned(a, &fusefs.Node{Type: fusefs.TypeDir, Mode: modeDir})
				b.owner[a] = loc
				continue
			}
			if old.Type != fusefs.TypeDir {
				by := "generated by " + b.owner[a]
				if d, ok := declared[a]; ok {
					by = "declared by " + d
				}
				b.p.add(loc+".path", "parent-not-dir", fmt.Sprintf("%q lies under %q, a %s %s; declare that path as a dir to build below it", n.Path, a, old.Type, by))
				break
			}
		}
	}
}

// checkFaultPaths requires a fault path without glob characters to name a
// node of the tree: a typo must not make a rule that never bites.
func (b *builder) checkFaultPaths(faults []Fault) {
	for i, f := range faults {
		if f.Path != "" && !isGlob(f.Path) {
			if _, err := faultTarget(f.Path, treeLookup(b.nodes)); err != nil {
				b.p.add(fmt.Sprintf("faults[%d].path", i), "fault-path-missing", err.Error())
			}
		}
	}
}

// faultTarget is the node an exact (glob-free) fault path names, through
// symlinks among its parents; an error when it names none.
func faultTarget(p string, lookup func(string) (fusefs.Node, bool)) (string, error) {
	real, err := resolve(p, lookup, false)
	if err != nil {
		return p, err
	}
	if _, ok := lookup(real); !ok {
		return p, fmt.Errorf("%q is not a node of the fixture (use a glob to match nodes added later)", p)
	}
	return real, nil
}

// defaultOwner is who owns what is declared at p without a uid or gid:
// root under sys/ and dev/, where the kernel owns everything; the user who
// mounts, that is this process's effective uid and gid, anywhere else.
func defaultOwner(p string) (uid, gid uint32) {
	if under(p, "sys") || under(p, "dev") {
		return 0, 0
	}
	return uint32(os.Geteuid()), uint32(os.Getegid())
}

// owned gives n, to be put at p, the owner defaultOwner names.
func owned(p string, n *fusefs.Node) *fusefs.Node {
	n.UID, n.GID = defaultOwner(p)
	return n
}

// fusefsNode converts a validated declared node.
func (n *Node) fusefsNode() *fusefs.Node {
	fn := owned(n.Path, &fusefs.Node{Type: n.Type, Mode: unixMode(n.Mode), Major: n.Major, Minor: n.Minor, Target: n.Target})
	if n.UID != nil {
		fn.UID = *n.UID
	}
	if n.GID != nil {
		fn.GID = *n.GID
	}
	if n.Type == fusefs.TypeFile {
		switch {
		case n.ContentBase64 != nil:
			fn.Data = append([]byte(nil), n.ContentBase64...)
		default:
			fn.Data = []byte(n.Content)
		}
		fn.Size = n.Size
	}
	return fn
}

// generatedBy lists the paths generated for the device at loc, sorted.
func (b *builder) generatedBy(loc string) []string {
	out := append([]string(nil), b.owned[loc]...)
	sort.Strings(out)
	return out
}
