package fusefs

import (
	"context"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// dirNode serves a directory: lookups, listings and refusals of every
// change to the namespace (the tree changes only through the Server).
type dirNode struct {
	fs.Inode
	nodeBase
}

var (
	_ = (fs.InodeEmbedder)((*dirNode)(nil))
	_ = (fs.NodeLookuper)((*dirNode)(nil))
	_ = (fs.NodeOpendirHandler)((*dirNode)(nil))
	_ = (fs.NodeCreater)((*dirNode)(nil))
	_ = (fs.NodeMkdirer)((*dirNode)(nil))
	_ = (fs.NodeMknoder)((*dirNode)(nil))
	_ = (fs.NodeSymlinker)((*dirNode)(nil))
	_ = (fs.NodeLinker)((*dirNode)(nil))
	_ = (fs.NodeUnlinker)((*dirNode)(nil))
	_ = (fs.NodeRmdirer)((*dirNode)(nil))
	_ = (fs.NodeRenamer)((*dirNode)(nil))
)

// noNegativeCache, set as the entry timeout of a failed lookup, makes the
// go-fuse bridge return the error as it is instead of turning ENOENT into a
// cached negative entry (see rawBridge.Lookup).
const noNegativeCache = time.Nanosecond

func (d *dirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	s := d.srv
	s.idx.mu.RLock()
	var c *entry
	if !d.e.removed {
		c = d.e.child(name)
	}
	s.idx.mu.RUnlock()
	if c == nil {
		return nil, s.lookupMissing(d.e, name, out)
	}
	if errno, _ := s.check(c, OpLookup); errno != 0 {
		out.SetEntryTimeout(noNegativeCache)
		return nil, errno
	}
	return s.entryOut(ctx, &d.Inode, c, out), 0
}

// entryOut fills out for child c of parent and returns the inode to hand
// to the kernel.
func (s *Server) entryOut(ctx context.Context, parent *fs.Inode, c *entry, out *fuse.EntryOut) *fs.Inode {
	s.idx.mu.RLock()
	fillAttr(c, &out.Attr)
	s.idx.mu.RUnlock()
	out.SetEntryTimeout(s.entryTimeout(c))
	out.SetAttrTimeout(s.attrTimeout(c))
	ino := c.ino
	nr := c.rules.Load()
	switch {
	case c.typ == TypeSymlink && s.symlinkCache && nr != nil && nr.readlink:
		// The kernel keeps a symlink's target in the inode's page
		// cache, and invalidating it from inside READLINK would
		// deadlock. A fresh inode per lookup has an empty cache, so
		// every path walk reaches the readlink rule.
		ino = s.freshIno.Add(1)
	case c.typ == TypeFile && s.kernel.noOpen && s.uncached(c) && (nr == nil || len(nr.byOp[OpLookup]) == 0):
		// With no-open, a fresh inode per lookup gives each open of
		// a file kept out of the caches pages and attributes of its
		// own, so no other descriptor's calls race its reads (see
		// cache.go). A lookup rule keeps the inode: the kernel would
		// look a name up twice when a lookup returns a new inode.
		ino = s.freshIno.Add(1)
	}
	return parent.NewInode(ctx, s.newNode(c), fs.StableAttr{Mode: typeMode(c.typ), Ino: ino})
}

// lookupMissing answers a lookup of a name that is not declared: it is
// counted, a lookup rule on the path applies, and the kernel may cache the
// miss only if no rule watches the path.
func (s *Server) lookupMissing(parent *entry, name string, out *fuse.EntryOut) syscall.Errno {
	p := name
	if parent.path != "." {
		p = parent.path + "/" + name
	}
	s.counts.of(p)[OpLookup].Add(1)
	if s.opts.NegativeTimeout > 0 {
		// Remember before looking at the rules: a rule installed
		// meanwhile then finds the name and drops the kernel's entry.
		s.neg.add(p)
	}
	if s.anyRules.Load() {
		if nr := s.rules.Load().match(p); nr != nil {
			out.SetEntryTimeout(noNegativeCache)
			if errno, _ := s.apply(nr.byOp[OpLookup]); errno != 0 {
				return errno
			}
		}
	}
	return syscall.ENOENT
}

// OpendirHandle serves OPENDIR, and with no-opendir the handle rawFS opens
// for one listing request.
func (d *dirNode) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	s := d.srv
	openFlags, cached := s.dirOpen(d.e)
	h := &dirHandle{d: d, cached: cached}
	if s.opts.KernelOpen {
		return h, openFlags, 0 // not an open the client made (see Options)
	}
	if errno, _ := s.check(d.e, OpOpen); errno != 0 {
		return nil, 0, errno
	}
	s.idx.mu.RLock()
	ok := allowed(ctx, d.e, wantRead)
	s.idx.mu.RUnlock()
	if !ok {
		return nil, 0, syscall.EACCES
	}
	return h, openFlags, 0
}

// The namespace is declared: it changes through the Server only. The
// errors are the ones the VFS gives for a directory without the operation
// (EACCES for create, EPERM for the rest), as sysfs does.

func (d *dirNode) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EACCES
}

func (d *dirNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

func (d *dirNode) Mknod(ctx context.Context, name string, mode uint32, dev uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

func (d *dirNode) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

func (d *dirNode) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

func (d *dirNode) Unlink(ctx context.Context, name string) syscall.Errno { return syscall.EPERM }

func (d *dirNode) Rmdir(ctx context.Context, name string) syscall.Errno { return syscall.EPERM }

func (d *dirNode) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	return syscall.EPERM
}

// newNode makes the go-fuse node that serves e.
func (s *Server) newNode(e *entry) fs.InodeEmbedder {
	b := nodeBase{srv: s, e: e}
	switch e.typ {
	case TypeDir:
		return &dirNode{nodeBase: b}
	case TypeFile:
		return &fileNode{nodeBase: b}
	case TypeSymlink:
		return &linkNode{nodeBase: b}
	}
	return &specialNode{nodeBase: b}
}
