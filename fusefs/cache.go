package fusefs

import (
	"context"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// What the kernel may keep, and how a node a rule watches (or every node,
// with NoCache) is kept out of it, is described once, in the package
// documentation (Kernel caching). This file holds the decisions; notify.go
// the invalidations that follow changes.

// kernelFeatures are the caching features the kernel offered at INIT, set
// by rawFS.Init before any other request is served.
type kernelFeatures struct {
	pageCache bool // AUTO_INVAL_DATA: file pages and listings may be cached
	noOpen    bool // KernelOpen, and the kernel supports no-open
	noOpendir bool // KernelOpen, and the kernel supports no-opendir
}

// uncached reports whether e must be served as if the kernel cached
// nothing of it: every call reaches the server.
func (s *Server) uncached(e *entry) bool {
	return s.opts.NoCache || e.rules.Load() != nil
}

// dirOpen decides how a directory opens: the kernel keeps the listings of
// a directory no rule watches (FOPEN_CACHE_DIR) until a change drops them.
// With no-opendir it caches every listing; cached says so.
func (s *Server) dirOpen(e *entry) (openFlags uint32, cached bool) {
	if s.kernel.pageCache && !s.uncached(e) {
		return fuse.FOPEN_CACHE_DIR, true
	}
	return 0, s.opts.KernelOpen
}

// refreshAttr answers a GETATTR that carries a file handle: the kernel
// refreshing a file's attributes inside read(2), lseek(2) or write(2),
// which with AUTO_INVAL_DATA it does before every read once the
// attributes have expired. It is not a stat: not counted, no getattr rule.
// For a node kept out of the caches (attribute timeout zero, so every read
// comes here first), the reply carries an mtime a few nanoseconds off the
// last one the kernel saw: AUTO_INVAL_DATA then drops the file's pages
// with the reply applied, so the read that follows reaches the server and
// its rules even through a descriptor that reads via the page cache (one
// opened before the rule, or any with KernelOpen). A stat always gets the
// true mtime. Dropping the pages with a notification instead would make
// the kernel discard the reply, and with it a changed size.
//
// It reports false when ino is not a live regular file; the request then
// goes the ordinary way.
func (s *Server) refreshAttr(ino uint64, out *fuse.AttrOut) bool {
	s.idx.mu.RLock()
	defer s.idx.mu.RUnlock()
	e := s.idx.byIno[ino]
	if e == nil || e.typ != TypeFile {
		return false
	}
	fillAttr(e, &out.Attr)
	if s.uncached(e) {
		m := e.mtime.Add(time.Duration(1 + e.nudge.Add(1)%1000))
		out.Mtime, out.Mtimensec = uint64(m.Unix()), uint32(m.Nanosecond())
	}
	out.SetTimeout(s.attrTimeout(e))
	return true
}

// dropListing empties the kernel's listing cache of a directory kept out
// of the caches, when a listing went to a descriptor whose listings the
// kernel caches (one opened before the rule, or any with KernelOpen). A
// cached listing starts with a GETATTR (AUTO_INVAL_DATA), which comes here
// before the reply, so that the listing reaches the server.
func (s *Server) dropListing(e *entry) {
	if e.typ == TypeDir && s.uncached(e) && e.listed.Swap(false) && s.live.Load() {
		s.logNotify("inode", e.path, syscall.Errno(s.fuse.InodeNotify(e.ino, 0, 0)))
	}
}

// failedRead remembers the last read of a file through the page cache
// that a rule failed. The kernel sends such a read twice — as readahead,
// then once more for the page the caller waits on — and the second is the
// same system call: it gets the same answer, and is neither counted nor
// shown to the rules again.
type failedRead struct {
	p atomic.Pointer[readFailure]
}

type readFailure struct {
	pid      uint32
	off, end int64
	errno    syscall.Errno
}

func (f *failedRead) remember(ctx context.Context, off int64, n int, errno syscall.Errno) {
	if c, ok := fuse.FromContext(ctx); ok {
		f.p.Store(&readFailure{pid: c.Pid, off: off, end: off + int64(n), errno: errno})
	}
}

// retried returns the errno of the failed read that this one repeats, once,
// or 0.
func (f *failedRead) retried(ctx context.Context, off int64) syscall.Errno {
	if f.p.Load() == nil {
		return 0
	}
	r := f.p.Swap(nil)
	c, ok := fuse.FromContext(ctx)
	if r == nil || !ok || c.Pid != r.pid || off < r.off || off >= r.end {
		return 0
	}
	return r.errno
}
