package fusefs

import (
	"context"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// nodeBase is what every node kind shares: the server and the declared
// node it serves, attributes, permission checks and statfs.
type nodeBase struct {
	srv *Server
	e   *entry
}

var (
	_ = (fs.NodeGetattrer)((*nodeBase)(nil))
	_ = (fs.NodeSetattrer)((*nodeBase)(nil))
	_ = (fs.NodeAccesser)((*nodeBase)(nil))
	_ = (fs.NodeStatfser)((*nodeBase)(nil))
)

// fillAttr writes e's attributes. Callers hold the index lock.
func fillAttr(e *entry, a *fuse.Attr) {
	a.Ino = e.ino
	a.Mode = typeMode(e.typ) | e.perm
	a.Uid, a.Gid = e.uid, e.gid
	a.Nlink = 1
	a.Blksize = 4096
	switch e.typ {
	case TypeDir:
		a.Nlink = 2 + uint32(e.ndirs)
	case TypeFile:
		a.Size = uint64(e.data.size)
		// Only stored bytes take blocks: a 1 TiB ZeroFile is sparse.
		a.Blocks = uint64((e.data.stored()+4095)/4096) * 8
	case TypeSymlink:
		a.Size = uint64(len(e.target))
	case TypeCharDev, TypeBlockDev:
		a.Rdev = uint32(unix.Mkdev(e.major, e.minor))
	}
	if e.removed {
		a.Nlink = 0
	}
	sec, nsec := uint64(e.mtime.Unix()), uint32(e.mtime.Nanosecond())
	a.Atime, a.Mtime, a.Ctime = sec, sec, sec
	a.Atimensec, a.Mtimensec, a.Ctimensec = nsec, nsec, nsec
}

// attrTimeout is how long the kernel may keep e's attributes: zero for a
// node kept out of the caches (a rule watches it; see uncached), so every
// call reaches the rule.
func (s *Server) attrTimeout(e *entry) time.Duration {
	if s.uncached(e) {
		return 0
	}
	return s.opts.AttrTimeout
}

func (s *Server) entryTimeout(e *entry) time.Duration {
	if s.uncached(e) {
		return 0
	}
	return s.opts.EntryTimeout
}

func (b *nodeBase) Getattr(ctx context.Context, _ fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if b.e.typ == TypeFile && b.srv.isRefresh(ctx) {
		b.srv.refreshAttr(b.e, out)
		return 0
	}
	if errno, _ := b.srv.check(b.e, OpGetattr); errno != 0 {
		return errno
	}
	b.srv.dropListing(b.e)
	b.srv.idx.mu.RLock()
	fillAttr(b.e, &out.Attr)
	b.srv.idx.mu.RUnlock()
	out.SetTimeout(b.srv.attrTimeout(b.e))
	return 0
}

// Setattr serves truncate, chmod, chown and utimes.
func (b *nodeBase) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if errno, _ := b.srv.check(b.e, OpSetattr); errno != 0 {
		return errno
	}
	e := b.e
	x := b.srv.idx
	x.mu.Lock()
	defer x.mu.Unlock()
	if size, ok := in.GetSize(); ok {
		switch {
		case e.typ == TypeDir:
			return syscall.EISDIR
		case e.typ != TypeFile:
			return syscall.EINVAL
		case size > 1<<62:
			return syscall.EFBIG
		case f == nil && !allowed(ctx, e, wantWrite):
			// Without a handle this is truncate(2) on a path; with
			// one, the kernel checked the descriptor is writable.
			return syscall.EACCES
		}
	}
	if _, ok := in.GetMode(); ok && !owner(ctx, e) {
		return syscall.EPERM
	}
	uid, uidOK := in.GetUID()
	gid, gidOK := in.GetGID()
	if (uidOK && uid != e.uid || gidOK && gid != e.gid) && !isRoot(ctx) {
		return syscall.EPERM
	}
	mtime, mtimeOK := in.GetMTime()
	if mtimeOK && !owner(ctx, e) && (in.Valid&fuse.FATTR_MTIME_NOW == 0 || !allowed(ctx, e, wantWrite)) {
		return syscall.EPERM
	}

	if size, ok := in.GetSize(); ok {
		e.data.truncate(int64(size))
	}
	if mode, ok := in.GetMode(); ok {
		e.perm = mode & 07777
	}
	if uidOK {
		e.uid = uid
	}
	if gidOK {
		e.gid = gid
	}
	if mtimeOK {
		e.mtime = mtime
	}
	fillAttr(e, &out.Attr)
	out.SetTimeout(b.srv.attrTimeout(e))
	return 0
}

func (b *nodeBase) Access(ctx context.Context, mask uint32) syscall.Errno {
	b.srv.idx.mu.RLock()
	ok := allowed(ctx, b.e, mask&7)
	b.srv.idx.mu.RUnlock()
	if !ok {
		return syscall.EACCES
	}
	return 0
}

func (b *nodeBase) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	out.Bsize = 4096
	out.Frsize = 4096
	out.NameLen = maxNameLen
	return 0
}
