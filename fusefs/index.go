package fusefs

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// entry is the server's live copy of one declared node. Fields other than
// the atomics are guarded by index.mu.
type entry struct {
	path   string // "." for the root
	name   string
	parent *entry
	typ    NodeType
	ino    uint64

	perm, uid, gid uint32
	mtime          time.Time
	target         string
	major, minor   uint32
	data           content  // regular files
	kids           []*entry // directories, sorted by name
	ndirs          int      // how many kids are directories, for st_nlink
	removed        bool

	calls *opCounts
	rules atomic.Pointer[nodeRules]
	// changed is set once the server changes a file's content at
	// runtime (see cache.go).
	changed atomic.Bool
	// listed is set when a listing of a directory went to a descriptor
	// whose listings the kernel caches (see cache.go).
	listed atomic.Bool
	// nudge makes the mtime of each refresh of a file's attributes
	// differ from the last one, and failed remembers a failed read the
	// kernel will send again (see cache.go).
	nudge  atomic.Uint32
	failed failedRead
}

// index is the live tree: what the server answers from, changed at runtime
// by Set, Remove, SetData, SetTarget and by writes through the mount.
type index struct {
	mu      sync.RWMutex
	root    *entry
	nextIno uint64
	born    time.Time // the mtime of nodes that declare none
	counts  *counters
	rules   *atomic.Pointer[ruleSet]
}

func newIndex(counts *counters, rules *atomic.Pointer[ruleSet]) *index {
	x := &index{nextIno: 2, born: time.Now(), counts: counts, rules: rules}
	x.root = &entry{path: ".", typ: TypeDir, ino: 1, perm: 0755, mtime: x.born, calls: counts.of(".")}
	return x
}

// child finds a directory's child by name (binary search; no allocation).
func (d *entry) child(name string) *entry {
	i := sort.Search(len(d.kids), func(i int) bool { return d.kids[i].name >= name })
	if i < len(d.kids) && d.kids[i].name == name {
		return d.kids[i]
	}
	return nil
}

func (d *entry) insert(c *entry) {
	i := sort.Search(len(d.kids), func(i int) bool { return d.kids[i].name >= c.name })
	d.kids = append(d.kids, nil)
	copy(d.kids[i+1:], d.kids[i:])
	d.kids[i] = c
	if c.typ == TypeDir {
		d.ndirs++
	}
}

func (d *entry) drop(c *entry) {
	i := sort.Search(len(d.kids), func(i int) bool { return d.kids[i].name >= c.name })
	if i < len(d.kids) && d.kids[i] == c {
		d.kids = append(d.kids[:i], d.kids[i+1:]...)
		if c.typ == TypeDir {
			d.ndirs--
		}
	}
}

// find resolves a clean path ("." is the root). Callers hold mu.
func (x *index) find(p string) *entry {
	e := x.root
	if p == "." {
		return e
	}
	for p != "" && e != nil {
		name, rest, _ := strings.Cut(p, "/")
		if e.typ != TypeDir {
			return nil
		}
		e, p = e.child(name), rest
	}
	return e
}

// walk calls fn for every live entry, parents before children.
func (x *index) walk(fn func(*entry)) {
	var rec func(*entry)
	rec = func(e *entry) {
		fn(e)
		for _, k := range e.kids {
			rec(k)
		}
	}
	rec(x.root)
}

func (x *index) newEntry(parent *entry, name string, n *Node) *entry {
	p := name
	if parent != x.root {
		p = parent.path + "/" + name
	}
	e := &entry{path: p, name: name, parent: parent, typ: n.Type, ino: x.nextIno, calls: x.counts.of(p)}
	x.nextIno++
	e.assign(n, x.born)
	e.rules.Store(x.rules.Load().match(p))
	parent.insert(e)
	return e
}

// assign takes the declared attributes of n (a node of e's type).
func (e *entry) assign(n *Node, born time.Time) {
	e.perm, e.uid, e.gid = n.perm(), n.UID, n.GID
	e.mtime = n.Mtime
	if e.mtime.IsZero() {
		e.mtime = born
	}
	e.target, e.major, e.minor = n.Target, n.Major, n.Minor
	if n.Type == TypeFile {
		e.data = newContent(n.Data, n.Size)
	}
}

// setResult says what a set changed, so the caller can tell the kernel.
type setResult struct {
	top     string // topmost path that now names a new entry; "" if none
	inPlace bool   // the node existed with the same type and was updated
}

// set adds or replaces the node at p, creating missing parents as default
// directories. A node of the same type is updated in place (a directory
// keeps its children, a file takes the new Data and Size); a node of another
// type, or a device node with other numbers (see renumbered), replaces the
// old one and its subtree. Callers hold mu and validated
// p and n.
func (x *index) set(p string, n *Node) (setResult, error) {
	if p == "." {
		x.root.assign(n, x.born)
		return setResult{inPlace: true}, nil
	}
	var res setResult
	d := x.root
	rest := p
	for {
		name, more, deeper := strings.Cut(rest, "/")
		c := d.child(name)
		if !deeper {
			switch {
			case c != nil && c.typ == n.Type && !renumbered(c, n):
				c.assign(n, x.born)
				c.changed.Store(c.typ == TypeFile)
				res.inPlace = true
				return res, nil
			case c != nil:
				x.remove(c)
			}
			c = x.newEntry(d, name, n)
			if res.top == "" {
				res.top = c.path
			}
			return res, nil
		}
		if c == nil {
			c = x.newEntry(d, name, &Node{Type: TypeDir})
			if res.top == "" {
				res.top = c.path
			}
		} else if c.typ != TypeDir {
			return res, invalid("set", p, "parent %s is a %s, not a dir", c.path, c.typ)
		}
		d, rest = c, more
	}
}

// remove detaches e and its subtree. Callers hold mu.
func (x *index) remove(e *entry) {
	e.parent.drop(e)
	var rec func(*entry)
	rec = func(e *entry) {
		e.removed = true
		for _, k := range e.kids {
			rec(k)
		}
	}
	rec(e)
}

// node is the declaration e serves now.
func (e *entry) node() Node {
	n := Node{Type: e.typ, Mode: e.perm, UID: e.uid, GID: e.gid, Mtime: e.mtime,
		Target: e.target, Major: e.major, Minor: e.minor}
	if n.Mode == 0 {
		n.Mode = NoPerm
	}
	if e.typ == TypeFile {
		n.Data = e.data.bytes()
		n.Size = e.data.size
	}
	return n
}

// renumbered reports whether n gives device node c other numbers. The
// kernel takes a node's st_rdev only when it first meets the inode and
// never refreshes it, so such a node is replaced (a new inode) rather than
// updated in place.
func renumbered(c *entry, n *Node) bool {
	return (c.typ == TypeCharDev || c.typ == TypeBlockDev) && (c.major != n.Major || c.minor != n.Minor)
}
