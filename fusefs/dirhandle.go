package fusefs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// dirHandle is an open directory. A listing is a snapshot taken when it
// starts (first read after opendir or a rewind); that start is what the
// readdir counter counts and what a readdir rule fails. A handle asked to
// go on at an offset it has not reached (with no-opendir every request
// gets a fresh handle) takes a snapshot without counting.
type dirHandle struct {
	d       *dirNode
	cached  bool // the kernel keeps what this handle lists (cache.go)
	list    []fuse.DirEntry
	idx     int
	started bool
}

var (
	_ = (fs.FileReaddirenter)((*dirHandle)(nil))
	_ = (fs.FileSeekdirer)((*dirHandle)(nil))
	_ = (fs.FileLookuper)((*dirHandle)(nil))
	_ = (fs.FileFsyncdirer)((*dirHandle)(nil))
	_ = (fs.FileReleasedirer)((*dirHandle)(nil))
)

// go-fuse serializes calls on one handle, so dirHandle needs no lock.

func (h *dirHandle) start() syscall.Errno {
	if errno, _ := h.d.srv.check(h.d.e, OpReaddir); errno != 0 {
		return errno
	}
	h.snapshot()
	return 0
}

func (h *dirHandle) snapshot() {
	s, e := h.d.srv, h.d.e
	if h.cached {
		e.listed.Store(true)
	}
	s.idx.mu.RLock()
	up := e.ino
	if e.parent != nil {
		up = e.parent.ino
	}
	h.list = make([]fuse.DirEntry, 0, len(e.kids)+2)
	h.list = append(h.list,
		fuse.DirEntry{Name: ".", Ino: e.ino, Mode: syscall.S_IFDIR},
		fuse.DirEntry{Name: "..", Ino: up, Mode: syscall.S_IFDIR})
	if !e.removed {
		for _, k := range e.kids {
			h.list = append(h.list, fuse.DirEntry{Name: k.name, Ino: k.ino, Mode: typeMode(k.typ)})
		}
	}
	s.idx.mu.RUnlock()
	h.idx, h.started = 0, true
}

func (h *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	if !h.started {
		if errno := h.start(); errno != 0 {
			return nil, errno
		}
	}
	if h.idx >= len(h.list) {
		return nil, 0
	}
	de := h.list[h.idx]
	h.idx++
	de.Off = uint64(h.idx)
	return &de, 0
}

func (h *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	if off == 0 {
		h.started = false
		return 0
	}
	if !h.started {
		h.snapshot()
	}
	if off > uint64(len(h.list)) {
		return syscall.EINVAL
	}
	h.idx = int(off)
	return 0
}

// Lookup serves READDIRPLUS, which hands the kernel an entry for each name
// listed. It is not a LOOKUP: it is not counted and no rule applies. A node
// a rule watches is left out, so its first real access is a LOOKUP that
// reaches the rule.
func (h *dirHandle) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	s := h.d.srv
	s.idx.mu.RLock()
	c := h.d.e.child(name)
	s.idx.mu.RUnlock()
	if c == nil || s.uncached(c) {
		return nil, syscall.ENOENT
	}
	return s.entryOut(ctx, &h.d.Inode, c, out), 0
}

func (h *dirHandle) Fsyncdir(ctx context.Context, flags uint32) syscall.Errno {
	errno, _ := h.d.srv.check(h.d.e, OpFsync)
	return errno
}

func (h *dirHandle) Releasedir(ctx context.Context, releaseFlags uint32) {}
